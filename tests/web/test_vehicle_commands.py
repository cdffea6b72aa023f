"""The vehicle page's Commands section in Chromium: a command sent through the API is listed; a
viewer sees no form; a release manager sends one through the form (no broker: recorded only)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from evplatform.fleet.mqtt_commands import ACTIONS
from web.conftest import SCREENSHOTS, Server

pytestmark = pytest.mark.browser


def _sign_in(page: Any, server: Server, token: str, path: str) -> None:
    page.goto(server.url + "/signin")
    page.evaluate("t => window.localStorage.setItem('evplatform-token', t)", token)
    page.goto(server.url + path)


def _send(server: Server, vin: str, action: str) -> dict[str, Any]:
    response = httpx.post(f"{server.url}/api/fleet/vehicles/{vin}/commands", json={"action": action, "ttl_s": 600},
                          headers={"Authorization": f"Bearer {server.tokens['release_manager']}"}, timeout=30)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _vin(server: Server, index: int) -> str:
    return str(server.api("/api/fleet/vehicles?limit=20")["vehicles"][index]["vin"])


def test_a_viewer_sees_the_commands_and_no_form(page: Any, server: Server) -> None:
    vin = _vin(server, 3)
    sent = _send(server, vin, "lock")
    _sign_in(page, server, server.tokens["viewer"], f"/fleet/{vin}")
    row = page.locator(f'#commands-table tr[data-command="{sent["id"]}"]')
    row.wait_for()
    text = row.inner_text()
    assert all(part in text for part in ("lock", "pending", "release_manager-ann", "UTC"))
    assert sent["issued_at"][:16].replace("T", " ") in text  # the server's time, shown in UTC
    assert page.locator("#send-command").is_hidden()
    page.locator("#commands").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "vehicle-commands.png"), full_page=True)
    csv = httpx.get(f"{server.url}/api/fleet/vehicles/{vin}/commands?format=csv",
                    headers={"Authorization": f"Bearer {server.tokens['viewer']}"}, timeout=30)
    assert csv.headers["content-type"] == "text/csv; charset=utf-8", csv.text
    assert csv.text.startswith("id,action,state,") and sent["id"] in csv.text


def test_signed_out_the_commands_stay_hidden(page: Any, server: Server) -> None:
    vin = _vin(server, 4)
    _send(server, vin, "upload_logs")
    page.goto(f"{server.url}/fleet/{vin}")
    page.wait_for_load_state("load")
    assert "upload_logs" not in page.locator("#commands-table").inner_text()
    assert page.locator("#send-command").is_hidden()


def test_a_release_manager_sends_a_command_from_the_page(page: Any, server: Server) -> None:
    vin = _vin(server, 5)
    _sign_in(page, server, server.tokens["release_manager"], f"/fleet/{vin}")
    page.locator("#send-command").wait_for()
    options = page.locator("#command-action option").all_inner_texts()
    assert options == list(ACTIONS)
    page.select_option("#command-action", "precondition_cabin")
    page.click('#send-command button[type="submit"]')
    page.locator("#command-sent", has_text="recorded only").wait_for()
    page.locator("#commands-table td", has_text="precondition_cabin").wait_for()
    listed = httpx.get(f"{server.url}/api/fleet/vehicles/{vin}/commands",
                       headers={"Authorization": f"Bearer {server.tokens['viewer']}"}, timeout=30).json()
    assert [c["action"] for c in listed["commands"]] == ["precondition_cabin"]
    page.fill("#command-ttl", "100000")  # beyond the API's bound: the refusal is shown
    page.click('#send-command button[type="submit"]')
    page.locator("#command-sent", has_text="Refused: 422").wait_for()
