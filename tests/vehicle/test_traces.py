"""One trim's speed, battery power and SOC traces (the dashboard's charts, ``simulate --traces --json``)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from evplatform.cli.main import app
from evplatform.errors import VehicleError
from evplatform.vehicle.simulate import simulate_trims, simulate_workspace, traces_of, trim_trace
from evplatform.workspace import load_workspace


def test_a_trims_trace_matches_its_row_of_the_batch() -> None:
    ws = load_workspace(None)
    trace = trim_trace(ws, "su7/pro", "wltc")
    row = next(r for r in simulate_workspace(ws, None, "wltc") if r["vehicle"] == "su7/pro")
    assert trace["consumption_kwh_per_100km"] == row["consumption_kwh_per_100km"]
    assert len(trace["time_s"]) == len(trace["speed_kmh"]) == len(trace["battery_power_kw"]) == len(trace["soc_pct"])
    assert len(trace["time_s"]) == 1800  # WLTC class 3b at 1 Hz
    assert max(trace["speed_kmh"]) > 120 and min(trace["battery_power_kw"]) < 0 < max(trace["battery_power_kw"])
    assert trace["soc_pct"][0] > trace["soc_pct"][-1]


def test_traces_need_a_simulation_run_with_traces() -> None:
    with pytest.raises(VehicleError, match="without traces"):
        traces_of(simulate_trims(load_workspace(None), model="yu7"))


def test_the_command_adds_traces_on_request() -> None:
    result = CliRunner().invoke(app, ["simulate", "--model", "yu7", "--no-plots", "--traces", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["traces"]) == {"yu7/standard", "yu7/pro", "yu7/max"}
    assert set(data["traces"]["yu7/max"]) == {"cycle", "time_s", "speed_kmh", "battery_power_kw", "soc_pct"}
    plain = json.loads(CliRunner().invoke(app, ["simulate", "--model", "yu7", "--no-plots", "--json"]).stdout)
    assert "traces" not in plain
