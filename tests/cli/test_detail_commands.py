"""`evplatform fleet vehicle VIN` and `evplatform ota release show ID` through the real entry point."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from evplatform.fleet import build_demo_database
from evplatform.ota.records import CSV_COLUMNS
from evplatform.service.details import HISTORY_COLUMNS
from evplatform.store import details as ddb
from evplatform.store import open_store
from evplatform.store import vehicles as vdb


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evplatform", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A small demo database and the VIN of a vehicle a campaign reported on."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cli-detail') / 'demo.db'}"
    build_demo_database(url, vehicles=120)
    with open_store(url) as store:
        for vehicle in vdb.list_vehicles(store, limit=120):
            if any(s.outcome for s in ddb.vehicle_campaign_steps(store, vehicle.id)):
                return url, vehicle.vin
    raise AssertionError("no demo vehicle was updated")


def test_fleet_vehicle_json_has_history(demo: tuple[str, str], tmp_path: Path) -> None:
    url, vin = demo
    done = run("fleet", "vehicle", vin, "--database", url, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["vin"] == vin and data["written"] is None
    assert [e["action"] for e in data["history"]][-1] == "reported"
    assert {"hardware_ids", "software", "rxswin", "last_seen", "telemetry_series"} <= set(data)


def test_fleet_vehicle_writes_records_and_history(demo: tuple[str, str], tmp_path: Path) -> None:
    url, vin = demo
    out = tmp_path / "records.csv"
    done = run("fleet", "vehicle", vin, "--database", url, "--records", "csv", "--output", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS and rows[1][0] == vin
    as_json = tmp_path / "records.json"
    assert run("fleet", "vehicle", vin, "--database", url, "--records", "json", "--output", str(as_json),
               cwd=tmp_path).returncode == 0
    assert json.loads(as_json.read_text())["records"][0]["vin"] == vin
    history = tmp_path / "history.csv"
    assert run("fleet", "vehicle", vin, "--database", url, "--history-csv", "--output", str(history),
               cwd=tmp_path).returncode == 0
    assert tuple(next(csv.reader(io.StringIO(history.read_text())))) == HISTORY_COLUMNS


def test_fleet_vehicle_refusals(demo: tuple[str, str], tmp_path: Path) -> None:
    url, vin = demo
    unknown = run("fleet", "vehicle", "NOSUCHVIN", "--database", url, cwd=tmp_path)
    assert unknown.returncode == 1 and "no vehicle NOSUCHVIN" in unknown.stderr
    no_file = run("fleet", "vehicle", vin, "--database", url, "--records", "csv", cwd=tmp_path)
    assert no_file.returncode == 1 and "--output" in no_file.stderr


def test_ota_release_show(demo: tuple[str, str], tmp_path: Path) -> None:
    url, _ = demo
    done = run("ota", "release", "show", "hub-os-1.7.0", "--database", url, "--root", str(tmp_path), "--json",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["id"] == "hub-os-1.7.0" and data["approvals"] and data["campaigns"]
    assert data["stability"]["too_young"] is False and data["published"] is False
    table = tmp_path / "approvals.csv"
    assert run("ota", "release", "show", "hub-os-1.7.0", "--database", url, "--table", "approvals", "--output",
               str(table), cwd=tmp_path).returncode == 0
    assert table.read_text().startswith("market,authority,reference,approved_at,approved_by")
    missing = run("ota", "release", "show", "nope", "--database", url, cwd=tmp_path)
    assert missing.returncode == 1 and "no release 'nope'" in missing.stderr


def test_ota_release_still_publishes_a_manifest_by_default(tmp_path: Path) -> None:
    """`ota release MANIFEST` (no subcommand) is still the publish command: a missing manifest is its error."""
    done = run("ota", "release", str(tmp_path / "missing.yaml"), "--no-repository", cwd=tmp_path)
    assert done.returncode != 0
    assert "No such command" not in done.stderr and "missing.yaml" in done.stderr
