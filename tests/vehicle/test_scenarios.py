"""Workspace-level hub scenarios and the `evplatform hub` commands."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import evplatform.vehicle
from evplatform.errors import VehicleError
from evplatform.vehicle import load_vehicle_params
from evplatform.vehicle.hub.faults import Fault
from evplatform.vehicle.scenarios import aeb_report, alks_report, fault_report
from evplatform.workspace import load_workspace

VEHICLE_PAGE = Path(__file__).resolve().parents[2] / "docs" / "virtual-vehicle.md"


def test_fault_report_follows_each_trims_redundancy() -> None:
    ws = load_workspace(None)
    rows = fault_report(ws, model="su7", faults=[Fault.BRAKE_CHANNEL_LOSS])
    modes = {r["vehicle"]: r["mode"] for r in rows}
    redundant = {t.key for t in ws.trims() if "BrakeRedundancy" in ws.configuration(t) and t.model_id == "su7"}
    assert redundant and all(modes[k] == "redundant_channel" for k in redundant)
    assert all(modes[k] == "controlled_stop" for k in modes if k not in redundant)
    assert all(r["within_limit"] for r in rows)


def test_aeb_and_alks_reports() -> None:
    ws = load_workspace(None)
    aeb = aeb_report(ws)
    assert [r["vehicle"] for r in aeb] == [t.key for t in ws.trims()]
    assert all(len(r["impact_kmh"]) == 9 and r["impact_kmh"][0] == 0.0 for r in aeb if r["aeb"])
    alks = alks_report(ws, model="yu7")
    assert {r["market"] for r in alks} == {m for m in ws.markets if any(t.model_id == "yu7" for t in ws.sold_in(m))}
    assert all(r["alks_limit_kmh"] == (130.0 if r["alks"] and ws.markets[r["market"]].unece else 0.0) for r in alks)
    with pytest.raises(VehicleError, match="unknown model"):
        aeb_report(ws, model="nope")


def test_hub_commands_json() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "evplatform", "hub", *args], capture_output=True, text=True,
                              timeout=180)

    faults = run("faults", "--model", "su7-ultra", "--fault", "motor_derate", "--json")
    assert faults.returncode == 0, faults.stderr
    rows = json.loads(faults.stdout)["faults"]
    assert len(rows) == 1 and rows[0]["mode"] == "limp_mode" and rows[0]["power_limit_kw"] < 1138
    aeb = run("aeb", "--json")
    assert aeb.returncode == 0 and len(json.loads(aeb.stdout)["aeb"]) == 7
    bad = run("faults", "--fault", "meteor")
    assert bad.returncode == 1 and "unknown fault 'meteor'" in bad.stderr


def test_docs_vehicle_file_example_loads(tmp_path: Path) -> None:
    section = VEHICLE_PAGE.read_text(encoding="utf-8").split("# Virtual vehicle", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    path = tmp_path / "car.yaml"
    path.write_text(block.group(1))
    vehicle = load_vehicle_params(path)
    assert (vehicle.mass_kg, vehicle.drive, vehicle.voltage_v) == (1850.0, "RWD", 800.0)


def test_public_names_are_exported() -> None:
    names = evplatform.vehicle.__all__
    assert len(set(names)) == len(names)
    assert all(hasattr(evplatform.vehicle, n) for n in names)
    assert {"simulate_workspace", "simulate_cycle", "load_cycle", "VehicleParams"} <= set(names)
