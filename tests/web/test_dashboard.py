"""Click through every dashboard page in Chromium and check the numbers against the API and the database."""

from __future__ import annotations

import re
from typing import Any

import pytest

from evplatform.fleet import report
from evplatform.store import audit_log, open_store
from evplatform.store.offers import mark_offered
from evplatform.store.schema import CampaignVehicle, Vehicle
from web.conftest import SCREENSHOTS, VEHICLES, Server

pytestmark = pytest.mark.browser


def money(value: float) -> str:
    return f"{value:,.0f}"


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_home_shows_the_fleet_and_campaigns(page: Any, server: Server) -> None:
    page.goto(server.url + "/")
    assert page.locator("#tile-vehicles").inner_text() == money(VEHICLES)
    platform = server.api("/api/platform")
    assert page.locator("#tile-models").inner_text() == str(len(platform["models"]))
    # the demo's three campaigns, and any a browser test before this one created on the shared server
    campaigns = server.api("/api/campaigns")["campaigns"]
    assert len(campaigns) >= 3
    assert page.locator("#tile-campaigns").inner_text() == str(len(campaigns))
    rows = page.locator("#home-campaigns tbody tr")
    assert rows.count() == len(campaigns)
    assert any("halted" in text for text in rows.all_inner_texts())
    shot(page, "home")


def test_navigation_reaches_every_page(page: Any, server: Server) -> None:
    page.goto(server.url + "/")
    for label, heading in (("Platform", "Platform"), ("Compliance", "Compliance"), ("Simulation", "Simulation"),
                           ("Campaigns", "Campaigns"), ("Releases", "Releases"), ("Fleet", "Fleet"),
                           ("Insights", "Insights"), ("Overview", "Overview")):
        page.click(f"nav >> text={label}")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == heading
        assert page.locator("nav a.active").inner_text() == label


def test_platform_matrix_and_feature_tree(page: Any, server: Server) -> None:
    page.goto(server.url + "/platform")
    models = server.api("/api/models")
    trims = [t for m in models["models"] for t in m["trims"]]
    assert page.locator("#trim-matrix tbody tr").count() == len(trims)
    for trim in trims:
        row = page.locator(f'#trim-matrix tr[data-trim="{trim["key"]}"]')
        assert row.locator(".unit-cost").inner_text() == money(trim["unit_cost"])
    kpi = server.api("/api/kpi")
    assert page.locator("#kpi-part-share").inner_text() == f"{100 * kpi['reuse']['part_share']:.1f} %"
    features = server.api("/api/features")
    assert page.locator("#feature-tree .feature").count() == features["features"]
    shot(page, "platform")
    page.click(f'#trim-matrix tr[data-trim="{trims[0]["key"]}"] a')
    bom = server.api(f"/api/bom?trim={trims[0]['key']}")
    assert page.locator("#bom-cost").inner_text() == money(bom["bom_cost"])
    assert page.locator("#bom-lines tbody tr").count() == len(bom["lines"])


def test_simulation_results_and_plots(page: Any, server: Server) -> None:
    page.goto(server.url + "/simulation")
    data = server.api("/api/simulation")
    assert page.locator("#sim-cycle").inner_text() == data["cycle"].upper()
    for row in data["results"]:
        cell = page.locator(f'#sim-results tr[data-vehicle="{row["vehicle"]}"] .range')
        assert cell.inner_text() == f"{row['range_km']:,.0f}"
    assert page.locator("#sim-charts svg.chart").count() == 4
    page.select_option("select[name=cycle]", "cltc")
    page.click("text=Simulate")
    page.wait_for_load_state()
    assert page.locator("#sim-cycle").inner_text() == "CLTC"
    shot(page, "simulation")


def test_compliance_page(page: Any, server: Server) -> None:
    page.goto(server.url + "/compliance")
    markets = [m["id"] for m in server.api("/api/platform")["markets"]]
    day = page.locator("#compliance-date").inner_text()
    report = server.api(f"/api/compliance?market={markets[0]}&date={day}")
    assert report["verdicts"]
    for verdict in report["verdicts"]:
        key = f"{verdict['model']}/{verdict['trim']}"
        cell = page.locator(f'#compliance-matrix tr[data-trim="{key}"] td[data-market="{markets[0]}"]')
        assert verdict["status"] in cell.inner_text()
    shot(page, "compliance")


def test_campaign_list_and_halted_campaign(page: Any, server: Server) -> None:
    page.goto(server.url + "/campaigns")
    assert page.locator("#campaign-list tbody tr").count() == len(server.api("/api/campaigns")["campaigns"]) >= 3
    page.click('#campaign-list tr[data-campaign="2"] td:nth-child(2) a')
    progress = server.api("/api/campaigns/2")
    assert page.locator("#campaign-state").inner_text() == "halted"
    assert page.locator("#halt-reason span").inner_text() == progress["halt_reason"]
    for wave in progress["waves"]:
        row = page.locator(f'#waves tr[data-wave="{wave["index"]}"]')
        assert row.locator('[data-field="succeeded"]').inner_text() == money(wave["succeeded"])
    assert page.locator("#timeline-chart svg polyline").count() >= 2
    shot(page, "campaign-halted")


