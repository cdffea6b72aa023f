"""Issue 23 §2 and §6: launch and top speed from the torque–speed envelope, battery limit and grip
with load transfer; auxiliary load, payload and ``mass_kg`` with coast-down coefficients.

Each physical effect is checked against a figure computed by hand from the textbook formula.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evplatform.errors import VehicleError
from evplatform.vehicle import DEFAULTS, VehicleParams, load_cycle, load_vehicle_params, simulate_cycle
from evplatform.vehicle.batch import vehicle_arrays
from evplatform.vehicle.performance import accel_0_100_s, drivetrain, top_speed_kmh, traction_limit_n
from evplatform.vehicle.powertrain import battery_discharge_limit_w

# No rotating mass, no launch delay, (almost) no road load: the launch is F = m·a alone.
BARE = dataclasses.replace(DEFAULTS, rotating_mass_factor=0.0, launch_delay_s=0.0)
V100 = 100.0 / 3.6


def car(**overrides: Any) -> VehicleParams:
    base: dict[str, Any] = {
        "name": "hand", "mass_kg": 1925.0, "battery_usable_kwh": 200.0, "motor_power_kw": 1000.0,
        "drive": "AWD", "cd": 1e-9, "frontal_area_m2": 1e-9, "crr": 1e-9, "voltage_v": 800.0,
        "torque_nm": 400.0, "gear_ratio": 10.0, "wheel_radius_m": 0.35,
    }
    return VehicleParams(**{**base, **overrides})


def test_constant_torque_launch_below_base_speed_takes_m_v_over_f() -> None:
    vehicle = car(motor_power_kw=1000.0)  # base speed P·r/(T·G) ≈ 87 m/s: torque-limited to 100 km/h
    train = drivetrain(vehicle, BARE)
    force = 400.0 * 10.0 * BARE.gear_efficiency / 0.35
    assert force * V100 < min(train.power_w, train.battery_limit_w * BARE.motor_peak_efficiency)
    assert force < traction_limit_n(vehicle, 2000.0, BARE)
    expected = (1925.0 + BARE.driver_kg) * V100 / force  # t = m·v/F = 5.01 s
    assert accel_0_100_s([vehicle], BARE)[0] == pytest.approx(expected, rel=2e-3)


def test_above_base_speed_power_not_torque_limits() -> None:
    torque_only = accel_0_100_s([car()], BARE)[0]
    assert accel_0_100_s([car(motor_power_kw=150.0)], BARE)[0] > torque_only + 1.0


def test_top_speed_capped_by_max_motor_speed_is_the_wheel_speed() -> None:
    vehicle = car(max_motor_rpm=12000.0, gear_ratio=10.0, wheel_radius_m=0.33, cd=0.25, frontal_area_m2=2.3,
                  crr=0.009, motor_power_kw=300.0)
    wheel_kmh = 12000.0 * 2 * math.pi / 60 * 0.33 / 10.0 * 3.6  # ω_max·r/G = 149.3 km/h
    assert top_speed_kmh([vehicle])[0] == pytest.approx(wheel_kmh, rel=1e-9)
    # The same car with a long gear is power-limited well below ω_max·r/G.
    long_gear = dataclasses.replace(vehicle, gear_ratio=4.0)
    assert top_speed_kmh([long_gear])[0] < 12000.0 * 2 * math.pi / 60 * 0.33 / 4.0 * 3.6 - 20


@pytest.mark.parametrize(("drive", "share"), [("RWD", 0.5 / (1 - 0.2)), ("FWD", 0.5 / (1 + 0.2)), ("AWD", 1.0)])
def test_traction_limit_with_load_transfer_caps_acceleration(drive: str, share: float) -> None:
    # μ = 1, static 50/50, h/L = 0.5/2.5: a = μ·g·(axle share with transfer).
    g = dataclasses.replace(BARE, tyre_friction=1.0, front_weight_share=0.5)
    vehicle = car(drive=drive, torque_nm=5000.0, cg_height_m=0.5, wheelbase_m=2.5)
    accel = 1.0 * 9.81 * share
    assert traction_limit_n(vehicle, 2000.0, g) == pytest.approx(2000.0 * accel)
    assert accel_0_100_s([vehicle], g)[0] == pytest.approx(V100 / accel, rel=2e-3)


def test_battery_discharge_limit_falls_with_soc_and_cold() -> None:
    # V_min = 0.75·400 = 300 V, V_oc = 400 V, R = 0.05 Ω: P = 300·100/0.05 = 600 kW at 25 °C.
    limit = battery_discharge_limit_w(np.array([400.0, 360.0, 400.0]), np.array(0.05), np.array(400.0),
                                      np.array([25.0, 25.0, 5.0]), DEFAULTS)
    assert limit[0] == pytest.approx(600_000.0)
    assert limit[1] == pytest.approx(300 * 60 / 0.05)
    assert limit[2] == pytest.approx(600_000.0 / math.exp(0.03 * 20))
    # A small pack caps a big motor: the launch is slower than the motor alone would make it.
    small = car(battery_usable_kwh=20.0, voltage_v=400.0, motor_power_kw=400.0, torque_nm=700.0)
    big = dataclasses.replace(small, battery_usable_kwh=120.0)
    assert drivetrain(small).battery_limit_w < 400_000.0 < drivetrain(big).battery_limit_w
    assert accel_0_100_s([small])[0] > accel_0_100_s([big])[0]


def test_aux_load_changes_consumption_by_its_energy() -> None:
    cycle = load_cycle("wltc")
    vehicle = car(cd=0.25, frontal_area_m2=2.3, crr=0.009, motor_power_kw=150.0, torque_nm=None, gear_ratio=None)
    base, more = simulate_cycle([vehicle, dataclasses.replace(vehicle, aux_power_w=2550.0)], cycle).battery_kwh
    seconds = (len(cycle.speed_mps) - 1) * cycle.dt_s
    assert more - base == pytest.approx((2550.0 - DEFAULTS.aux_power_w) * seconds / 3.6e6, rel=1e-9)


def test_mass_kg_sets_inertia_even_with_road_load_coefficients() -> None:
    abc = {"cd": None, "frontal_area_m2": None, "crr": None, "road_load_abc": (150.0, 1.5, 0.45),
           "test_mass_kg": 1900.0}
    light, heavy = car(mass_kg=1700.0, **abc), car(mass_kg=2300.0, payload_kg=100.0, **abc)
    arrays = vehicle_arrays([light, heavy], "EPA")
    added = DEFAULTS.test_mass_added_kg["EPA"]
    assert arrays.mass_kg.ravel().tolist() == [1700.0 + added, 2300.0 + added + 100.0]
    assert arrays.road_a.ravel().tolist() == [150.0, 150.0]  # the coast-down stays as measured
    udds = simulate_cycle([light, heavy], load_cycle("udds")).battery_kwh
    assert udds[1] > udds[0] * 1.02  # equal before: the coast-down test mass set the inertia of both


def test_inputs_from_yaml_are_validated(tmp_path: Path) -> None:
    body = "mass_kg: 1800\ndrive: RWD\nbattery_usable_kwh: 70\nmotor_power_kw: 200\ncd: 0.23\n" \
           "frontal_area_m2: 2.3\ncrr: 0.008\n"
    (tmp_path / "ok.yaml").write_text(body + "aux_power_w: 1200\npayload_kg: 300\nambient_c: -7\ngear_ratio: 9\n")
    vehicle = load_vehicle_params(tmp_path / "ok.yaml")
    assert (vehicle.aux_power_w, vehicle.payload_kg, vehicle.ambient_c, vehicle.gear_ratio) == (1200, 300, -7, 9)
    (tmp_path / "bad.yaml").write_text(body + "aux_power_w: 1200000\n")
    with pytest.raises(VehicleError, match=r"bad.yaml: .*aux_power_w must be 0–20000 W"):
        load_vehicle_params(tmp_path / "bad.yaml")


def test_cli_aux_and_payload_options(tmp_path: Path) -> None:
    (tmp_path / "car.yaml").write_text("mass_kg: 1800\ndrive: RWD\nbattery_usable_kwh: 70\nmotor_power_kw: 200\n"
                                       "cd: 0.23\nfrontal_area_m2: 2.3\ncrr: 0.008\n")

    def row(*extra: str) -> dict[str, Any]:
        result = subprocess.run([sys.executable, "-m", "evplatform", "simulate", "--vehicle-params", "car.yaml",
                                 "--cycle", "wltc", "--json", "--no-plots", *extra],
                                capture_output=True, text=True, timeout=180, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout)["results"][0])

    plain, aux, loaded = row(), row("--aux-w", "1550"), row("--payload-kg", "400")
    # +1000 W over the WLTC's 1800 s is 0.5 kWh over its 23.27 km: ≈ +2.15 kWh/100 km.
    gained = aux["consumption_kwh_per_100km"]["battery"] - plain["consumption_kwh_per_100km"]["battery"]
    assert gained == pytest.approx(1000.0 * 1800 / 3.6e6 / 23.27 * 100, abs=0.02)
    assert loaded["accel_0_100_s"] > plain["accel_0_100_s"]
    assert loaded["consumption_kwh_per_100km"]["battery"] > plain["consumption_kwh_per_100km"]["battery"]
