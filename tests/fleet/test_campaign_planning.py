"""Issue 16 §1: the live count, the dry run (reasons, sample VINs, approvals), templates, atomic create-and-start."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest

from evplatform.errors import FleetError, NotFoundError
from evplatform.fleet import campaign_planning as cp
from evplatform.fleet import campaigns as fc
from evplatform.fleet.gates import CampaignInputError, MaintenanceWindow, WavePolicy
from evplatform.fleet.registry import register_vehicles
from evplatform.fleet.targets import TargetFilter, select_targets
from evplatform.store import Store
from evplatform.store import campaigns as cdb
from evplatform.store import releases as rdb
from evplatform.store import vehicles as vdb
from evplatform.workspace import Workspace
from fleet_support import FLEET_NOW, T0, add_release, approve, small_fleet_specs

PER_CELL = 40  # the fleet fixture: 40 vehicles of every trim in CN and DE


def _excluded(dry: cp.DryRun, reason: str) -> int:
    return sum(e.vehicles for e in dry.excluded if e.reason == reason)


def _sums(b: cp.Breakdown) -> tuple[int, int, int]:
    return sum(b.by_model.values()), sum(b.by_trim.values()), sum(b.by_market.values())


def test_live_count_breakdowns_sum_to_the_count(fleet: Store, demo: Workspace) -> None:
    everything = cp.preview(fleet, TargetFilter(), workspace=demo)
    specs = small_fleet_specs(demo, PER_CELL)
    assert everything.fleet == everything.matched.vehicles == len(specs)
    assert _sums(everything.matched) == (len(specs),) * 3
    assert everything.matched.by_market == {"CN": sum(s.market == "CN" for s in specs),
                                            "DE": sum(s.market == "DE" for s in specs)}

    eu = cp.preview(fleet, TargetFilter(markets=("EU",)), workspace=demo)  # the region covers DE
    assert set(eu.matched.by_market) == {"DE"} and eu.matched.vehicles == sum(s.market == "DE" for s in specs)
    su7 = cp.preview(fleet, TargetFilter(models=("su7",), markets=("CN",)))
    assert su7.matched.by_model == {"su7": PER_CELL * len(demo.models["su7"].trims)}
    assert _sums(su7.matched) == (su7.matched.vehicles,) * 3

    lidar = cp.preview(fleet, TargetFilter(expression="LidarSuite & Market_CN"))
    expected = sum(1 for s in specs if s.market == "CN"
                   and "LidarSuite" in demo.configuration(demo.trim(f"{s.model}/{s.trim}"), "CN"))
    assert lidar.matched.vehicles == expected > 0 and set(lidar.matched.by_market) == {"CN"}


def test_live_count_by_current_version_needs_the_release(fleet: Store, demo: Workspace) -> None:
    installed = demo.software["hub-os"].version
    with pytest.raises(CampaignInputError, match="current_versions"):
        cp.preview(fleet, TargetFilter(current_versions=(installed,)))
    on_it = cp.preview(fleet, TargetFilter(current_versions=(installed,)), release_id="hub-os-1.7.0")
    assert on_it.matched.vehicles == on_it.fleet
    assert cp.preview(fleet, TargetFilter(current_versions=("0.0.1",)), release_id="hub-os-1.7.0").matched.vehicles == 0
    with pytest.raises(NotFoundError):
        cp.preview(fleet, TargetFilter(), release_id="no-such-release")
    with pytest.raises(CampaignInputError, match="unknown market 'XX'"):
        cp.preview(fleet, TargetFilter(markets=("XX",)), workspace=demo)


def test_dry_run_names_every_reason_with_counts_and_real_vins(store: Store, demo: Workspace) -> None:
    specs = small_fleet_specs(demo, 6)
    specs = [replace(s, consent_updates=i % 5 != 0) for i, s in enumerate(specs)]
    register_vehicles(store, demo, specs, at=T0)
    installed = demo.software["hub-os"].version
    plans = {
        "incompatible configuration": add_release(store, demo, "bms-lfp", "9.0.0"),
        "already on this version": add_release(store, demo, "hub-os", installed),
        "newer version installed": add_release(store, demo, "hub-os", "0.1.0"),
    }
    by_vin = {s.vin: s for s in specs}
    for reason, release_id in plans.items():
        found = cp.dry_run(store, cp.CampaignPlan(release_id, forced=True), now=FLEET_NOW, workspace=demo)
        excluded = {e.reason: e for e in found.excluded}
        assert excluded[reason].vehicles > 0
        assert 0 < len(excluded[reason].sample_vins) <= cp.SAMPLE_VINS
        assert set(excluded[reason].sample_vins) <= set(by_vin)
        assert found.matched == len(specs) == found.targets.vehicles + sum(e.vehicles for e in found.excluded)
    soft = cp.dry_run(store, cp.CampaignPlan(add_release(store, demo, "hub-os", "9.0.0")), now=FLEET_NOW)
    refused = {e.reason: e for e in soft.excluded}["no consent to updates"]
    assert refused.vehicles == sum(not s.consent_updates for s in specs)
    assert all(not by_vin[v].consent_updates for v in refused.sample_vins)
    other = cp.dry_run(store, cp.CampaignPlan("hub-os-9.0.0", TargetFilter(current_versions=("1.0.0",)),
                                              forced=True), now=FLEET_NOW)
    assert {e.reason for e in other.excluded} == {"other current version"} and other.targets.vehicles == 0
    assert any("no vehicle to update" in b for b in other.blockers) and not other.can_start


@pytest.mark.parametrize("forced", [False, True])
def test_the_consent_rule_is_its_own_setting_in_the_dry_run_and_the_start(
    store: Store, demo: Workspace, forced: bool,
) -> None:
    """required keeps a forced update to consenting owners; not_required offers a soft one to everyone;
    auto follows forced/soft. The start agrees with the dry run and keeps the rule on the campaign."""
    specs = [replace(s, consent_updates=i % 3 != 0) for i, s in enumerate(small_fleet_specs(demo, 4))]
    register_vehicles(store, demo, specs, at=T0)
    refusing = sum(not s.consent_updates for s in specs)
    release = add_release(store, demo, "hub-os", "9.0.0")
    approve(store, release, *demo.markets)
    found = {rule: cp.dry_run(store, cp.CampaignPlan(release, forced=forced, consent=rule), now=FLEET_NOW)
             for rule in ("auto", "required", "not_required")}
    reason = "no consent to updates"
    assert refusing > 0
    assert _excluded(found["required"], reason) == refusing
    assert _excluded(found["not_required"], reason) == 0
    assert _excluded(found["auto"], reason) == (0 if forced else refusing)
    assert found["not_required"].targets.vehicles - found["required"].targets.vehicles == refusing
    for rule, dry in found.items():
        cid, summary = fc.create_and_start_campaign(store, name=rule, release_id=release, forced=forced,
                                                    consent=rule, now=FLEET_NOW)
        assert summary.targets == dry.targets.vehicles and summary.excluded.get(reason, 0) == _excluded(dry, reason)
        assert fc.progress(store, cid)["consent"] == rule and cp.plan_of(store, cid).consent == rule
        fc.cancel_campaign(store, cid, reason="next rule")
    with pytest.raises(CampaignInputError, match="consent: 'maybe'"):
        cp.CampaignPlan(release, consent="maybe")
    with pytest.raises(CampaignInputError, match="consent"):
        fc.create_campaign(store, name="x", release_id=release, consent="maybe")


def test_dry_run_agrees_with_the_start(fleet: Store, demo: Workspace) -> None:
    approve(fleet, "hub-os-1.7.0", "CN", "EU")
    plan = cp.CampaignPlan("hub-os-1.7.0", TargetFilter(models=("su7", "yu7")),
                           waves=(WavePolicy(0.05), WavePolicy(0.5), WavePolicy(1.0)))
    found = cp.dry_run(fleet, plan, now=FLEET_NOW, workspace=demo)
    assert found.can_start and found.blockers == []
    assert _sums(found.targets) == (found.targets.vehicles,) * 3
    cid = fc.create_campaign(fleet, name="x", release_id=plan.release_id, target=plan.target, waves=plan.waves)
    summary = fc.start_campaign(fleet, cid, now=FLEET_NOW)
    assert summary.targets == found.targets.vehicles and summary.waves == found.wave_sizes
    assert summary.excluded == {e.reason: e.vehicles for e in found.excluded}
    # a second campaign on the same ECU is what a start would refuse next: the dry run says so
    again = cp.dry_run(fleet, plan, now=FLEET_NOW)
    assert any(f"campaign {cid}" in b and "still running" in b for b in again.blockers)


def test_approval_check_names_the_markets_that_lack_one(fleet: Store, demo: Workspace) -> None:
    plan = cp.CampaignPlan("hub-os-1.7.0", TargetFilter(markets=("CN", "EU")), forced=True)
    none = cp.dry_run(fleet, plan, now=FLEET_NOW)
    assert none.approvals.required == ("CN", "DE") and none.approvals.missing == ("CN", "DE")
    assert none.approvals.basis["DE"] and any("CN, DE" in b for b in none.blockers)
    approve(fleet, "hub-os-1.7.0", "EU")  # a region's approval covers its members
    eu = cp.dry_run(fleet, plan, now=FLEET_NOW)
    assert eu.approvals.approved == ("DE",) and eu.approvals.missing == ("CN",) and not eu.can_start
    with pytest.raises(FleetError, match=r"market\(s\) CN"):
        fc.create_and_start_campaign(fleet, name="x", release_id=plan.release_id, target=plan.target, forced=True,
                                     now=FLEET_NOW)


def test_refused_create_and_start_leaves_nothing_behind(fleet: Store) -> None:
    before = len(cdb.list_campaigns(fleet))
    with pytest.raises(FleetError, match="no approval record"):
        fc.create_and_start_campaign(fleet, name="refused", release_id="hub-os-1.7.0", now=FLEET_NOW)
    assert len(cdb.list_campaigns(fleet)) == before  # no draft left behind
    approve(fleet, "hub-os-1.7.0", "CN", "DE")
    cid, summary = fc.create_and_start_campaign(fleet, name="ok", release_id="hub-os-1.7.0", now=FLEET_NOW)
    assert cdb.campaign(fleet, cid).state == "running" and summary.targets > 0


def test_template_round_trips(fleet: Store, demo: Workspace) -> None:
    plan = cp.CampaignPlan(
        "hub-os-1.7.0", TargetFilter(models=("su7",), trims=("su7/max",), markets=("EU",), expression="LidarSuite",
                                     current_versions=(demo.software["hub-os"].version,)),
        waves=(WavePolicy(0.02, 0.95, 0.01, 24.0), WavePolicy(1.0, 0.8, 0.05, 0.0)), forced=True,
        window=MaintenanceWindow(time(22, 0), time(4, 0)), seed=42, name="night rollout", consent="required")
    assert cp.CampaignPlan.from_dict(plan.to_dict()) == plan
    cid = fc.create_campaign(fleet, name=plan.name, release_id=plan.release_id, target=plan.target, waves=plan.waves,
                             forced=plan.forced, consent=plan.consent, window=plan.window, seed=plan.seed,
                             workspace=demo)
    copied = cp.plan_of(fleet, cid)
    assert copied == replace(plan, name="night rollout (copy)")
    assert copied.consent == "required" and copied.to_dict()["consent_rule"].startswith("required: ")
    assert cp.CampaignPlan("r", forced=True).to_dict()["consent_rule"].startswith("auto (forced): offered to every")
    with pytest.raises(NotFoundError):
        cp.plan_of(fleet, 999)


def test_the_dry_run_writes_nothing(fleet: Store) -> None:
    before = (len(cdb.list_campaigns(fleet)), vdb.count_vehicles(fleet), len(rdb.approvals(fleet, "hub-os-1.7.0")))
    cp.dry_run(fleet, cp.CampaignPlan("hub-os-1.7.0"), now=FLEET_NOW)
    assert (len(cdb.list_campaigns(fleet)), vdb.count_vehicles(fleet),
            len(rdb.approvals(fleet, "hub-os-1.7.0"))) == before


def test_dry_run_refuses_a_bad_plan_before_reading_the_fleet(fleet: Store, demo: Workspace) -> None:
    with pytest.raises(CampaignInputError, match="last wave"):
        cp.dry_run(fleet, cp.CampaignPlan("hub-os-1.7.0", waves=(WavePolicy(0.5),)), now=FLEET_NOW)
    with pytest.raises(NotFoundError):
        cp.dry_run(fleet, cp.CampaignPlan("nope-1.0"), now=FLEET_NOW)
    with pytest.raises(CampaignInputError, match="unknown model"):
        cp.dry_run(fleet, cp.CampaignPlan("hub-os-1.7.0", TargetFilter(models=("su8",))), now=FLEET_NOW,
                   workspace=demo)


def test_select_targets_keeps_the_ids_it_leaves_out(fleet: Store) -> None:
    release = rdb.release(fleet, "hub-os-1.7.0")
    assert release is not None
    found = select_targets(fleet, release, TargetFilter(), forced=False)
    assert {r: len(ids) for r, ids in found.excluded_ids.items()} == found.excluded