def test_release_manager_pauses_and_resumes(page: Any, server: Server) -> None:
    cid = server.running_campaign
    page.goto(server.url + "/signin")
    page.fill("#token", server.tokens["release_manager"])
    page.click("#signin-button")
    page.wait_for_selector("text=Signed in as release_manager-ann")
    assert page.locator("#who").inner_text() == "release_manager-ann (release_manager)"
    page.goto(f"{server.url}/campaigns/{cid}")
    assert page.locator("#campaign-state").inner_text() == "running"
    page.click('button[data-action="pause"]')
    page.wait_for_selector("#campaign-state:text-is('paused')")
    assert page.locator("#control-status").inner_text() == "pause: now paused"
    assert server.api(f"/api/campaigns/{cid}")["state"] == "paused"
    shot(page, "campaign-paused")
    page.click('button[data-action="resume"]')
    page.wait_for_selector("#campaign-state:text-is('running')")
    store = open_store(server.database)
    try:
        actions = [(e.actor, e.action) for e in audit_log(store, subject=f"campaign:{cid}", limit=2)]
    finally:
        store.dispose()
    assert actions == [("release_manager-ann", "campaign.running"), ("release_manager-ann", "campaign.paused")]


def test_viewer_cannot_pause(page: Any, server: Server) -> None:
    cid = server.running_campaign
    page.goto(server.url + "/signin")
    page.fill("#token", server.tokens["viewer"])
    page.click("#signin-button")
    page.wait_for_selector("text=Signed in as viewer-ann")
    page.goto(f"{server.url}/campaigns/{cid}")
    page.click('button[data-action="pause"]')
    page.wait_for_selector("#control-status:has-text('refused')")
    assert "403" in page.locator("#control-status").inner_text()
    assert server.api(f"/api/campaigns/{cid}")["state"] == "running"


def test_live_progress_follows_reports(page: Any, server: Server) -> None:
    """A vehicle report written to the database shows on the open page within a few polls."""
    cid = server.running_campaign
    page.goto(f"{server.url}/campaigns/{cid}")
    before = int(page.locator("#campaign-succeeded").inner_text().replace(",", ""))
    store = open_store(server.database)
    try:
        with store.session() as session:
            row = session.query(Vehicle.vin).join(CampaignVehicle, CampaignVehicle.vehicle_id == Vehicle.id).filter(
                CampaignVehicle.campaign_id == cid, CampaignVehicle.wave == 0,
                CampaignVehicle.state.in_(("pending", "offered"))).first()
            assert row is not None, "no vehicle of wave 0 is waiting"
            vin = row[0]
        from datetime import UTC, datetime

        mark_offered(store, cid, vin, datetime.now(UTC))  # only an open offer may be answered (issue 14 item 14)
        assert report(store, cid, vin, "succeeded", at=datetime.now(UTC))
    finally:
        store.dispose()
    page.wait_for_selector(f"#campaign-succeeded:text-is('{before + 1}')", timeout=10_000)
    assert re.match(r"\(last ", page.locator("#last-poll").inner_text())


def test_fleet_page_with_stability(page: Any, server: Server) -> None:
    page.goto(server.url + "/fleet")
    assert page.locator("#fleet-total").inner_text() == money(VEHICLES)
    stability = server.api("/api/stability")["releases"]
    for kpi in stability:
        cell = page.locator(f'#stability tr[data-release="{kpi["release"]}"] .success-rate')
        assert cell.inner_text() == f"{100 * kpi['install_success_rate']:.1f} %"
    counts = server.api("/api/fleet/counts")["cells"]
    cn_su7 = sum(c["vehicles"] for c in counts if c["market"] == "CN" and c["model"] == "su7")
    page.select_option("#f-model", "su7")
    page.select_option("#f-market", "CN")
    page.click("text=Filter")
    page.wait_for_load_state()
    assert page.locator("#fleet-matching").inner_text() == money(cn_su7)
    page.click("#vehicle-list tbody tr:first-child a")
    assert page.locator("#ecus tbody tr").count() >= 1


def test_releases_and_insights_pages(page: Any, server: Server) -> None:
    page.goto(server.url + "/releases")
    releases = server.api("/api/releases")["releases"]
    assert page.locator("#release-list tbody tr").count() == len(releases)
    shot(page, "releases")
    page.goto(server.url + "/insights")
    assert page.locator("#insights-business").count() == 1
    shot(page, "insights")
