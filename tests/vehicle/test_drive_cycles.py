"""Packaged drive cycles against the shared reference traces and their checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evplatform.errors import VehicleError
from evplatform.vehicle.drive_cycles import CYCLES, load_cycle
from reference_data import shared_data_path

FILES = {"wltc": "wltc_class3b", "cltc": "cltc_p", "udds": "udds", "hwfet": "hwfet", "nedc": "nedc"}


@pytest.mark.parametrize("name", list(CYCLES))
def test_duration_and_distance_match_checks(name: str) -> None:
    checks = json.loads(shared_data_path("cycles", "checks.json").read_text())[FILES[name]]
    cycle = load_cycle(name)
    assert cycle.duration_s == checks["official"]["duration"]
    # NEDC: our trace keeps R83's 35→32 km/h drop during the third ECE gear change (1.0146 km per
    # ECE-15); the shared copy holds 35 km/h. Both are within 0.2 % of the measured figure.
    assert cycle.distance_km == pytest.approx(checks["measured"]["dist_km"], rel=2e-3)
    assert cycle.distance_km == pytest.approx(checks["official"]["dist_km"], rel=2e-3)
    assert cycle.speed_mps.max() * 3.6 == pytest.approx(checks["official"]["vmax"], abs=0.05)


@pytest.mark.parametrize("name", ["wltc", "cltc", "udds", "hwfet"])
def test_tables_equal_reference_trace(name: str) -> None:
    reference = np.genfromtxt(shared_data_path("cycles", f"{FILES[name]}.csv"), delimiter=",", skip_header=1)
    assert np.allclose(load_cycle(name).speed_mps * 3.6, reference[:, 1], atol=1e-3)


def test_ten_hz_keeps_distance() -> None:
    one, ten = load_cycle("wltc"), load_cycle("wltc", 10)
    assert ten.dt_s == pytest.approx(0.1)
    assert len(ten.speed_mps) == 18001
    assert ten.distance_km == pytest.approx(one.distance_km, rel=1e-9)


def test_unknown_cycle_is_named() -> None:
    with pytest.raises(VehicleError, match=r"unknown cycle 'artemis'.*wltc"):
        load_cycle("artemis")
