"""Issue 16 §1 in Chromium: a halted campaign is acknowledged, its failing cohort excluded, resumed, and
finishes; a second halted campaign is cancelled with a reason and keeps its halt evidence.

Runs its own server on its own demo database (the shared one's campaigns are counted by other tests);
the controller is driven from the test with ``fleet.step`` as the simulator does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from evplatform.fleet import WavePolicy, build_demo_database, create_campaign, start_campaign, step
from evplatform.fleet.link import FailureModel, SimulatedLink
from evplatform.store import Store, create_account, issue_token, open_store
from evplatform.store import campaigns as cdb
from evplatform.store import releases as rdb
from evplatform.store import vehicles as vdb
from evplatform.workspace import load_workspace
from web.conftest import CHROMIUM, SCREENSHOTS, serving

pytestmark = pytest.mark.browser

HALTED = 2  # the demo's adas-high 2.5.0, halted by its su7/max cohort
NO_FAILURES = FailureModel(download_interruption=0, install_failure=0, power_loss=0, postpone=0, offline=0)


@dataclass
class Own:
    url: str
    database: str
    token: str


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Own]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    folder = tmp_path_factory.mktemp("recover")
    database = f"sqlite:///{folder / 'demo.db'}"
    build_demo_database(database, vehicles=300)
    store = open_store(database)
    try:
        create_account(store, "rita", "release_manager")
        token = issue_token(store, "rita")
    finally:
        store.dispose()
    with serving(folder, "--database", database) as url:
        yield Own(url, database, token)


@pytest.fixture
def signed_in(browser: Any, own: Own) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(90_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmation of every decision
    page.goto(own.url + "/signin")
    page.fill("#token", own.token)
    page.click("#signin-button")
    page.wait_for_selector("text=Signed in as rita")
    yield page
    context.close()


def visible_actions(page: Any) -> list[str]:
    return [str(b.get_attribute("data-action")) for b in page.locator("#controls button[data-action]").all()
            if b.is_visible()]


def decide(page: Any, action: str, fields: dict[str, str], *, resume: bool = False) -> None:
    page.click(f'#controls button[data-action="{action}"]')
    for selector, value in fields.items():
        if selector.endswith("cohort"):
            page.select_option(selector, label=value)
        else:
            page.fill(selector, value)
    if resume:
        page.check("#exclude-resume")
    page.click(f"#form-{action} button[type=submit]")


def drive(store: Store, campaign_id: int, link: SimulatedLink, until: tuple[str, ...], ticks: int = 200) -> str:
    """Controller ticks of an hour on the campaign's own clock until its state is one of ``until``."""
    for _ in range(ticks):
        campaign = cdb.campaign(store, campaign_id)
        if campaign.state in until:
            return campaign.state
        assert campaign.last_tick_at is not None
        step(store, campaign_id, link, campaign.last_tick_at + timedelta(hours=1))
    return cdb.campaign(store, campaign_id).state


