"""Campaign targets: the operator's filter, compatibility, consent and never a downgrade."""

from __future__ import annotations

import pytest

from evplatform.errors import FleetError
from evplatform.fleet import targets as ft
from evplatform.ota.releases import version_key
from evplatform.store import Store
from evplatform.store import releases as rdb
from evplatform.workspace import Workspace
from fleet_support import T0, add_release


def test_target_filter_by_market_parent_trim_and_expression(fleet: Store) -> None:
    release = rdb.release(fleet, "hub-os-1.7.0")
    assert release is not None
    eu = ft.select_targets(fleet, release, ft.TargetFilter(markets=("EU",)), forced=True)
    assert set(eu.markets.tolist()) == {"DE"} and len(eu.vehicle_ids) == 6 * 40
    trim = ft.select_targets(fleet, release, ft.TargetFilter(trims=("su7/max",)), forced=True)
    assert set(trim.cohorts.tolist()) == {"su7/max"} and len(trim.vehicle_ids) == 80
    expr = ft.select_targets(fleet, release, ft.TargetFilter(expression="LidarSuite & Market_CN"), forced=True)
    assert len(expr.vehicle_ids) and set(expr.markets.tolist()) == {"CN"}
    assert "su7/standard" not in set(expr.cohorts.tolist())


def test_bad_filter_expression_is_a_clear_error() -> None:
    with pytest.raises(FleetError, match="target filter expression"):
        ft.TargetFilter(expression="Pack_LFP_73 & (")
    with pytest.raises(FleetError, match="unknown target filter field"):
        ft.TargetFilter.from_dict({"colour": "red"})


def test_incompatible_vehicles_are_left_out(fleet: Store, demo: Workspace) -> None:
    release_id = add_release(fleet, demo, "bms-lfp", "5.2.0")
    release = rdb.release(fleet, release_id)
    assert release is not None
    targets = ft.select_targets(fleet, release, ft.TargetFilter(), forced=True)
    assert targets.excluded["incompatible configuration"] > 0
    for cohort in set(targets.cohorts.tolist()):
        trim = demo.trim(cohort)
        assert {"Pack_LFP_73", "Pack_LFP_96"} & demo.configuration(trim)


def test_soft_updates_skip_vehicles_without_consent(store: Store, demo: Workspace) -> None:
    from dataclasses import replace

    from evplatform.fleet.registry import register_vehicles
    from fleet_support import small_fleet_specs

    specs = small_fleet_specs(demo, 2, markets=("CN",))
    specs = [replace(s, consent_updates=i % 2 == 0) for i, s in enumerate(specs)]
    register_vehicles(store, demo, specs, at=T0)
    release_id = add_release(store, demo, "hub-os", "1.7.0")
    release = rdb.release(store, release_id)
    assert release is not None
    soft = ft.select_targets(store, release, ft.TargetFilter(), forced=False)
    forced = ft.select_targets(store, release, ft.TargetFilter(), forced=True)
    assert len(forced.vehicle_ids) == len(specs)
    assert len(soft.vehicle_ids) == len(specs) // 2 and soft.excluded["no consent to updates"] == len(specs) // 2


def test_never_a_downgrade(fleet: Store, demo: Workspace) -> None:
    release_id = add_release(fleet, demo, "hub-os", "1.5.9")  # installed: 1.6.0
    release = rdb.release(fleet, release_id)
    assert release is not None
    targets = ft.select_targets(fleet, release, ft.TargetFilter(), forced=True)
    assert len(targets.vehicle_ids) == 0 and targets.excluded == {"newer version installed": 520}
    assert version_key("1.10.0") > version_key("1.9.2") > version_key("1.9")
