"""Fleet filter queries compiled to SQL (SQLite and PostgreSQL), the paged list, saved groups, and a
campaign targeting a group."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from evplatform.errors import ConflictError, FleetError, NotFoundError
from evplatform.fleet import create_and_start_campaign, listing
from evplatform.fleet import groups as fg
from evplatform.fleet import targets as ft
from evplatform.fleet.query import QueryError
from evplatform.fleet.registry import VehicleSpec, register_vehicles
from evplatform.store import Store, audit_log
from evplatform.store import releases as rdb
from evplatform.store import vehicles as vdb
from evplatform.workspace import Workspace
from fleet_support import FLEET_NOW, T0, approve

NOW = FLEET_NOW


def _everyone(store: Store) -> list[vdb.VehicleRecord]:
    return vdb.list_vehicles(store, limit=100_000)


def _telemetry(store: Store, vehicles: list[vdb.VehicleRecord]) -> None:
    """Vehicle 0 seen 1 day ago, 1 seen 10 days ago with a crash then, 2 a crash 2 days ago; others never."""
    rows = [
        {"vehicle_id": vehicles[0].id, "kind": "soc", "at": NOW - timedelta(days=1), "value": 50.0},
        {"vehicle_id": vehicles[1].id, "kind": "crash", "at": NOW - timedelta(days=10), "value": None},
        {"vehicle_id": vehicles[1].id, "kind": "soc", "at": NOW - timedelta(days=20), "value": 40.0},
        {"vehicle_id": vehicles[2].id, "kind": "crash", "at": NOW - timedelta(days=2), "value": None},
    ]
    vdb.insert_telemetry(store, [{"release_id": None, "detail": None, **r} for r in rows])


def count(store: Store, text: str) -> int:
    return listing.count(store, text, now=NOW)


def test_queries_match_what_python_finds(fleet: Store, demo: Workspace) -> None:
    vehicles = _everyone(fleet)
    _telemetry(fleet, vehicles)
    by = {v.vin: v for v in vehicles}
    su7 = [v for v in vehicles if v.model == "su7"]
    assert count(fleet, 'model = "SU7"') == len(su7) > 0  # case-insensitive
    assert count(fleet, "market in (EU)") == sum(v.market == "DE" for v in vehicles) > 0  # EU covers DE
    assert count(fleet, "market = eu and model = su7 and trim = MAX") == sum(
        v.market == "DE" and v.trim_key == "su7/max" for v in vehicles)
    adas = demo.software["adas-std"].ecu
    on_adas = [v for v in vehicles if v.software.get(adas, {}).get("version")]
    assert count(fleet, f'version("{adas}") >= "0.0"') == len(on_adas) > 0
    assert count(fleet, f'version("{adas}") < "0.0"') == 0
    assert count(fleet, "last_seen < 7d") == 2  # vehicles 0 (1 day) and 2 (2 days)
    assert count(fleet, "last_seen > 7d") == 1  # vehicle 1: newest event 10 days ago
    assert count(fleet, "last_seen = never") == len(vehicles) - 3
    assert count(fleet, "crashes(7d) > 0") == 1 and count(fleet, "crashes(30d) >= 1") == 2
    assert count(fleet, "crashes(30d) = 0") == len(vehicles) - 2
    assert count(fleet, "crashes(30d) < 1 or last_seen < 3d") == len(vehicles) - 1  # vehicle 2 back in
    first = vehicles[0].vin
    assert count(fleet, f"vin = {first.lower()}") == 1 and count(fleet, f"vin ~ {first[-6:]}") >= 1
    assert count(fleet, f'not vin = "{first}" and vin in ("{first}", "{vehicles[1].vin}")') == 1
    assert count(fleet, "consent_updates = false") == sum(not v.consent_updates for v in by.values())
    assert count(fleet, "registered < 2026-11-02") == 0 and count(fleet, "registered = 2026-11-02") == len(vehicles)
    assert count(fleet, "campaign_state = any") == 0 and count(fleet, "vin ~ '%'") == 0  # % is not a wildcard


def test_search_sorts_pages_and_answers_past_the_end(fleet: Store) -> None:
    total = len(_everyone(fleet))
    first = listing.search(fleet, "", now=NOW, sort="market", descending=True, limit=7)
    assert first.total == total and len(first.vehicles) == 7 and first.first == 1 and first.last == 7
    assert [v.record.market for v in first.vehicles] == sorted((v.record.market for v in first.vehicles), reverse=True)
    assert first.vehicles[0].record.market == "DE" and first.note is None
    assert first.pages == -(-total // 7)
    past = listing.search(fleet, "market = CN", now=NOW, offset=500 * 50, limit=50)
    assert past.vehicles == [] and past.total > 0 and past.first == 0 and past.past_end
    assert past.note == f"Page 501 is past the end: {past.total:,} vehicles fill {past.pages:,} pages."
    with pytest.raises(QueryError, match="column 9"):
        listing.search(fleet, "model = ", now=NOW)


def test_csv_holds_every_matching_vehicle(fleet: Store) -> None:
    text = listing.csv_text(fleet, "market = DE", now=NOW)
    lines = text.strip().splitlines()
    assert lines[0].startswith("vin,model,trim,market,registered_at,last_seen")
    assert len(lines) - 1 == count(fleet, "market = DE") and all(",DE," in line for line in lines[1:])


def test_groups_are_dynamic_and_audited(fleet: Store, demo: Workspace) -> None:
    created = fg.create_group(fleet, "de-su7", "market = de and model = SU7", actor="rita", ws=demo, now=NOW)
    assert created.vehicles == count(fleet, "market = DE and model = su7") > 0
    with pytest.raises(ConflictError, match="already exists"):
        fg.create_group(fleet, "de-su7", "model = su7", actor="rita")
    with pytest.raises(QueryError, match="unknown model"):
        fg.create_group(fleet, "bad", "model = su9", actor="rita")
    with pytest.raises(FleetError, match="group name"):
        fg.create_group(fleet, "no spaces", "model = su7", actor="rita")
    trim = next(t for t in demo.sold_in("DE") if t.model_id == "su7")
    register_vehicles(fleet, demo, [VehicleSpec("LMDLATER000000001", "su7", trim.id, "DE")], at=T0)
    assert fg.group_view(fleet, "de-su7").vehicles == created.vehicles + 1  # evaluated again: dynamic
    assert [g.name for g in fg.list_group_views(fleet)] == ["de-su7"]
    fg.delete_group(fleet, "de-su7", actor="rita")
    with pytest.raises(NotFoundError):
        fg.group_view(fleet, "de-su7")
    actions = [(a.action, a.actor) for a in audit_log(fleet, subject="fleet-group:de-su7")]
    assert actions == [("fleet.group.delete", "rita"), ("fleet.group.create", "rita")]


def test_a_campaign_for_a_group_targets_exactly_its_compatible_vehicles(fleet: Store, demo: Workspace) -> None:
    fg.create_group(fleet, "max-trims", "trim = max or market = DE", actor="rita", ws=demo)
    release = rdb.release(fleet, "hub-os-1.7.0")
    assert release is not None
    approve(fleet, "hub-os-1.7.0", "CN", "DE", "EU")
    compatible = ft.select_targets(fleet, release, ft.TargetFilter(), forced=False).vehicle_ids
    in_group = listing.matching_ids(fleet, "trim = max or market = DE", now=NOW)
    expected = sorted(set(compatible.tolist()) & set(in_group))
    assert 0 < len(expected) < len(compatible)
    campaign_id, summary = create_and_start_campaign(
        fleet, name="group", release_id="hub-os-1.7.0", target=ft.TargetFilter(group="max-trims"), workspace=demo)
    assert summary.targets == len(expected)
    assert listing.matching_ids(fleet, f"campaign({campaign_id}) = any", now=NOW) == expected
    narrowed = ft.select_targets(fleet, release, ft.TargetFilter(group="max-trims", query="model = yu7"), forced=False)
    assert set(narrowed.vehicle_ids.tolist()) == set(expected) & set(
        listing.matching_ids(fleet, "model = yu7", now=NOW)) and len(narrowed.vehicle_ids)
    assert np.all(np.isin(narrowed.vehicle_ids, compatible))


def test_campaign_target_group_and_query_errors(fleet: Store, demo: Workspace) -> None:
    assert ft.TargetFilter.from_dict({"group": "g", "query": "model = su7"}).to_dict()["group"] == "g"
    with pytest.raises(FleetError, match=r"target\.query: query column 9"):
        ft.TargetFilter(query="model = ")
    with pytest.raises(FleetError, match=r"target\.group: no fleet group 'nope'"):
        create_and_start_campaign(fleet, name="x", release_id="hub-os-1.7.0", target=ft.TargetFilter(group="nope"),
                                  workspace=demo)
    with pytest.raises(FleetError, match=r"target\.query: query column 9: unknown model"):
        create_and_start_campaign(fleet, name="x", release_id="hub-os-1.7.0",
                                  target=ft.TargetFilter(query="model = su9"), workspace=demo)


def test_one_software_census_gives_the_per_ecu_counts(fleet: Store, demo: Workspace) -> None:
    """The page's per-ECU summary from one GROUP BY equals one query per ECU (the former way)."""
    from evplatform.store import dashboard, vehicle_query

    ecus = sorted({s.ecu for s in demo.software.values()})
    census = vehicle_query.software_census(fleet)
    total = len(_everyone(fleet))
    assert listing.installed_software(census, ecus, total) == dashboard.software_versions(fleet, ecus)
    options = listing.filter_options(fleet, demo, census)
    assert options["versions"] == {ecu: sorted({v for (_c, v) in found}) for ecu, found in sorted(census.items())}
    assert {m["id"]: m["label"] for m in options["markets"]}["EU"].startswith("EU (region: DE")


