"""Campaigns end to end on both databases: targets, approvals, waves, halts, controls, idempotent reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from evplatform.errors import ConflictError, FleetError
from evplatform.fleet import campaigns as fc
from evplatform.fleet import targets as ft
from evplatform.fleet.gates import MaintenanceWindow, WavePolicy
from evplatform.fleet.link import FailureModel, SimulatedLink
from evplatform.fleet.update_records import next_rxswin
from evplatform.store import Store
from evplatform.store import campaigns as cdb
from evplatform.store import progress as pdb
from evplatform.store import releases as rdb
from evplatform.store import vehicles as vdb
from evplatform.workspace import Workspace
from fleet_support import T0, add_release, approve, offer_open_waves

NO_FAILURES = FailureModel(download_interruption=0, install_failure=0, power_loss=0, postpone=0, offline=0)


def started(store: Store, release: str = "hub-os-1.7.0", **kwargs: object) -> int:
    approve(store, release, "CN", "EU")
    cid = fc.create_campaign(store, name="t", release_id=release, now=T0, **kwargs)  # type: ignore[arg-type]
    fc.start_campaign(store, cid, actor="rita", now=T0)
    return cid


def test_a_clean_campaign_completes_every_wave(fleet: Store) -> None:
    cid = started(fleet)
    final = fc.run_campaign(fleet, cid, SimulatedLink(1, NO_FAILURES))
    assert final.state == "completed"
    info = fc.progress(fleet, cid)
    assert [w["state"] for w in info["waves"]] == ["done"] * 4
    assert sum(w["succeeded"] for w in info["waves"]) == info["targets"] == 520
    # the vehicles now run the new version (installed software updated with the report)
    cols = vdb.vehicle_columns(fleet, ecu="central-compute")
    assert set(cols["version"].tolist()) == {"1.7.0"}


def test_campaign_without_approval_is_refused(fleet: Store) -> None:
    approve(fleet, "hub-os-1.7.0", "CN")
    cid = fc.create_campaign(fleet, name="t", release_id="hub-os-1.7.0", now=T0)
    with pytest.raises(FleetError, match=r"no approval record for market\(s\) DE.*UN-R156"):
        fc.start_campaign(fleet, cid, now=T0)
    assert cdb.campaign(fleet, cid).state == "draft"
    assert pdb.progress_counts(fleet, cid) == []


def test_current_version_filter_and_no_second_update(fleet: Store) -> None:
    release = rdb.release(fleet, "hub-os-1.7.0")
    assert release is not None
    none = ft.select_targets(fleet, release, ft.TargetFilter(current_versions=("0.9",)), forced=True)
    assert len(none.vehicle_ids) == 0 and none.excluded["other current version"] == 520
    cid = started(fleet)
    fc.run_campaign(fleet, cid, SimulatedLink(1, NO_FAILURES))
    again = ft.select_targets(fleet, release, ft.TargetFilter(), forced=True)
    assert len(again.vehicle_ids) == 0 and again.excluded["already on this version"] == 520


def test_bad_release_halts_before_the_next_wave(fleet: Store, demo: Workspace) -> None:
    release_id = add_release(fleet, demo, "adas-high", "2.5.0")
    approve(fleet, release_id, "CN", "EU")
    waves = (WavePolicy(0.2), WavePolicy(1.0))
    cid = fc.create_campaign(fleet, name="bad", release_id=release_id, waves=waves, now=T0)
    fc.start_campaign(fleet, cid, now=T0)
    failures = FailureModel(0, 0, 0, 0, 0, bad_releases={release_id: ("su7/max", 0.5)})
    final = fc.run_campaign(fleet, cid, SimulatedLink(3, failures))
    assert final.state == "halted"
    assert final.halt_reason is not None and "above the 2.0% threshold" in final.halt_reason
    crashes = vdb.telemetry(fleet, kind="crash")
    assert crashes and all(c.release_id == release_id for c in crashes)
    assert fc.progress(fleet, cid)["waves"][1]["succeeded"] == 0  # the halt came before wave 2 was offered


def test_reports_are_idempotent(fleet: Store) -> None:
    cid = started(fleet, forced=True, waves=(WavePolicy(1.0),))
    offer_open_waves(fleet, cid)
    vin = vdb.list_vehicles(fleet, limit=1)[0].vin
    at = T0 + timedelta(hours=1)
    assert fc.report(fleet, cid, vin, "succeeded", at=at) is True
    assert fc.report(fleet, cid, vin, "succeeded", at=at) is False
    assert fc.report(fleet, cid, vin, "failed", at=at) is False  # a later contradicting report changes nothing
    assert pdb.report_counts(fleet, cid) == {"succeeded": 1}
    record = vdb.vehicle_by_vin(fleet, vin)
    assert record is not None and record.software["central-compute"]["version"] == "1.7.0"


def test_report_errors_name_the_problem(fleet: Store) -> None:
    cid = started(fleet)
    at = T0 + timedelta(hours=1)
    with pytest.raises(FleetError, match="unknown outcome 'great'"):
        fc.report(fleet, cid, "LMDTEST0000000000", "great", at=at)
    with pytest.raises(FleetError, match="unknown vehicle"):
        fc.report(fleet, cid, "LMDNOPE0000000000", "succeeded", at=at)


def test_pause_resume_cancel(fleet: Store) -> None:
    cid = started(fleet)
    link = SimulatedLink(1, NO_FAILURES)
    fc.pause_campaign(fleet, cid, actor="rita")
    assert fc.step(fleet, cid, link, T0 + timedelta(hours=1)).offered == 0  # paused: nothing offered
    with pytest.raises(FleetError, match=r"cannot pause campaign .* it is paused"):
        fc.pause_campaign(fleet, cid)
    fc.resume_campaign(fleet, cid)
    assert fc.step(fleet, cid, link, T0 + timedelta(hours=2)).offered > 0
    fc.cancel_campaign(fleet, cid, reason="wrong build")
    info = fc.progress(fleet, cid)
    # the reason is the cancel's, in the history; halt_reason is only ever a halt's (issue 16 §1)
    assert info["state"] == "cancelled" and info["cancel_reason"] == "wrong build" and info["halt_reason"] is None
    assert sum(w["cancelled"] for w in info["waves"]) > 0
    with pytest.raises(FleetError, match="cannot resume"):
        fc.resume_campaign(fleet, cid)


def test_maintenance_window_is_local_time(fleet: Store) -> None:
    cid = started(fleet, window=MaintenanceWindow.parse("02:00", "03:00"), waves=(WavePolicy(1.0),))
    link = SimulatedLink(1, NO_FAILURES)
    offered_at: dict[str, int] = {}
    for hour in range(24):
        now = datetime(2026, 11, 3, hour, 30, tzinfo=UTC)
        result = fc.step(fleet, cid, link, now)
        if result.offered:
            offered_at[f"{hour:02d}"] = result.offered
    # 02:30 in Shanghai is 18:30 UTC; 02:30 in Berlin (UTC+1 in November) is 01:30 UTC
    assert offered_at == {"01": 240, "18": 280}


def test_forced_updates_are_never_postponed(fleet: Store) -> None:
    cid = started(fleet, forced=True, waves=(WavePolicy(1.0),))
    always_later = FailureModel(0, 0, 0, postpone=1.0, offline=0)
    result = fc.step(fleet, cid, SimulatedLink(1, always_later), T0 + timedelta(hours=1))
    assert result.postponed == 0 and result.reported == 520


def test_postponed_soft_updates_come_back(fleet: Store) -> None:
    cid = started(fleet, waves=(WavePolicy(1.0),))
    always_later = FailureModel(0, 0, 0, postpone=1.0, offline=0)
    result = fc.step(fleet, cid, SimulatedLink(1, always_later), T0 + timedelta(hours=1))
    assert result.postponed == 520 and result.reported == 0
    again = fc.step(fleet, cid, SimulatedLink(1, NO_FAILURES), T0 + timedelta(hours=2))
    assert again.offered == 520 and again.reported == 520


def test_unanswered_offers_are_repeated_later(fleet: Store) -> None:
    cid = started(fleet, waves=(WavePolicy(1.0),))
    offline = FailureModel(0, 0, 0, 0, offline=1.0)
    assert fc.step(fleet, cid, SimulatedLink(1, offline), T0 + timedelta(hours=1)).unanswered == 520
    assert fc.step(fleet, cid, SimulatedLink(1, NO_FAILURES), T0 + timedelta(hours=2)).offered == 0
    later = fc.step(fleet, cid, SimulatedLink(1, NO_FAILURES), T0 + fc.REOFFER_AFTER + timedelta(hours=1))
    assert later.offered == 520 and later.reported == 520


def test_a_campaign_starts_only_once(fleet: Store) -> None:
    cid = started(fleet)
    with pytest.raises(FleetError, match="only a draft can start"):
        fc.start_campaign(fleet, cid)


def test_store_record_reports_ignores_repeats_in_bulk(fleet: Store) -> None:
    cid = started(fleet, forced=True)
    ids = vdb.vehicle_columns(fleet)["id"][:50]
    outcomes = np.array(["succeeded"] * 50, dtype=object)
    at = datetime(2026, 11, 3, tzinfo=UTC)
    assert cdb.record_reports(fleet, cid, ids, outcomes, at=at) == 50
    assert cdb.record_reports(fleet, cid, ids, outcomes, at=at) == 0
    assert pdb.report_counts(fleet, cid) == {"succeeded": 50}


def test_a_completed_campaign_still_reaches_its_stragglers(fleet: Store) -> None:
    cid = started(fleet, waves=(WavePolicy(1.0, success_threshold=0.5),))
    some_later = FailureModel(0, 0, 0, postpone=0.4, offline=0)
    first = fc.step(fleet, cid, SimulatedLink(1, some_later), T0 + timedelta(hours=1))
    assert first.decision == "complete" and 0 < first.postponed < 520
    assert cdb.campaign(fleet, cid).state == "completed"
    later = fc.step(fleet, cid, SimulatedLink(1, NO_FAILURES), T0 + timedelta(hours=2))
    assert later.offered == first.postponed and later.reported == first.postponed
    assert cdb.campaign(fleet, cid).state == "completed"
    assert pdb.report_counts(fleet, cid) == {"succeeded": 520}


def test_canary_soak_holds_the_next_wave(fleet: Store) -> None:
    cid = started(fleet, forced=True, waves=(WavePolicy(0.1, soak_hours=12), WavePolicy(1.0)))
    link = SimulatedLink(1, NO_FAILURES)
    first = fc.step(fleet, cid, link, T0 + timedelta(hours=1))
    assert first.reported == 52 and first.decision == "wait"
    assert fc.step(fleet, cid, link, T0 + timedelta(hours=6)).offered == 0
    assert fc.step(fleet, cid, link, T0 + timedelta(hours=12)).decision == "advance"
    assert fc.step(fleet, cid, link, T0 + timedelta(hours=13)).offered == 468
    assert fc.progress(fleet, cid)["waves"][0]["soak_hours"] == 12


def test_software_identifications_change_with_an_installed_update(fleet: Store) -> None:
    cid = started(fleet, forced=True, waves=(WavePolicy(1.0),))
    offer_open_waves(fleet, cid)
    de = vdb.list_vehicles(fleet, market="DE", limit=2)
    cn = vdb.list_vehicles(fleet, market="CN", limit=1)[0]
    before = de[0].rxswin["R156"]
    swin = cn.rxswin["CN-GB44496"]  # China: the GB 44496 software identification, no UN R156 RXSWIN
    assert set(cn.rxswin) == {"CN-GB44496"}
    at = T0 + timedelta(hours=1)
    fc.report(fleet, cid, de[0].vin, "succeeded", at=at)
    fc.report(fleet, cid, de[1].vin, "failed", at=at)
    fc.report(fleet, cid, cn.vin, "succeeded", at=at)
    after = vdb.vehicle_by_vin(fleet, de[0].vin)
    unchanged = vdb.vehicle_by_vin(fleet, de[1].vin)
    assert after is not None and unchanged is not None
    assert after.rxswin["R156"] != before and after.rxswin["R156"].split("-")[0] == before.split("-")[0]
    assert after.rxswin["R156"] == next_rxswin(before, "hub-os-1.7.0")
    assert unchanged.rxswin["R156"] == de[1].rxswin["R156"]  # a failed install keeps its RXSWIN
    china = vdb.vehicle_by_vin(fleet, cn.vin)
    assert china is not None and china.rxswin == {"CN-GB44496": next_rxswin(swin, "hub-os-1.7.0")}
    fc.report(fleet, cid, de[0].vin, "succeeded", at=at)  # a repeated report changes nothing
    again = vdb.vehicle_by_vin(fleet, de[0].vin)
    assert again is not None and again.rxswin == after.rxswin
    assert vdb.vehicle_by_vin(fleet, cn.vin).rxswin == china.rxswin  # type: ignore[union-attr]


def test_crashes_after_success_halt_a_soaking_wave(fleet: Store) -> None:
    from evplatform.fleet.telemetry import TelemetryEvent, ingest

    cid = started(fleet, forced=True, waves=(WavePolicy(0.5, soak_hours=48), WavePolicy(1.0)))
    first = fc.step(fleet, cid, SimulatedLink(1, NO_FAILURES), T0 + timedelta(hours=1))
    assert first.reported == 260 and first.decision == "wait"  # everyone succeeded, but still soaking
    su7_max = vdb.list_vehicles(fleet, model="su7", trim="max", limit=600)
    states = pdb.vehicle_states(fleet, cid, [v.id for v in su7_max])
    crashed = [v for v in su7_max if states.get(v.id) == "succeeded"]
    assert len(crashed) >= 30
    # 6 crashes: 2.3 % of the wave (not enough evidence), but 15 % of the SU7 Max cohort
    ingest(fleet, [TelemetryEvent(v.vin, "crash", T0 + timedelta(hours=20), release_id="hub-os-1.7.0")
                   for v in crashed[:6]])
    campaign = cdb.campaign(fleet, cid)
    assert campaign.state == "halted"
    assert campaign.halt_reason is not None and "su7/max" in campaign.halt_reason
    assert fc.progress(fleet, cid)["waves"][0]["crashed"] == 6


def test_cancel_keeps_in_flight_installs_and_drops_the_never_offered(fleet: Store) -> None:
    cid = started(fleet, forced=True, waves=(WavePolicy(1.0),))
    ids, _ = cdb.offer_pending(fleet, cid, max_wave=0, timezones=["Europe/Berlin"], now=T0,
                               reoffer_before=T0 - timedelta(hours=6))
    assert len(ids) == 240  # the German vehicles are offered, the Chinese ones still pending
    fc.cancel_campaign(fleet, cid, reason="stop")
    pending_cn = [v for v in vdb.list_vehicles(fleet, market="CN", limit=1)]
    berlin = vdb.list_vehicles(fleet, market="DE", limit=1)[0]
    at = T0 + timedelta(hours=1)
    assert fc.report(fleet, cid, berlin.vin, "succeeded", at=at) is True  # it was already installing
    with pytest.raises(FleetError, match="was cancelled before vehicle"):
        fc.report(fleet, cid, pending_cn[0].vin, "succeeded", at=at)
    # a bulk report naming a cancelled vehicle keeps nothing of it
    both = np.array([pending_cn[0].id, vdb.list_vehicles(fleet, market="DE", limit=2)[1].id], dtype=np.int64)
    assert cdb.record_reports(fleet, cid, both, np.array(["succeeded", "failed"], dtype=object), at=at) == 1
    assert pdb.report_counts(fleet, cid) == {"succeeded": 1, "failed": 1}
    info = fc.progress(fleet, cid)
    assert info["waves"][0]["cancelled"] == 280 and info["state"] == "cancelled"


def test_a_second_unfinished_campaign_on_the_same_ecu_is_refused(fleet: Store, demo: Workspace) -> None:
    """Two running campaigns on one ECU (2.0.3 and 2.0.9) once moved vehicles from 2.0.9 back to 2.0.3."""
    first = started(fleet)
    newer = add_release(fleet, demo, "hub-os", "1.8.0")
    approve(fleet, newer, "CN", "EU")
    second = fc.create_campaign(fleet, name="t2", release_id=newer, now=T0)
    with pytest.raises(ConflictError, match=f"campaign {first} \\(hub-os-1.7.0\\) is still running on ECU"):
        fc.start_campaign(fleet, second, now=T0)
    assert cdb.campaign(fleet, second).state == "draft"
    fc.cancel_campaign(fleet, first, reason="superseded", now=T0)
    assert fc.start_campaign(fleet, second, now=T0).targets > 0  # once the first is finished
