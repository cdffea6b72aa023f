"""A vehicle's update history (targeted, offered, reported per campaign), last seen and telemetry with units."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from evplatform.errors import NotFoundError
from evplatform.fleet import WavePolicy
from evplatform.fleet import campaigns as fc
from evplatform.fleet.telemetry import TelemetryEvent, ingest
from evplatform.fleet.vehicle_detail import history_of, last_seen, vehicle_detail, vehicle_history
from evplatform.store import Store
from evplatform.store import campaigns as cdb
from evplatform.store import vehicles as vdb
from evplatform.store.details import CampaignStep
from fleet_support import T0, approve, offer_open_waves


def _step(cid: int, **changes: object) -> CampaignStep:
    values: dict[str, object] = {
        "campaign_id": cid, "campaign": f"c{cid}", "campaign_state": "running", "forced": False, "started_at": T0,
        "release_id": "hub-os-1.7.0", "component": "hub-os", "version": "1.7.0", "wave": 0, "state": "pending",
        "attempts": 0, "offered_at": None, "outcome": None, "reported_at": None, "detail": "", "evidence_at": None}
    values.update(changes)
    return CampaignStep(**values)  # type: ignore[arg-type]


def test_history_lists_targeted_offered_reported_in_time_order() -> None:
    done = _step(1, state="rolled_back", offered_at=T0 + timedelta(hours=1), attempts=2, outcome="rolled_back",
                 reported_at=T0 + timedelta(hours=3), detail="boot loop", evidence_at=T0 + timedelta(hours=1))
    waiting = _step(2, started_at=T0 + timedelta(hours=2), wave=1)
    draft = _step(3, started_at=None, state="pending")
    events = history_of([waiting, done, draft])
    assert [(e.campaign_id, e.action) for e in events] == [
        (3, "targeted"), (1, "targeted"), (1, "offered"), (2, "targeted"), (1, "reported")]
    report = events[-1]
    assert (report.outcome, report.detail, report.evidence, report.wave) == ("rolled_back", "boot loop", True, 1)
    assert events[3].wave == 2 and events[3].state == "pending" and events[3].outcome is None
    assert events[2].detail == "offer 2"  # re-offered once after no answer
    assert last_seen(events, None) == T0 + timedelta(hours=3)
    assert last_seen(events, T0 + timedelta(days=2)) == T0 + timedelta(days=2)
    assert last_seen(history_of([draft]), None) is None  # targeted is not contact with the vehicle


def test_history_of_a_vehicle_after_a_campaign(fleet: Store) -> None:
    approve(fleet, "hub-os-1.7.0", "CN", "EU")
    cid = fc.create_campaign(fleet, name="hub", release_id="hub-os-1.7.0", forced=True, now=T0,
                             waves=(WavePolicy(1.0),))
    fc.start_campaign(fleet, cid, now=T0)
    offer_open_waves(fleet, cid, now=T0 + timedelta(hours=1))
    ids = vdb.vehicle_columns(fleet)["id"][:2]
    at = T0 + timedelta(hours=2)
    cdb.record_reports(fleet, cid, ids, np.array(["succeeded", "failed"], dtype=object), at=at)
    vins = {r.id: r.vin for r in vdb.list_vehicles(fleet, limit=10)}
    first = vins[int(ids[0])]
    ingest(fleet, [TelemetryEvent(first, "soc", at + timedelta(hours=5), value=64.5),
                   TelemetryEvent(first, "odometer", at + timedelta(hours=5), value=12_345.0)])
    events = vehicle_history(fleet, first)
    assert [e.action for e in events] == ["targeted", "offered", "reported"]
    assert events[-1].outcome == "succeeded" and events[-1].release_id == "hub-os-1.7.0"
    assert events[1].at == T0 + timedelta(hours=1)
    assert vehicle_history(fleet, vins[int(ids[1])])[-1].outcome == "failed"
    detail = vehicle_detail(fleet, first)
    assert detail["last_seen"] == (at + timedelta(hours=5)).isoformat()
    units = {s["kind"]: (s["unit"], s["latest"]) for s in detail["telemetry_series"]}
    assert units == {"soc": ("%", 64.5), "odometer": ("km", 12_345.0)}


def test_unknown_vin_is_not_found(fleet: Store) -> None:
    with pytest.raises(NotFoundError):
        vehicle_history(fleet, "NOSUCHVIN")
