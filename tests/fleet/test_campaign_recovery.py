"""Issue 16 §1: watching a campaign and recovering after a halt — the transition table, the history,
acknowledge, exclude, retry, next wave, and a cancel that keeps the halt's evidence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from evplatform.errors import FleetError
from evplatform.fleet import campaign_recovery as rec
from evplatform.fleet import campaign_states as cs
from evplatform.fleet import campaigns as fc
from evplatform.fleet.campaign_states import Action, TransitionRefused
from evplatform.fleet.gates import WavePolicy
from evplatform.fleet.link import FailureModel, SimulatedLink
from evplatform.store import Store, audit_log
from evplatform.store import campaigns as cdb
from evplatform.workspace import Workspace
from fleet_support import T0, add_release, approve

NO_FAILURES = FailureModel(download_interruption=0, install_failure=0, power_loss=0, postpone=0, offline=0)
BAD_TRIM = "su7/max"


def halted(store: Store, demo: Workspace) -> tuple[int, str]:
    """A campaign of a release that crashes half of su7/max, run until its gate halts it."""
    release_id = add_release(store, demo, "adas-high", "2.5.0")
    approve(store, release_id, "CN", "EU")
    cid = fc.create_campaign(store, name="bad", release_id=release_id, waves=(WavePolicy(0.2), WavePolicy(1.0)),
                             now=T0)
    fc.start_campaign(store, cid, actor="rita", now=T0)
    failures = FailureModel(0, 0, 0, 0, 0, bad_releases={release_id: (BAD_TRIM, 0.5)})
    final = fc.run_campaign(store, cid, SimulatedLink(3, failures))
    assert final.state == "halted"
    return cid, release_id


def test_the_table_names_every_state_and_refuses_what_it_lacks() -> None:
    assert set(cs.TABLE) == set(cs.STATES)
    assert cs.allowed_actions("halted") == (Action.ACK, Action.CANCEL)
    assert cs.allowed_actions("cancelled") == ()
    assert cs.states_allowing(Action.RESUME) == ("paused", "acknowledged")
    assert cs.check(1, "halted", Action.ACK) == "acknowledged"
    with pytest.raises(TransitionRefused) as refused:
        cs.check(7, "halted", Action.RESUME)
    assert refused.value.http_status == 409
    assert str(refused.value) == ("cannot resume campaign 7: it is halted; allowed from halted: "
                                  "ack (→ acknowledged), cancel (→ cancelled)")
    with pytest.raises(FleetError, match="unknown campaign action 'explode'"):
        cs.parse_action("explode")


def test_a_halt_must_be_acknowledged_with_a_comment_before_it_resumes(fleet: Store, demo: Workspace) -> None:
    cid, _ = halted(fleet, demo)
    with pytest.raises(TransitionRefused, match="allowed from halted: ack"):
        fc.resume_campaign(fleet, cid, actor="rita")
    with pytest.raises(rec.CampaignReasonError, match="a reason is required"):
        rec.acknowledge(fleet, cid, actor="rita", comment="   ")
    rec.acknowledge(fleet, cid, actor="rita", comment="looking at su7/max crash dumps")
    info = fc.progress(fleet, cid)
    assert info["state"] == "acknowledged" and info["acknowledgement"] == "looking at su7/max crash dumps"
    assert "above the 2.0% threshold" in info["halt_reason"]  # the evidence is still there
    assert info["allowed_actions"] == ["resume", "exclude", "next-wave", "retry", "cancel"]
    with pytest.raises(TransitionRefused, match="it is acknowledged"):
        rec.acknowledge(fleet, cid, actor="rita", comment="twice")


def test_exclude_the_failing_cohort_then_resume_finishes(fleet: Store, demo: Workspace) -> None:
    cid, _ = halted(fleet, demo)
    rec.acknowledge(fleet, cid, actor="rita", comment="su7/max image is bad")
    excluded = rec.exclude(fleet, cid, rec.Cohort(model="su7", trim="max"), actor="rita", reason="fix in 2.5.1")
    assert excluded == 80  # 40 in CN and 40 in DE
    fc.resume_campaign(fleet, cid, actor="rita")
    final = fc.run_campaign(fleet, cid, SimulatedLink(3, NO_FAILURES))
    assert final.state == "completed"
    page = rec.vehicles(fleet, cid, rec.VehicleQuery(status="excluded", size=500))
    assert page["total"] == 80 and {v["cohort"] for v in page["vehicles"]} == {BAD_TRIM}
    # never offered after the exclusion: the pending ones stayed 'excluded', none installed later
    assert page["counts"]["excluded"] == 80
    assert all(v["status"] in ("excluded", "failed", "rolled_back", "crashed", "installed") for v in page["vehicles"])
    actions = [h["action"] for h in rec.history(fleet, cid)]
    assert actions == ["start", "halt", "ack", "exclude", "resume", "advance", "complete"]
    exclusion = rec.history(fleet, cid)[3]
    assert exclusion["detail"] == {"cohort": {"model": "su7", "trim": "max"}, "vehicles": 80}
    assert exclusion["actor"] == "rita" and exclusion["reason"] == "fix in 2.5.1"
    assert ("rita", "campaign.exclude") in [(e.actor, e.action) for e in audit_log(fleet, subject=f"campaign:{cid}")]


def test_exclude_needs_a_cohort_that_has_vehicles(fleet: Store, demo: Workspace) -> None:
    cid, _ = halted(fleet, demo)
    rec.acknowledge(fleet, cid, actor="rita", comment="ok")
    with pytest.raises(FleetError, match="no vehicle of market XX left to exclude"):
        rec.exclude(fleet, cid, rec.Cohort(market="XX"), actor="rita", reason="r")
    assert [h["action"] for h in rec.history(fleet, cid)][-1] == "ack"  # nothing recorded
    with pytest.raises(FleetError, match="name a model"):
        rec.exclude(fleet, cid, rec.Cohort(), actor="rita", reason="r")


def test_cancel_keeps_the_halt_reason_and_the_wave_states(fleet: Store, demo: Workspace) -> None:
    cid, _ = halted(fleet, demo)
    before = fc.progress(fleet, cid)
    fc.cancel_campaign(fleet, cid, actor="rita", reason="superseded by 2.5.1")
    after = fc.progress(fleet, cid)
    assert after["state"] == "cancelled"
    assert after["halt_reason"] == before["halt_reason"] and "above the 2.0% threshold" in after["halt_reason"]
    assert [w["state"] for w in after["waves"]] == [w["state"] for w in before["waves"]] == ["halted", "pending"]
    assert after["cancel_reason"] == "superseded by 2.5.1"
    rows = rec.history(fleet, cid)
    assert [(h["action"], h["from"], h["to"]) for h in rows[-2:]] == [("halt", "running", "halted"),
                                                                       ("cancel", "halted", "cancelled")]
    assert rows[-2]["reason"] == before["halt_reason"] and rows[-2]["actor"] == "controller"


def test_retry_offers_the_failed_vehicles_again_and_keeps_their_reports(fleet: Store, demo: Workspace) -> None:
    cid, _ = halted(fleet, demo)
    failed_before = rec.vehicles(fleet, cid, rec.VehicleQuery(status="rolled_back", size=500))["total"]
    assert failed_before > 0
    rec.acknowledge(fleet, cid, actor="rita", comment="transient: retry")
    retried = rec.retry_failed(fleet, cid, actor="rita", reason="the image server was fixed")
    assert retried == failed_before
    assert rec.vehicles(fleet, cid, rec.VehicleQuery(status="rolled_back"))["total"] == 0
    assert rec.vehicles(fleet, cid, rec.VehicleQuery(status="pending", wave=0))["total"] == retried
    from evplatform.store.schema import SupersededReport

    with fleet.session() as session:
        assert session.query(SupersededReport).filter_by(campaign_id=cid).count() == retried
    fc.resume_campaign(fleet, cid, actor="rita")
    clock = cdb.campaign(fleet, cid).last_tick_at
    assert clock is not None
    step = fc.step(fleet, cid, SimulatedLink(4, NO_FAILURES), clock + timedelta(hours=1))
    assert step.offered >= retried  # a new offer


def test_next_wave_opens_the_following_wave_and_refuses_past_the_last(fleet: Store, demo: Workspace) -> None:
    cid, _ = halted(fleet, demo)
    with pytest.raises(TransitionRefused, match="allowed from halted"):
        rec.open_next_wave(fleet, cid, actor="rita", reason="r")
    rec.acknowledge(fleet, cid, actor="rita", comment="trim excluded below")
    assert rec.open_next_wave(fleet, cid, actor="rita", reason="canary good enough") == 1
    campaign = cdb.campaign(fleet, cid)
    assert campaign.current_wave == 1 and [w.state for w in campaign.waves] == ["halted", "active"]
    with pytest.raises(FleetError, match="last wave"):
        rec.open_next_wave(fleet, cid, actor="rita", reason="again")
    assert rec.history(fleet, cid)[-1]["detail"] == {"wave": 2}


def test_vehicle_pages_are_numbered_and_say_when_past_the_end(fleet: Store, demo: Workspace) -> None:
    cid, _ = halted(fleet, demo)
    first = rec.vehicles(fleet, cid, rec.VehicleQuery(page=1, size=100))
    assert first["total"] == sum(fc.progress(fleet, cid)["waves"][i]["size"] for i in (0, 1))
    assert first["pages"] == -(-first["total"] // 100) and len(first["vehicles"]) == 100
    assert sum(n for s, n in first["counts"].items() if s != "excluded") == first["total"]
    crashed = rec.vehicles(fleet, cid, rec.VehicleQuery(status="rolled_back"))["vehicles"]
    assert crashed and crashed[0]["failure_reason"] == "new software crashed: fell back to the previous slot"
    past = rec.vehicles(fleet, cid, rec.VehicleQuery(page=first["pages"] + 1, size=100))
    assert past["past_end"] and past["vehicles"] == [] and "past the end" in past["message"]
    with pytest.raises(rec.CampaignReasonError, match="status"):
        rec.VehicleQuery(status="exploded")


def test_every_status_filter_finds_the_vehicles_its_count_says_and_pages_never_join_skipped_rows(
        fleet: Store, demo: Workspace) -> None:
    """The status filters are on the stored columns (not the derived status per row) and a page's
    vehicles are joined after its OFFSET: the same answers as the derived status, at any page."""
    from sqlalchemy import event

    from evplatform.store.campaign_roster import STATUSES, roster_page

    cid, _ = halted(fleet, demo)
    stale = T0 + timedelta(days=3)
    everyone = roster_page(fleet, cid, wave=None, status=None, offset=0, limit=100_000, stale_before=stale)
    derived: dict[str, set[str]] = {}
    for row in everyone.rows:
        derived.setdefault(row.status, set()).add(row.vin)
    statements: list[str] = []
    event.listen(fleet.engine, "before_cursor_execute", lambda *a: statements.append(str(a[2])))
    for status in STATUSES:
        if status == "excluded":
            continue
        page = roster_page(fleet, cid, wave=None, status=status, offset=0, limit=100_000, stale_before=stale)
        assert {r.vin for r in page.rows} == derived.get(status, set()), status
        assert page.total == everyone.counts[status] == len(derived.get(status, ())), status
    deep = roster_page(fleet, cid, wave=None, status=None, offset=everyone.total - 3, limit=50, stale_before=stale)
    assert [r.vin for r in deep.rows] == [r.vin for r in everyone.rows[-3:]]
    paged = [s for s in statements if "OFFSET" in s.upper()]
    assert paged and all("JOIN vehicles" not in s.split("OFFSET")[0].split("FROM (")[-1] for s in paged)