def test_preview_and_dry_run_of_a_group_match_the_start(fleet: Store, demo: Workspace) -> None:
    """The wizard's live count and dry run of a saved group judge single vehicles, as the start does."""
    from evplatform.fleet import campaign_planning as cp

    fg.create_group(fleet, "max-trims", "trim = max or market = DE", actor="rita", ws=demo)
    approve(fleet, "hub-os-1.7.0", "CN", "DE", "EU")
    target = ft.TargetFilter(group="max-trims", markets=("CN", "DE"))
    matched = listing.matching_ids(fleet, "trim = max or market = DE", now=NOW)
    counted = cp.preview(fleet, target, release_id="hub-os-1.7.0")
    assert counted.matched.vehicles == len(matched) and sum(counted.matched.by_market.values()) == len(matched)
    plan = cp.CampaignPlan("hub-os-1.7.0", target=target)
    dry = cp.dry_run(fleet, plan, now=NOW, workspace=demo)
    assert dry.matched == len(matched) and not dry.blockers
    for exclusion in dry.excluded:  # the sample VINs are vehicles of the group
        assert set(vdb.vehicle_ids(fleet, list(exclusion.sample_vins)).values()) <= set(matched)
    _, summary = create_and_start_campaign(fleet, name="group", release_id="hub-os-1.7.0", target=target,
                                           workspace=demo)
    assert summary.targets == dry.targets.vehicles == sum(dry.targets.by_trim.values())