def test_acknowledge_exclude_resume_and_finish(signed_in: Any, own: Own) -> None:
    page = signed_in
    page.goto(f"{own.url}/campaigns/{HALTED}")
    assert page.locator("#campaign-state").inner_text() == "halted"
    assert visible_actions(page) == ["ack", "cancel"]  # the transition table, not every button
    halt = page.locator("#halt-reason span").inner_text()
    assert "su7/max" in halt

    decide(page, "ack", {"#ack-comment": "su7/max crashes after install; excluding it"})
    page.wait_for_selector("#campaign-state:text-is('acknowledged')")
    assert page.locator("#control-status").inner_text() == "ack: now acknowledged"
    assert visible_actions(page) == ["resume", "exclude", "retry", "next-wave", "cancel"]

    decide(page, "exclude", {"#exclude-cohort": "trim su7/max", "#exclude-reason": "fix in 2.5.1"}, resume=True)
    page.wait_for_selector("#campaign-state:text-is('running')")
    assert "exclude: now running" in page.locator("#control-status").inner_text()
    assert visible_actions(page) == ["pause", "exclude", "retry", "next-wave", "cancel"]

    store = open_store(own.database)
    try:
        assert drive(store, HALTED, SimulatedLink(5, NO_FAILURES), ("completed", "halted")) == "completed"
    finally:
        store.dispose()
    page.wait_for_selector("#campaign-state:text-is('completed')", timeout=20_000)  # the live poll
    page.reload()
    history = [row.get_attribute("data-action") for row in page.locator("#history tbody tr").all()]
    assert history[:4] == ["complete", "resume", "exclude", "ack"] and "halt" in history
    assert page.locator('#cohorts tr[data-cohort="su7/max"] td').last.inner_text() != "0"
    page.select_option("#filter-status", "excluded")
    page.click("#vehicle-filters button[type=submit]")
    page.wait_for_url("**status=excluded**")
    statuses = {row.get_attribute("data-status") for row in page.locator("#vehicles tbody tr").all()}
    assert statuses and statuses <= {"excluded", "failed", "rolled_back", "crashed", "installed"}
    csv_link = page.locator("#vehicles-csv").get_attribute("href")
    assert csv_link == f"/campaigns/{HALTED}/vehicles.csv?wave=&status=excluded"
    page.goto(f"{own.url}/campaigns/{HALTED}?page=999")
    assert "past the end" in page.locator("#past-end").inner_text()
    page.goto(f"{own.url}/campaigns/{HALTED}")
    page.locator("#history").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "campaign.png"), full_page=True)


def _second_halted_campaign(database: str) -> int:
    """adas-high 2.5.1 to everyone, crashing half of su7/max again, driven until its gate halts it."""
    store = open_store(database)
    try:
        ws = load_workspace(None)
        component = ws.software["adas-high"]
        now = store.now()
        rdb.save_release(store, rdb.ReleaseRecord("adas-high-2.5.1", "adas-high", component.ecu,
                                                  component.hardware_id, "2.5.1", component.compatible_text,
                                                  created_at=now))
        for market in vdb.markets(store):
            rdb.save_approval(store, rdb.ApprovalRecord("adas-high-2.5.1", market, "authority", f"R-{market}",
                                                        "ann", now))
        cid = create_campaign(store, name="adas 2.5.1", release_id="adas-high-2.5.1",
                              waves=(WavePolicy(0.5), WavePolicy(1.0)))
        start_campaign(store, cid, actor="rita")
        failures = FailureModel(0, 0, 0, 0, 0, bad_releases={"adas-high-2.5.1": ("su7/max", 0.6)})
        assert drive(store, cid, SimulatedLink(7, failures), ("halted", "completed")) == "halted"
        return cid
    finally:
        store.dispose()


def test_cancel_with_a_reason_keeps_the_halt_evidence(signed_in: Any, own: Own) -> None:
    page = signed_in
    cid = _second_halted_campaign(own.database)
    page.goto(f"{own.url}/campaigns/{cid}")
    halt = page.locator("#halt-reason span").inner_text()
    waves = [page.locator(f'#waves tr[data-wave="{i}"] [data-field="state"]').inner_text() for i in (0, 1)]
    assert waves == ["halted", "pending"]
    decide(page, "cancel", {"#cancel-reason": "superseded by 2.5.2"})
    page.wait_for_selector("#campaign-state:text-is('cancelled')")
    assert page.locator("#halt-reason span").inner_text() == halt  # not overwritten
    assert page.locator("#cancel-note span").inner_text() == "superseded by 2.5.2"
    assert [page.locator(f'#waves tr[data-wave="{i}"] [data-field="state"]').inner_text() for i in (0, 1)] == waves
    assert visible_actions(page) == []
    assert page.locator("#no-actions").is_visible()
    rows = page.locator("#history tbody tr")
    assert rows.nth(0).get_attribute("data-action") == "cancel" and rows.nth(1).get_attribute("data-action") == "halt"
    assert halt in rows.nth(1).inner_text()
    page.screenshot(path=str(SCREENSHOTS / "campaign-cancelled.png"), full_page=True)
