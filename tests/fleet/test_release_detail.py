"""The "too young" stability rule, a release's stability over time, and its images against the fleet's versions."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from evplatform.fleet import WavePolicy
from evplatform.fleet import campaigns as fc
from evplatform.fleet.release_detail import catalogue_entry, release_insight
from evplatform.fleet.stability import maturity, release_stability, stability_over_time
from evplatform.fleet.telemetry import TelemetryEvent, ingest
from evplatform.store import Store
from evplatform.store import campaigns as cdb
from evplatform.store import releases as rdb
from evplatform.store import vehicles as vdb
from fleet_support import T0, approve, offer_open_waves


def test_maturity_rule() -> None:
    assert maturity(None, 0, T0).too_young  # never installed
    young = maturity(T0, 0, T0 + timedelta(minutes=5))
    assert young.too_young and young.mature_at == T0 + timedelta(days=7)
    assert maturity(T0, 10, T0 + timedelta(days=7)).too_young is False
    assert maturity(T0, 0, T0 + timedelta(days=8)).too_young  # no vehicle watched for the whole window


def _install(fleet: Store, outcomes: list[str], at_hours: float) -> tuple[int, np.ndarray]:
    approve(fleet, "hub-os-1.7.0", "CN", "EU")
    cid = fc.create_campaign(fleet, name="k", release_id="hub-os-1.7.0", forced=True, now=T0,
                             waves=(WavePolicy(1.0),))
    fc.start_campaign(fleet, cid, now=T0)
    offer_open_waves(fleet, cid)
    ids = vdb.vehicle_columns(fleet)["id"][: len(outcomes)]
    cdb.record_reports(fleet, cid, ids, np.array(outcomes, dtype=object), at=T0 + timedelta(hours=at_hours))
    return cid, ids


def test_a_release_minutes_old_is_too_young_then_counts_only_vehicles_watched_seven_days(fleet: Store) -> None:
    _, ids = _install(fleet, ["succeeded"] * 10, at_hours=1)
    installed = T0 + timedelta(hours=1)
    (young,) = release_stability(fleet, now=installed + timedelta(minutes=10))
    assert young.too_young and young.crash_free_7d is None and young.observed_vehicles_7d == 0
    assert young.install_success_rate == 1.0  # install figures need no window
    assert young.to_dict()["mature_at"] == (installed + timedelta(days=7)).isoformat()
    vins = {r.id: r.vin for r in vdb.list_vehicles(fleet, limit=600)}
    ingest(fleet, [TelemetryEvent(vins[int(ids[0])], "crash", installed + timedelta(days=2))])
    (ripe,) = release_stability(fleet, now=installed + timedelta(days=8))
    assert not ripe.too_young and ripe.observed_vehicles_7d == 10
    assert ripe.crash_free_7d == pytest.approx(0.9)


def test_stability_over_time_says_too_young_for_the_first_week(fleet: Store) -> None:
    _install(fleet, ["succeeded"] * 8 + ["failed"] * 2, at_hours=1)
    points = stability_over_time(fleet, "hub-os-1.7.0", now=T0 + timedelta(days=10))
    assert len(points) == 10
    assert all(p["too_young"] and p["crash_free_7d"] is None for p in points[:7])
    assert not points[-1]["too_young"] and points[-1]["crash_free_7d"] == 1.0
    assert points[0]["reports"] == 10 and points[0]["install_success_rate"] == pytest.approx(0.8)
    assert stability_over_time(fleet, "no-such-release") == []


def _catalogue(root: Path) -> None:
    """A catalogue as ``ota release`` writes it: 1.6.0, then 1.7.0 with a delta from 1.6.0."""
    (root / "releases").mkdir(parents=True)
    image = {"component": "hub-os", "ecu": "central-compute", "hardware_id": "MD-HUB-A1", "file": "hub.bin"}
    old = {"id": "hub-os-1.6.0", "version": "1.6.0", "images": [image | {"sha256": "a" * 64, "length": 4_000_000}],
           "deltas": {}}
    new = {"id": "hub-os-1.7.0", "version": "1.7.0", "images": [image | {"sha256": "b" * 64, "length": 4_200_000}],
           "rxswin": {"su7": "R156-SU7-0002"},
           "deltas": {"central-compute": {"from_release": "hub-os-1.6.0", "algorithm": "hdiffpatch",
                                          "patch_length": 310_000, "new_length": 4_200_000}}}
    for entry in (old, new):
        (root / "releases" / f"{entry['id']}.json").write_text(json.dumps(entry))


def test_release_images_and_deltas_against_the_fleet_versions(fleet: Store, tmp_path: Path) -> None:
    _catalogue(tmp_path)
    release = rdb.release(fleet, "hub-os-1.7.0")
    assert release is not None
    versions = {v: n for v, n in ((f["version"], f["vehicles"]) for f in
                                  release_insight(fleet, release, None, T0)["fleet_versions"])}
    insight = release_insight(fleet, release, tmp_path, T0)
    assert insight["published"] and insight["images"][0]["sha256"] == "b" * 64
    assert insight["rxswin"]["declared"] == {"su7": "R156-SU7-0002"}
    rows = {f["version"]: f for f in insight["fleet_versions"]}
    assert {v: f["vehicles"] for v, f in rows.items()} == versions
    assert "1.6.0" in rows
    for version, row in rows.items():
        expected = ("delta", 310_000) if version == "1.6.0" else ("full", 4_200_000)
        assert (row["download"], row["bytes"]) == expected, version
    unpublished = release_insight(fleet, release, None, T0)
    assert not unpublished["published"] and {f["download"] for f in unpublished["fleet_versions"]} <= {
        "unknown", "installed"}
    assert unpublished["stability"]["too_young"]  # no report yet: too young, not "100 %"


def test_multi_image_releases_are_found_by_their_fleet_id(tmp_path: Path) -> None:
    (tmp_path / "releases").mkdir()
    entry = {"id": "bundle-2.0", "version": "2.0", "images": [{"component": "hub-os"}, {"component": "zone-fw"}]}
    (tmp_path / "releases" / "bundle-2.0.json").write_text(json.dumps(entry))
    assert catalogue_entry(tmp_path, "bundle-2.0-zone-fw") == entry
    assert catalogue_entry(tmp_path, "bundle-2.0-other") is None
    assert catalogue_entry(None, "bundle-2.0") is None


def test_recorded_rxswin_change_and_evidence_in_the_history(fleet: Store) -> None:
    from evplatform.fleet.vehicle_detail import vehicle_history
    from evplatform.store import update_records as udb

    cid, ids = _install(fleet, ["succeeded", "succeeded", "failed"], at_hours=1)
    rows = [{"campaign_id": cid, "vehicle_id": int(v), "recorded_at": T0, "version_before": "1.6.0",
             "rxswin_before": {"R156": "R156-A-1"}, "rxswin_after": {"R156": "R156-A-2" if i < 2 else "R156-A-1"},
             "hardware_id_found": "MD-HUB-A1", "configuration_matches": True, "parked": True,
             "state_of_charge_pct": 80.0, "soc_threshold_pct": 30.0, "notes_shown": True, "consent": "forced"}
            for i, v in enumerate(ids.tolist())]
    udb.save_evidence(fleet, rows)
    release = rdb.release(fleet, "hub-os-1.7.0")
    assert release is not None
    recorded = release_insight(fleet, release, None, T0 + timedelta(days=1))["rxswin"]["recorded"]
    # the failed one is not a change
    assert recorded == [{"regulation": "R156", "before": "R156-A-1", "after": "R156-A-2", "vehicles": 2}]
    vin = next(r.vin for r in vdb.list_vehicles(fleet, limit=600) if r.id == int(ids[0]))
    assert vehicle_history(fleet, vin)[-1].evidence is True
