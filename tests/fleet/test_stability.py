"""Stability KPIs on hand-counted reports and crashes."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from evplatform.fleet import campaigns as fc
from evplatform.fleet.stability import release_stability, updates_per_vehicle_per_quarter
from evplatform.fleet.telemetry import TelemetryEvent, ingest
from evplatform.store import Store
from evplatform.store import campaigns as cdb
from evplatform.store import vehicles as vdb
from fleet_support import T0, approve


def test_kpis_count_each_vehicle_once_and_crashes_within_seven_days(fleet: Store) -> None:
    approve(fleet, "hub-os-1.7.0", "CN", "EU")
    cid = fc.create_campaign(fleet, name="k", release_id="hub-os-1.7.0", forced=True, now=T0)
    fc.start_campaign(fleet, cid, now=T0)
    ids = vdb.vehicle_columns(fleet)["id"][:100]
    outcomes = np.array(["succeeded"] * 90 + ["failed"] * 6 + ["rolled_back"] * 4, dtype=object)
    at = T0 + timedelta(hours=2)
    cdb.record_reports(fleet, cid, ids, outcomes, at=at)
    cdb.record_reports(fleet, cid, ids[:10], outcomes[:10], at=at)  # repeats: not counted
    vins = {r.id: r.vin for r in vdb.list_vehicles(fleet, limit=200)}
    ingest(fleet, [
        TelemetryEvent(vins[int(ids[0])], "crash", at + timedelta(days=1), release_id="hub-os-1.7.0"),
        TelemetryEvent(vins[int(ids[0])], "crash", at + timedelta(days=2)),  # same vehicle: one crashed vehicle
        TelemetryEvent(vins[int(ids[1])], "crash", at + timedelta(days=8)),  # after the 7 days
        TelemetryEvent(vins[int(ids[2])], "crash", at + timedelta(days=1), release_id="other-9"),  # other software
        TelemetryEvent(vins[int(ids[3])], "crash", at - timedelta(hours=1)),  # before installing
        TelemetryEvent(vins[int(ids[97])], "crash", at + timedelta(days=1)),  # rolled back after running it
    ])
    (kpi,) = release_stability(fleet)
    assert (kpi.reports, kpi.succeeded, kpi.failed, kpi.rolled_back) == (100, 90, 6, 4)
    assert kpi.install_success_rate == pytest.approx(0.90)
    assert kpi.rollback_rate == pytest.approx(0.04)
    assert kpi.installed_vehicles == 94
    assert kpi.crashed_vehicles_7d == 2
    assert kpi.crash_free_7d == pytest.approx(92 / 94)
    (quarter,) = updates_per_vehicle_per_quarter(fleet)
    assert quarter == {"quarter": "2026-Q4", "updates": 90, "vehicles": 520, "updates_per_vehicle": 90 / 520}


def test_no_reports_no_kpis(fleet: Store) -> None:
    assert release_stability(fleet) == []
    assert updates_per_vehicle_per_quarter(fleet) == []
