"""Update records from the store, on SQLite and PostgreSQL: evidence captured at delivery, migration 0004."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import inspect

from evplatform.errors import FleetError, StoreError
from evplatform.fleet import campaigns as fc
from evplatform.fleet.gates import WavePolicy
from evplatform.fleet.link import FailureModel, SimulatedLink
from evplatform.fleet.update_records import (
    RecordingLink,
    ReportedConditions,
    TelemetryPreconditions,
    next_rxswin,
    update_records,
)
from evplatform.ota.records import to_csv, to_json
from evplatform.store import Store, current_revision, head_revision, open_store
from evplatform.store import update_records as udb
from evplatform.store import vehicles as vdb
from evplatform.store.migrate import downgrade, upgrade
from fleet_support import T0, approve, offer_open_waves

NO_FAILURES = FailureModel(download_interruption=0, install_failure=0, power_loss=0, postpone=0, offline=0)
SOME_FAILURES = FailureModel(download_interruption=0.05, install_failure=0.05, power_loss=0.03, postpone=0, offline=0)


def _start(store: Store) -> int:
    approve(store, "hub-os-1.7.0", "CN", "EU")
    cid = fc.create_campaign(store, name="hub-os 1.7.0", release_id="hub-os-1.7.0", now=T0)
    fc.start_campaign(store, cid, actor="rita", now=T0)
    return cid


def _all_parked(vehicle_ids: np.ndarray, now: datetime) -> tuple[list[bool | None], list[float | None]]:
    return [True] * len(vehicle_ids), [80.0] * len(vehicle_ids)


def test_records_of_a_recorded_campaign(fleet: Store) -> None:
    cid = _start(fleet)
    before = {v.vin: v for v in vdb.list_vehicles(fleet, limit=10_000)}
    link = RecordingLink(SimulatedLink(4, SOME_FAILURES), fleet, cid, preconditions=_all_parked, notes_shown=True)
    fc.run_campaign(fleet, cid, link)  # halts after a wave: these failure rates are above the gate's
    records = update_records(fleet, campaign_id=cid)
    reported = sum(w["succeeded"] + w["failed"] + w["rolled_back"] for w in fc.progress(fleet, cid)["waves"])
    assert len(records) == link.recorded == reported >= 52  # every answer recorded once
    assert {r.outcome for r in records} == {"succeeded", "failed", "rolled_back"}
    for record in records:
        vehicle = vdb.vehicle_by_vin(fleet, record.vin)
        assert vehicle is not None
        assert record.compatibility.basis == "at offer" and record.compatibility.result
        assert record.version_before == "1.6.0" and record.version_after == "1.7.0"
        assert record.information.consent == "accepted" and record.information.notes_shown is True
        assert record.preconditions.result is True
        assert [a.market for a in record.approvals] == (["EU"] if record.market == "DE" else ["CN"])
        assert record.approvals[0].approved_by == "rita"
        # UNECE markets carry the UN R156 RXSWIN, China the GB 44496 SWIN: renewed by a successful
        # update, kept otherwise
        key = "R156" if record.market == "DE" else "CN-GB44496"
        assert set(vehicle.rxswin) == {key}
        assert record.rxswin_before == before[record.vin].rxswin[key]
        assert record.rxswin_after == vehicle.rxswin[key]
        assert (record.rxswin_after != record.rxswin_before) == (record.outcome == "succeeded")
        assert record.offered_at is not None and record.offered_at <= record.reported_at
    assert to_csv(records) == to_csv(update_records(fleet, campaign_id=cid))
    assert to_json(records).count('"vin"') == reported
    vin = records[-1].vin
    assert [r.vin for r in update_records(fleet, vin=vin)] == [vin]
    assert update_records(fleet, vin=vin, campaign_id=cid + 1) == []
    with pytest.raises(FleetError, match="unknown vehicle"):
        update_records(fleet, vin="LMDNOSUCHVEHICLE0")


def test_records_without_evidence_say_what_was_not_recorded(fleet: Store) -> None:
    cid = _start(fleet)
    fc.run_campaign(fleet, cid, SimulatedLink(1, NO_FAILURES))
    records = update_records(fleet, campaign_id=cid)
    assert len(records) == 520
    record = records[0]
    assert record.compatibility.basis == "re-evaluated at export" and record.compatibility.result
    assert record.rxswin_before is None and record.preconditions.result is None
    assert record.information.release_notes == "" and record.information.consent is None


def test_preconditions_from_telemetry(fleet: Store) -> None:
    ids = vdb.vehicle_columns(fleet)["id"][:3]
    vdb.insert_telemetry(fleet, [
        {"vehicle_id": int(ids[0]), "kind": "soc", "at": T0, "value": 20.0, "release_id": None, "detail": None},
        {"vehicle_id": int(ids[0]), "kind": "soc", "at": T0 + timedelta(hours=1), "value": 64.0, "release_id": None,
         "detail": {"parked": True}},
        {"vehicle_id": int(ids[0]), "kind": "soc", "at": T0 + timedelta(hours=5), "value": 10.0, "release_id": None,
         "detail": None},
        {"vehicle_id": int(ids[1]), "kind": "soc", "at": T0, "value": 25.0, "release_id": None,
         "detail": {"parked": False}},
    ])
    parked, soc = TelemetryPreconditions(fleet)(ids, T0 + timedelta(hours=2))
    assert parked == [True, False, None] and soc == [64.0, 25.0, None]


def test_a_repeated_offer_keeps_the_first_evidence(fleet: Store) -> None:
    approve(fleet, "hub-os-1.7.0", "CN", "EU")
    cid = fc.create_campaign(fleet, name="hub-os 1.7.0", release_id="hub-os-1.7.0", waves=(WavePolicy(1.0),), now=T0)
    fc.start_campaign(fleet, cid, actor="rita", now=T0)
    offer_open_waves(fleet, cid)  # only an open offer may be answered
    vid = int(vdb.vehicle_columns(fleet)["id"][0])
    row = {f: None for f in udb.EVIDENCE_FIELDS} | {
        "campaign_id": cid, "vehicle_id": vid, "recorded_at": T0, "configuration_matches": True,
        "soc_threshold_pct": 30.0, "state_of_charge_pct": 55.0,
    }
    udb.save_evidence(fleet, [row])
    udb.save_evidence(fleet, [row | {"state_of_charge_pct": 99.0}])
    fc.report(fleet, cid, vdb.list_vehicles(fleet)[0].vin, "succeeded", at=T0 + timedelta(hours=1))
    (stored,) = udb.update_rows(fleet, campaign_id=cid)
    assert stored.evidence is not None and stored.evidence["state_of_charge_pct"] == 55.0
    with pytest.raises(StoreError, match="unknown consent"):
        udb.save_evidence(fleet, [row | {"consent": "maybe"}])
    with pytest.raises(StoreError, match="lacks"):
        udb.save_evidence(fleet, [{"campaign_id": cid}])


def test_migration_0004_up_and_down(db_url: str) -> None:
    store = open_store(db_url)
    assert current_revision(store) == head_revision() >= "0004"
    assert "update_evidence" in inspect(store.engine).get_table_names()
    downgrade(store, "0003")
    assert "update_evidence" not in inspect(store.engine).get_table_names()
    upgrade(store)
    assert "update_evidence" in inspect(store.engine).get_table_names()
    store.dispose()


def test_next_rxswin_keeps_the_type_and_renews_the_software_identification() -> None:
    """UN R156 §7.2.1.2: a new RXSWIN per type-approved software change, readable per regulation type."""
    import hashlib

    from evplatform.fleet.update_records import next_rxswin

    current = "R156-E4-SU7MAX-0A1B2C3D4E"
    after = next_rxswin(current, "hub-os-1.7.0")
    prefix, _, identification = after.rpartition("-")
    assert prefix == "R156-E4-SU7MAX" and identification != "0A1B2C3D4E"
    assert len(identification) == 10 and identification == identification.upper()
    assert identification == hashlib.sha256(b"R156-E4-SU7MAX-0A1B2C3D4E+hub-os-1.7.0").hexdigest()[:10].upper()
    assert next_rxswin(current, "hub-os-1.7.0") == after  # the same update gives every vehicle of the type one value
    assert next_rxswin(current, "hub-os-1.7.1") != after  # another release, another identification
    assert next_rxswin(after, "hub-os-1.7.0") != after  # reinstalling after another change still renews


def test_a_report_through_the_api_path_records_its_evidence(fleet: Store) -> None:
    """``fleet.campaigns.report`` (POST /api/vehicle/report) captures evidence as a delivery does."""
    approve(fleet, "hub-os-1.7.0", "CN", "EU")
    cid = fc.create_campaign(fleet, name="hub-os 1.7.0", release_id="hub-os-1.7.0", waves=(WavePolicy(1.0),),
                             now=T0)
    fc.start_campaign(fleet, cid, actor="rita", now=T0)
    offer_open_waves(fleet, cid, T0)
    offered = [v for v in vdb.list_vehicles(fleet, limit=10_000)
               if v.software.get("central-compute", {}).get("version") == "1.6.0"]
    told, silent = offered[0], offered[1]
    at = T0 + timedelta(minutes=30)
    assert fc.report(fleet, cid, told.vin, "succeeded", at=at,
                     conditions=ReportedConditions(parked=True, state_of_charge_pct=64.0, notes_shown=True))
    assert fc.report(fleet, cid, silent.vin, "failed", at=at)
    first = update_records(fleet, vin=told.vin)[0]
    assert first.compatibility.basis == "at offer" and first.compatibility.result
    assert first.version_before == "1.6.0" and first.version_after == "1.7.0"
    assert (first.preconditions.parked, first.preconditions.state_of_charge_pct) == (True, 64.0)
    assert first.information.notes_shown is True and first.information.consent == "accepted"
    key = next(iter(told.rxswin))
    assert first.rxswin_before == told.rxswin[key] and first.rxswin_after == next_rxswin(told.rxswin[key],
                                                                                         "hub-os-1.7.0")
    second = update_records(fleet, vin=silent.vin)[0]
    assert second.compatibility.basis == "at offer"
    # nothing reported and no telemetry: the preconditions stay "not recorded", never invented
    assert second.preconditions.parked is None and second.preconditions.state_of_charge_pct is None
    assert second.rxswin_after == second.rxswin_before
    assert not fc.report(fleet, cid, told.vin, "succeeded", at=at)  # a repeat records nothing more
    assert len(update_records(fleet, vin=told.vin)) == 1
