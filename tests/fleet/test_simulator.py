"""The fleet simulator, its command and the demo database: proportions, halting, JSON shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evplatform.errors import FleetError
from evplatform.fleet.demo import build_demo_database
from evplatform.fleet.registry import check_vin
from evplatform.fleet.scenario import load_scenario
from evplatform.fleet.simulator import fleet_plan, make_vins, simulate_fleet, summary_json
from evplatform.store import Store
from evplatform.store import vehicles as vdb
from evplatform.workspace import Workspace


def test_plan_follows_planned_volumes_and_market_shares(demo: Workspace) -> None:
    shares = dict(load_scenario(demo).market_shares)
    plan = fleet_plan(demo, 100_000, seed=1, shares=shares)
    assert sum(n for _, _, n in plan) == 100_000
    by_trim: dict[str, int] = {}
    by_market: dict[str, int] = {}
    for trim, market, n in plan:
        by_trim[trim.key] = by_trim.get(trim.key, 0) + n
        by_market[market] = by_market.get(market, 0) + n
    assert "EU" not in by_market  # a region only groups member states
    assert set(by_market) == {"CN", "DE", "FR", "ES", "IT"}
    # yu7/standard (110k a year) outnumbers su7-ultra/ultra (12k a year, China only)
    assert by_trim["yu7/standard"] > 5 * by_trim["su7-ultra/ultra"]
    assert by_market["CN"] / 100_000 == pytest.approx(shares["CN"], abs=0.03)


def test_generated_vins_are_valid_and_unique() -> None:
    import numpy as np

    vins = make_vins(2, 1, 4, np.arange(0, 1000), "TNY")
    assert len(set(vins)) == 1000 and all(check_vin(v) for v in vins)
    assert all(v.startswith("TNYC14") for v in vins)


def test_simulation_completes_the_good_release_and_halts_the_bad_one(store: Store, demo: Workspace) -> None:
    result = simulate_fleet(store, demo, 3000)
    assert vdb.count_vehicles(store) == 3000
    good, bad = result.campaigns
    assert good["release"] == "hub-os-1.7.0" and good["state"] == "completed"
    assert [w["state"] for w in good["waves"]] == ["done"] * 4
    assert bad["release"] == "adas-high-2.5.0" and bad["state"] == "halted"
    assert "su7/max" in bad["halt_reason"] or "error rate" in bad["halt_reason"]
    assert bad["waves"][-1]["succeeded"] == 0  # never reached the whole fleet
    data = summary_json(result)
    assert set(data) >= {"vehicles", "seconds", "campaigns"}
    assert set(data["campaigns"][0]) >= {"release", "state", "waves", "halt_reason"}
    assert set(data["campaigns"][0]["waves"][0]) >= {"size", "succeeded", "failed", "rolled_back"}
    with pytest.raises(FleetError, match="already holds vehicles"):
        simulate_fleet(store, demo, 10)


def test_fleet_simulate_command_json(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "evplatform", "fleet", "simulate", "--vehicles", "1500", "--json", "--out",
         str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["vehicles"] == 1500
    assert [c["state"] for c in data["campaigns"]] == ["completed", "halted"]
    assert Path(data["plot"]).stat().st_size > 10_000
    assert {k["release"] for k in data["stability"]} == {"hub-os-1.7.0", "adas-high-2.5.0"}


def test_fleet_simulate_refuses_zero_vehicles(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "evplatform", "fleet", "simulate", "--vehicles", "0", "--no-plot"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 1 and "--vehicles must be positive" in result.stderr


def test_demo_database_is_built_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EVPLATFORM_DATABASE_URL", raising=False)
    first = build_demo_database(vehicles=1200)
    assert first.created and first.url.endswith(".evplatform/evplatform.db")
    assert (tmp_path / ".evplatform" / "evplatform.db").exists()
    assert [c["state"] for c in first.campaigns] == ["completed", "halted"]
    again = build_demo_database(vehicles=1200)
    assert not again.created and again.vehicles == 1200
