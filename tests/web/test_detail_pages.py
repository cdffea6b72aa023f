"""The vehicle and release detail pages in Chromium: history after a campaign, approvals, "too young"."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from web.conftest import SCREENSHOTS, Server

pytestmark = pytest.mark.browser


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _vehicle_with_history(server: Server) -> tuple[str, list[dict[str, Any]]]:
    for v in server.api("/api/fleet/vehicles?limit=100")["vehicles"]:
        history = server.api(f"/api/fleet/vehicles/{v['vin']}/history")["history"]
        if any(e["action"] == "reported" for e in history):
            return str(v["vin"]), history
    raise AssertionError("no demo vehicle has a reported update")


def test_vehicle_page_shows_the_history_after_a_campaign(page: Any, server: Server) -> None:
    vin, history = _vehicle_with_history(server)
    page.goto(f"{server.url}/fleet/{vin}?back=model%3Dsu7%26market%3DCN%26page%3D1")
    rows = page.locator("#history tbody tr")
    assert rows.count() == len(history)
    report = next(e for e in history if e["action"] == "reported")
    row = page.locator(f'#history tr[data-action="reported"][data-campaign="{report["campaign_id"]}"]')
    assert report["outcome"] in row.inner_text()
    assert row.locator("a", has_text="record").count() == 1
    assert page.locator("#back-to-list").get_attribute("href") == "/fleet?model=su7&market=CN&page=1"
    assert page.locator("#ecus tbody tr").count() >= 1
    assert " %" in page.locator('#telemetry-latest tr[data-kind="soc"]').inner_text()
    assert " km" in page.locator('#telemetry-latest tr[data-kind="odometer"]').inner_text()
    shot(page, "vehicle")
    for link in ("#records-csv", "#history-csv"):
        href = page.locator(link).get_attribute("href")
        response = httpx.get(server.url + href, timeout=30)
        assert response.headers["content-type"] == "text/csv; charset=utf-8", link
        assert response.text.startswith("vin," if link == "#records-csv" else "at,action,"), link
    page.click("#back-to-list")
    page.wait_for_load_state()
    assert page.url.endswith("/fleet?model=su7&market=CN&page=1")


def test_release_page_with_approvals_and_too_young(page: Any, server: Server) -> None:
    page.goto(server.url + "/releases")
    page.click('#release-list a[href="/releases/hub-os-1.8.0"]')
    page.wait_for_load_state()
    approval = page.locator('#approvals tr[data-market="CN"]').inner_text()
    assert all(text in approval for text in ("MIIT", "GB44496-1", "rita"))
    assert page.locator("#crash-free").inner_text() == "too young"  # created minutes ago by the fixture
    assert page.locator(f'#campaigns a[href="/campaigns/{server.running_campaign}"]').count() == 1
    versions = server.api("/api/releases/hub-os-1.8.0")["fleet_versions"]
    assert page.locator("#fleet-versions tbody tr").count() == len(versions)
    shot(page, "release")
    page.goto(server.url + "/releases/hub-os-1.7.0")
    assert page.locator("#crash-free").inner_text().endswith("%")  # weeks old in the demo: a real figure
    assert page.locator("#stability-over-time tbody tr").count() >= 7
