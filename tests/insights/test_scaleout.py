"""Dask: a small sweep on a LocalCluster of 2 worker processes equals the serial result exactly."""

from __future__ import annotations

import numpy as np
import pytest

from evplatform.errors import InsightsError
from evplatform.insights.montecarlo import Plan, run_monte_carlo, summarize
from evplatform.insights.npv import economics
from evplatform.insights.scaleout import cluster, configurations, monte_carlo_sweep, vehicle_sweep
from evplatform.insights.scenarios import load_scenarios
from evplatform.workspace import Workspace, load_workspace


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return load_workspace(None)


@pytest.fixture(scope="module")
def plan(ws: Workspace) -> Plan:
    return load_scenarios(ws).scenarios["ai-autonomous"].plan(economics(ws))


def test_serial_sweep_statistics_match_the_in_memory_run(plan: Plan) -> None:
    draws = 250_000
    sweep = monte_carlo_sweep(plan, draws, seed=7)
    exact = summarize(run_monte_carlo(plan, draws, seed=7))
    assert sweep["chunks"] == 3
    for key in ("probability_loss", "probability_separate_loss", "probability_platform_worse"):
        assert sweep[key] == exact[key]  # counts of the same draws
    for arm in ("platform", "advantage"):
        assert sweep[arm]["mean"] == pytest.approx(exact[arm]["mean"], rel=1e-9)
        assert sweep[arm]["std"] == pytest.approx(exact[arm]["std"], rel=1e-6)
        for p in ("p5", "p50", "p95"):
            assert abs(sweep[arm][p] - exact[arm][p]) <= sweep[arm]["bin_width"]


def test_configurations_times_cycles(ws: Workspace) -> None:
    vehicles = configurations(ws, (0.0, 150.0))
    assert len(vehicles) == 2 * len(ws.configurations)
    sweep = vehicle_sweep(vehicles[:6], ["wltc", "cltc"], chunk=4)
    heavy = sweep["cycles"]["wltc"]["battery_kwh_per_100km"]
    assert heavy.shape == (6,) and np.all(heavy[1::2] > heavy[0::2])  # +150 kg uses more energy


def test_dask_equals_serial(ws: Workspace, plan: Plan) -> None:
    """One LocalCluster (2 processes) for both sweeps: Monte Carlo statistics and configurations × cycles."""
    vehicles = configurations(ws)[:8]
    serial_mc = monte_carlo_sweep(plan, 150_000, seed=3)
    serial_vehicles = vehicle_sweep(vehicles, ["wltc", "udds"], chunk=4)
    with cluster(workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        dask_mc = monte_carlo_sweep(plan, 150_000, seed=3, client=client)
        dask_vehicles = vehicle_sweep(vehicles, ["wltc", "udds"], client=client, chunk=4)
    assert dask_mc == serial_mc
    assert dask_vehicles["vehicles"] == serial_vehicles["vehicles"]
    for cycle, columns in serial_vehicles["cycles"].items():
        for key, values in columns.items():
            assert np.array_equal(dask_vehicles["cycles"][cycle][key], values), (cycle, key)


def test_unreachable_scheduler_is_an_insights_error() -> None:
    unreachable = cluster("tcp://127.0.0.1:1", timeout_s=1)
    with pytest.raises(InsightsError, match="cannot reach the Dask scheduler"), unreachable:
        pass
