"""Batch simulation physics, homologation rules, performance, charging and the workspace entry point."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from evplatform.errors import VehicleError
from evplatform.vehicle import DEFAULTS, VehicleParams, load_cycle, simulate_cycle, simulate_vehicles
from evplatform.vehicle.charging import charge_time_min
from evplatform.vehicle.performance import accel_0_100_s, top_speed_kmh
from evplatform.vehicle.simulate import simulate_workspace
from evplatform.workspace import load_workspace


def car(name: str = "car", **changes: object) -> VehicleParams:
    values: dict[str, object] = dict(name=name, mass_kg=1800.0, battery_usable_kwh=75.0, motor_power_kw=200.0,
                                     cd=0.23, frontal_area_m2=2.3, crr=0.008, torque_nm=400.0, top_speed_kmh=200.0)
    values.update(changes)
    return VehicleParams(**values)  # type: ignore[arg-type]


def test_energy_balance_matches_hand_calculation() -> None:
    """Lossless powertrain, no regen, no aux: battery energy = ∫ max(wheel power, 0)."""
    lossless = dataclasses.replace(
        DEFAULTS, aux_power_w=0.0, gear_efficiency=1.0, regen_power_fraction=0.0, rotating_mass_factor=0.0,
        motor_classes={k: dataclasses.replace(m, copper=0, iron=0, switching=0, inverter=0)
                       for k, m in DEFAULTS.motor_classes.items()},
    )
    vehicle = car()
    cycle = load_cycle("udds")
    result = simulate_cycle([vehicle], cycle, lossless)
    v = cycle.speed_mps
    vm, acc = 0.5 * (v[1:] + v[:-1]), np.diff(v)
    mass = vehicle.mass_kg + DEFAULTS.test_mass_added_kg["EPA"]
    force = mass * 9.81 * 0.008 + 0.5 * 1.2 * 0.23 * 2.3 * vm**2 + mass * acc  # rotating_mass_factor is 0 here
    expected = np.sum(np.maximum(force * vm, 0)) / 3.6e6
    assert result.battery_kwh[0] == pytest.approx(expected, rel=1e-9)


def test_grade_adds_exactly_the_potential_energy() -> None:
    """Lossless and without regen: a constant 3 % uphill adds m·g·sin θ·distance while driving."""
    lossless = dataclasses.replace(
        DEFAULTS, aux_power_w=0.0, gear_efficiency=1.0, regen_power_fraction=0.0,
        motor_classes={k: dataclasses.replace(m, copper=0, iron=0, switching=0, inverter=0)
                       for k, m in DEFAULTS.motor_classes.items()},
    )
    flat = load_cycle("hwfet")
    hill = flat.with_grade(0.03)
    vehicle = car()
    mass = vehicle.mass_kg + DEFAULTS.test_mass_added_kg["EPA"]
    v = flat.speed_mps
    vm, acc = 0.5 * (v[1:] + v[:-1]), np.diff(v)
    slope = 9.81 * np.sin(np.arctan(0.03))
    force = mass * 9.81 * 0.008 + 0.5 * 1.2 * 0.23 * 2.3 * vm**2 + mass * (1 + DEFAULTS.rotating_mass_factor) * acc
    expected = np.sum(np.maximum((force + mass * slope) * vm, 0)) / 3.6e6
    assert simulate_cycle([vehicle], hill, lossless).battery_kwh[0] == pytest.approx(expected, rel=1e-9)
    assert simulate_cycle([vehicle], hill).battery_kwh[0] > simulate_cycle([vehicle], flat).battery_kwh[0]
    with pytest.raises(VehicleError, match="grade"):
        flat.with_grade(0.5)


def test_usable_window_sets_the_voltage_and_so_the_loss() -> None:
    """The same usable energy at the bottom of a big pack runs at lower OCV: more current, more I²R."""
    cycle = load_cycle("wltc")
    narrow, wide = simulate_cycle([car(battery_capacity_kwh=76.0), car(battery_capacity_kwh=150.0)], cycle).chemical_kwh
    assert wide > narrow


def test_batch_equals_one_by_one_and_orders_sensibly() -> None:
    cars = [car("light", mass_kg=1500.0), car("heavy", mass_kg=2500.0), car("draggy", cd=0.35)]
    cycle = load_cycle("wltc")
    batch = simulate_cycle(cars, cycle)
    single = [simulate_cycle([c], cycle).battery_kwh[0] for c in cars]
    assert np.allclose(batch.battery_kwh, single)
    light, heavy, draggy = batch.battery_kwh_per_100km
    assert light < heavy and light < draggy
    assert np.all(batch.plug_kwh > batch.chemical_kwh) and np.all(batch.chemical_kwh > batch.battery_kwh)


def test_chunked_batch_equals_unchunked() -> None:
    cars = [car(f"c{i}", mass_kg=1500.0 + 10 * i) for i in range(300)]
    cycle = load_cycle("wltc")
    whole = simulate_cycle(cars, cycle, traces=True)  # traces run in one block
    chunked = simulate_cycle(cars, cycle)
    assert np.allclose(whole.battery_kwh, chunked.battery_kwh)


def test_regen_and_brake_by_wire_save_energy() -> None:
    cycle = load_cycle("udds")
    bbw, hydraulic = simulate_cycle([car(), car(brake_by_wire=False)], cycle).battery_kwh
    no_regen = simulate_cycle([car()], cycle, dataclasses.replace(DEFAULTS, regen_power_fraction=0.0)).battery_kwh[0]
    assert bbw < hydraulic < no_regen


def test_weak_motor_reports_trace_miss_never_silently() -> None:
    result = simulate_cycle([car(motor_power_kw=25.0, torque_nm=None), car()], load_cycle("wltc"))
    assert result.miss_seconds[0] > 30 and result.max_speed_error_kmh[0] > 10
    assert result.distance_km[0] < load_cycle("wltc").distance_km
    assert result.miss_seconds[1] == 0


def test_ten_hz_agrees_with_one_hz() -> None:
    one = simulate_cycle([car()], load_cycle("wltc")).battery_kwh_per_100km[0]
    ten = simulate_cycle([car()], load_cycle("wltc", 10)).battery_kwh_per_100km[0]
    assert ten == pytest.approx(one, rel=0.03)


def test_range_rules() -> None:
    vehicle = car()
    wltp = simulate_vehicles([vehicle], "wltc").results[0]
    assert wltp["range_rule"] == "WLTP"
    assert wltp["range_km"] == pytest.approx(75 / wltp["consumption_kwh_per_100km"]["battery"] * 100, rel=1e-3)
    udds = simulate_vehicles([vehicle], "udds").results[0]
    hwfet = simulate_vehicles([vehicle], "hwfet").results[0]
    city, highway = udds["consumption_kwh_per_100km"]["battery"], hwfet["consumption_kwh_per_100km"]["battery"]
    combined = 0.55 * city + 0.45 * highway
    assert udds["range_km"] == pytest.approx(0.7 * 75 / combined * 100, rel=2e-3)
    assert udds["range_km"] == pytest.approx(hwfet["range_km"], rel=1e-6)


def test_acceleration_top_speed_and_charging_respond_to_the_right_inputs() -> None:
    slow, fast, awd = car(motor_power_kw=150.0), car(motor_power_kw=400.0, torque_nm=700.0), car(
        motor_power_kw=400.0, torque_nm=700.0, drive="AWD")
    t_slow, t_fast, t_awd = accel_0_100_s([slow, fast, awd])
    assert t_slow > t_fast > t_awd > 2.0
    assert np.isinf(accel_0_100_s([car(motor_power_kw=10.0)])[0])
    assert top_speed_kmh([car(top_speed_kmh=None, motor_power_kw=30.0)])[0] < 150
    assert top_speed_kmh([car()])[0] == 200.0
    v400, v800 = car(voltage_v=400.0, dc_peak_kw=300.0), car(voltage_v=800.0, dc_peak_kw=300.0)
    assert charge_time_min(v800) < charge_time_min(v400)
    curve = car(charge_curve=((0.0, 50.0), (1.0, 50.0)))
    assert charge_time_min(curve) == pytest.approx(0.7 * 75 / 50 * 60, rel=1e-6)


def test_simulate_workspace_shape() -> None:
    ws = load_workspace(None)
    rows = simulate_workspace(ws, model="su7", cycle="wltc")
    assert [r["vehicle"] for r in rows] == ["su7/standard", "su7/pro", "su7/max"]
    keys = {"vehicle", "cycle", "consumption_kwh_per_100km", "range_km", "charge_10_80_min", "accel_0_100_s",
            "top_speed_kmh", "trace_miss"}
    assert keys <= set(rows[0]) and set(rows[0]["trace_miss"]) == {"seconds", "max_speed_error_kmh"}
    default = simulate_workspace(ws)
    assert {r["cycle"] for r in default} == {"cltc"}  # base market CN homologates on CLTC
    with pytest.raises(VehicleError, match="unknown model 'model-z'"):
        simulate_workspace(ws, model="model-z")
    eu = simulate_workspace(ws, market="EU")
    assert {r["cycle"] for r in eu} == {"wltc"} and {r["range_rule"] for r in eu} == {"WLTP"}
    assert [r["vehicle"] for r in eu] == [t.key for t in ws.sold_in("EU")]
    with pytest.raises(VehicleError, match="unknown market 'XX'"):
        simulate_workspace(ws, market="XX")


def test_brake_by_wire_blending_splits_braking() -> None:
    from evplatform.vehicle.brakes import blend

    wheel = np.array([[20_000.0, -10_000.0, -60_000.0]])
    regen, friction = blend(wheel, np.array([[50_000.0, 50_000.0, 50_000.0]]))
    assert regen.tolist() == [[20_000.0, -10_000.0, -50_000.0]]
    assert friction.tolist() == [[0.0, 0.0, -10_000.0]]
    assert np.allclose(regen + friction, wheel)
