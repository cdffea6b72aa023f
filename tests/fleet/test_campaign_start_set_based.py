"""Issue 16 performance: a start writes its targets set-based from the fleet's cells (one INSERT … SELECT),
never reading the fleet vehicle by vehicle, and chooses exactly the vehicles, waves and cohorts the
per-vehicle rules (``select_targets`` and the seeded shuffle) choose."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sqlalchemy import inspect, select

from evplatform.errors import ConflictError
from evplatform.fleet import campaigns as fc
from evplatform.fleet import gates
from evplatform.fleet.gates import WavePolicy
from evplatform.fleet.registry import register_vehicles
from evplatform.fleet.targets import TargetFilter, select_targets
from evplatform.store import Store
from evplatform.store import campaigns as cdb
from evplatform.store import releases as rdb
from evplatform.store import vehicles as vdb
from evplatform.store.schema import CampaignVehicle
from evplatform.workspace import Workspace
from fleet_support import FLEET_NOW, T0, approve, small_fleet_specs

WAVES = (WavePolicy(0.1), WavePolicy(0.4), WavePolicy(1.0))


def _expected(store: Store, target: TargetFilter, seed: int) -> dict[int, tuple[int, str]]:
    """The per-vehicle rules: targets in id order, shuffled into waves by ``seed`` (the former start)."""
    release = rdb.release(store, "hub-os-1.7.0")
    assert release is not None
    targets = select_targets(store, release, target, forced=False)
    sizes = gates.wave_sizes(len(targets.vehicle_ids), WAVES)
    order = np.random.default_rng(seed).permutation(len(targets.vehicle_ids))
    assigned = np.empty(len(order), dtype=np.int64)
    assigned[order] = np.repeat(np.arange(len(sizes)), sizes)
    return {int(v): (int(w), str(c)) for v, w, c in zip(targets.vehicle_ids, assigned, targets.cohorts, strict=True)}


def _written(store: Store, campaign_id: int) -> dict[int, tuple[int, str]]:
    with store.session() as session:
        rows = session.execute(select(CampaignVehicle.vehicle_id, CampaignVehicle.wave, CampaignVehicle.cohort)
                               .where(CampaignVehicle.campaign_id == campaign_id)).all()
    return {int(v): (int(w), str(c)) for v, w, c in rows}


@pytest.mark.parametrize("target", [TargetFilter(), TargetFilter(models=("su7",), markets=("EU",))],
                         ids=["whole fleet", "su7 in EU"])
def test_start_never_reads_the_fleet_vehicle_by_vehicle_and_matches_the_per_vehicle_rules(
        fleet: Store, target: TargetFilter, monkeypatch: pytest.MonkeyPatch) -> None:
    approve(fleet, "hub-os-1.7.0", "CN", "EU")
    expected = _expected(fleet, target, seed=7)
    assert len({w for w, _ in expected.values()}) == len(WAVES)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the start read every vehicle into Python")

    monkeypatch.setattr(vdb, "vehicle_columns", refuse)
    cid, summary = fc.create_and_start_campaign(fleet, name="x", release_id="hub-os-1.7.0", target=target,
                                                waves=WAVES, seed=7, now=FLEET_NOW)
    assert _written(fleet, cid) == expected and summary.targets == len(expected)
    campaign = cdb.campaign(fleet, cid)
    assert [w.size for w in campaign.waves] == summary.waves and campaign.state == "running"
    assert campaign.timezones  # the targets' time zones, for local maintenance windows


@pytest.mark.parametrize("change", ["one more target", "one target fewer"])
def test_a_fleet_that_changed_since_the_plan_refuses_the_start_and_leaves_nothing(fleet: Store, demo: Workspace,
                                                                                   change: str) -> None:
    approve(fleet, "hub-os-1.7.0", "CN", "EU")
    release = rdb.release(fleet, "hub-os-1.7.0")
    assert release is not None
    assignment, _summary = fc._plan_start(fleet, release, {}, forced=False, seed=0, waves=WAVES, campaign_id=None,
                                          now=FLEET_NOW)
    assert isinstance(assignment, cdb.CellAssignment)
    if change == "one more target":  # registered between the plan and the write
        spec = small_fleet_specs(demo, 1)[0]
        register_vehicles(fleet, demo, [replace(spec, vin="LMDLATE0000000001")], at=T0)
    else:
        assignment = cdb.CellAssignment(assignment.ecu, assignment.cells, np.append(assignment.waves, 0),
                                        assignment.timezones)
    before = len(cdb.list_campaigns(fleet))
    with pytest.raises(ConflictError, match="fleet changed"):
        cdb.create_campaign(fleet, name="x", release_id="hub-os-1.7.0", target={}, waves=[(1.0, 0.95, 0.05, 0.0)],
                            forced=False, window=None, seed=0, created_by="t", at=FLEET_NOW, assignment=assignment)
    assert len(cdb.list_campaigns(fleet)) == before


def test_campaign_vehicles_carry_no_per_row_foreign_keys(fleet: Store) -> None:
    """Migration 0010: the per-row checks (and PostgreSQL's row lock on each vehicle) were most of a
    1,000,000-vehicle start; the start writes its targets from ``vehicles`` in the campaign's locked row's
    transaction instead."""
    with fleet.engine.connect() as connection:
        assert inspect(connection).get_foreign_keys("campaign_vehicles") == []
        if connection.dialect.name == "postgresql":
            types = {c["name"]: type(c["type"]).__name__ for c in inspect(connection).get_columns("vehicles")}
            assert types["software"] == types["hardware_ids"] == "JSONB"
