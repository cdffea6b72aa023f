"""Issue 16 §1 in Chromium: the campaign wizard against a real server.

From the campaigns list to /campaigns/new prefilled with ?markets=EU&release=…; the live count agrees
with the API and follows the filter; the dry run names the markets lacking an approval; "Create and
start" is refused with those markets and leaves no draft; once an approval exists it starts, forced
with the consent rule "required", both kept on the campaign.
Screenshot: out/screenshots/campaign_new.png.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.sync_api import expect

from evplatform.store import open_store
from evplatform.store import releases as rdb
from evplatform.workspace import load_workspace
from web.conftest import SCREENSHOTS, Server

RELEASE = "cockpit-9.1.0"  # its own ECU: the session's running hub-os campaign does not block it
WAIT = 60_000


def _preview(server: Server, target: dict[str, Any]) -> int:
    response = httpx.post(server.url + "/api/campaigns/preview", json={"target": target, "release_id": RELEASE},
                          headers={"Authorization": f"Bearer {server.tokens['viewer']}"}, timeout=60)
    assert response.status_code == 200, response.text
    return int(response.json()["vehicles"])


def _campaigns_of_release(server: Server) -> list[dict[str, Any]]:
    return list(server.api(f"/api/campaigns?release_id={RELEASE}")["campaigns"])


def test_wizard_live_count_dry_run_refusal_then_start(page: Any, server: Server) -> None:
    component = load_workspace(None).software["cockpit"]
    with open_store(server.database) as store:
        rdb.save_release(store, rdb.ReleaseRecord(RELEASE, "cockpit", component.ecu, component.hardware_id, "9.1.0",
                                                  component.compatible_text, created_at=datetime.now(UTC)))
    page.goto(server.url + "/campaigns")
    page.evaluate("t => window.localStorage.setItem('evplatform-token', t)", server.tokens["release_manager"])
    page.get_by_role("link", name="New campaign").click()
    page.wait_for_url("**/campaigns/new")
    page.goto(f"{server.url}/campaigns/new?markets=EU&release={RELEASE}")
    count = page.locator("#wiz-count")
    expected = _preview(server, {"markets": ["EU"]})
    expect(count).to_have_attribute("data-count", str(expected), timeout=WAIT)
    assert f"{expected:,}" in count.inner_text()
    assert page.locator("#wiz-markets option[value=EU]").evaluate("o => o.selected")

    page.select_option("#wiz-models", ["su7"])  # the count follows the filter (debounced)
    narrower = _preview(server, {"markets": ["EU"], "models": ["su7"]})
    assert narrower < expected
    expect(count).to_have_attribute("data-count", str(narrower), timeout=WAIT)
    expect(page.locator("#wiz-breakdown")).to_contain_text("su7", timeout=WAIT)
    page.select_option("#wiz-models", [])
    expect(count).to_have_attribute("data-count", str(expected), timeout=WAIT)

    page.get_by_role("button", name="Dry run").click()
    blockers = page.locator("#wiz-blockers")
    expect(blockers).to_contain_text("no approval record for market(s)", timeout=WAIT)
    for market in ("DE", "FR"):
        expect(blockers).to_contain_text(market)
    expect(page.locator("#wiz-result")).to_contain_text("Left out, by reason")

    page.get_by_role("button", name="Create and start").click()
    refusal = page.locator("#wiz-refusal")
    expect(refusal).to_contain_text("no approval record for market(s) DE", timeout=WAIT)
    expect(refusal).to_contain_text("nothing was created")
    assert _campaigns_of_release(server) == []  # no draft left behind

    with open_store(server.database) as store:
        rdb.save_approval(store, rdb.ApprovalRecord(RELEASE, "EU", "KBA", "R156-9", "rita", datetime.now(UTC)))
    assert page.locator("#wiz-consent-auto").is_checked()  # the default: consent follows forced/soft
    page.locator("#wiz-forced").check()
    page.locator("#wiz-consent-required").check()  # a forced fix kept to consenting owners
    page.get_by_role("button", name="Create and start").click()
    expect(page.locator("#wiz-created")).to_contain_text("running", timeout=WAIT)
    [made] = _campaigns_of_release(server)
    assert made["state"] == "running" and made["targets"] > 0
    shown = server.api(f"/api/campaigns/{made['id']}")
    assert shown["forced"] is True and shown["consent"] == "required"
    page.screenshot(path=str(SCREENSHOTS / "campaign_new.png"), full_page=True)


def test_wizard_prefills_from_a_template(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/campaigns/new?template={server.running_campaign}")
    assert page.locator("#wiz-release").input_value() == "hub-os-1.8.0"
    assert page.locator("#wiz-markets option[value=CN]").evaluate("o => o.selected")
    assert page.locator("#wiz-waves tbody tr").count() == 2
    assert page.locator(".wave-share").nth(0).input_value() == "10"
    assert page.locator("#wiz-consent-auto").is_checked() and page.locator("input[name=consent]").count() == 3
    expect(page.locator("#wiz-count")).to_contain_text("Sign in")  # no token: no count, no error
