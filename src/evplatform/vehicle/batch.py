"""Drive-cycle simulation of many vehicles at once, vectorised over vehicles × time.

The trace is imposed (a dynamometer test): wheel power is ``(A + B·v + C·v² + m_eff·a)·v``,
one matrix product of per-vehicle coefficients with per-time features. Regeneration is blended by
the brake-by-wire rule, the motor map turns shaft power into electrical power, auxiliaries are
added, and the battery's equivalent circuit gives the internal loss (its OCV follows the SOC from a
first energy pass — a fixed-point step whose error is second order in the loss).

A vehicle that cannot follow the trace (power or traction too low) is detected in the same pass;
only those vehicles are then driven step by step to find the speed they actually reach, and the
miss is reported (seconds outside the ±2 km/h tolerance and the largest error) — never hidden.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from evplatform.errors import VehicleError
from evplatform.vehicle import brakes
from evplatform.vehicle.drive_cycles import DriveCycle
from evplatform.vehicle.global_parameters import DEFAULTS, GlobalParameters
from evplatform.vehicle.params import VehicleParams
from evplatform.vehicle.performance import force_at_rest_n, traction_limit_n
from evplatform.vehicle.powertrain import (
    MotorArrays,
    battery_internal_loss,
    motor_arrays,
    motor_electric_power,
    ocv_fraction,
)

Array = NDArray[np.float64]


@dataclass(frozen=True)
class VehicleArrays:
    """Struct of arrays for N vehicles under one test procedure; columns are (N, 1)."""

    names: tuple[str, ...]
    mass_kg: Array  # test mass (inertia) under the procedure
    road_a: Array
    road_b: Array
    road_c: Array
    force_max_n: Array
    power_max_wheel_w: Array
    motor: MotorArrays
    usable_j: Array
    is_lfp: Array
    soc_offset: Array  # gross SOC at the bottom of the usable window
    soc_span: Array  # usable share of the gross capacity
    nominal_v: Array
    resistance_ohm: Array
    regen_motor_w: Array
    regen_battery_w: Array
    regen_decel_mps2: Array
    aux_w: Array  # auxiliary load, W

    @property
    def count(self) -> int:
        return len(self.names)


def _col(values: Sequence[float] | Array) -> Array:
    return np.asarray(values, dtype=np.float64).reshape(-1, 1)


def vehicle_arrays(
    vehicles: Sequence[VehicleParams], homologation: str, globals_: GlobalParameters = DEFAULTS
) -> VehicleArrays:
    """Turn parameter sets into column arrays for the procedure's test mass and road load."""
    if not vehicles:
        raise VehicleError("no vehicles to simulate")
    g = globals_
    added = g.test_mass_added_kg.get(homologation, g.test_mass_added_kg["WLTP"])
    mass, a, b, c = [], [], [], []
    for v in vehicles:
        # Inertia is the vehicle's own mass under the procedure (curb + test allowance + payload),
        # even with coast-down coefficients: those were measured at the test mass and stay as given.
        m = v.mass_kg + added + v.payload_kg
        mass.append(m)
        if v.road_load_abc is not None:
            a.append(v.road_load_abc[0])
            b.append(v.road_load_abc[1])
            c.append(v.road_load_abc[2])
        else:
            a.append(m * g.gravity_mps2 * (v.crr or 0.0))
            b.append(0.0)
            c.append(0.5 * g.air_density_kg_m3 * (v.cd or 0.0) * (v.frontal_area_m2 or 0.0))
    rated = _col([v.motor_power_kw * 1000.0 for v in vehicles])
    top = _col([(v.top_speed_kmh or g.default_top_speed_kmh) / 3.6 for v in vehicles])
    usable_wh = _col([v.battery_usable_kwh * 1000.0 for v in vehicles])
    is_lfp = _col([v.chemistry == "LFP" for v in vehicles]).astype(bool)
    nominal = _col([v.voltage_v for v in vehicles])
    loss_1c = _col([g.battery_loss_at_1c[v.chemistry] for v in vehicles])
    c_rate = _col([g.charge_c_rate_max[v.chemistry] for v in vehicles])
    masses = _col(mass)
    # The usable energy is a window centred in the gross capacity; the OCV curve is over gross SOC.
    window = _col([_usable_window(v, g) for v in vehicles])
    return VehicleArrays(
        names=tuple(v.name for v in vehicles),
        mass_kg=masses,
        road_a=_col(a),
        road_b=_col(b),
        road_c=_col(c),
        force_max_n=_col([peak_wheel_force_n(v, m, g) for v, m in zip(vehicles, mass, strict=True)]),
        power_max_wheel_w=rated * g.gear_efficiency,
        motor=motor_arrays(
            [v.effective_motor_class for v in vehicles],
            rated,
            top,
            g,
            motors=[2 if v.drive == "AWD" else 1 for v in vehicles],
            coast_down=[v.road_load_abc is not None for v in vehicles],
        ),
        usable_j=usable_wh * 3600.0,
        is_lfp=is_lfp,
        soc_offset=(1.0 - window) / 2.0,
        soc_span=window,
        nominal_v=nominal,
        # R such that the loss at a 1 C discharge is `loss_1c` of the power: R = k·V²/E(Wh).
        resistance_ohm=loss_1c * nominal * nominal / usable_wh,
        regen_motor_w=rated * g.regen_power_fraction,
        regen_battery_w=c_rate * usable_wh,
        regen_decel_mps2=brakes.regen_decel_limit_mps2(
            np.array([v.brake_by_wire for v in vehicles], dtype=bool), g
        ),
        aux_w=_col([g.aux_power_w if v.aux_power_w is None else v.aux_power_w for v in vehicles]),
    )


def _usable_window(v: VehicleParams, g: GlobalParameters) -> float:
    if v.battery_capacity_kwh is None:
        return g.usable_fraction_of_gross
    return min(1.0, v.battery_usable_kwh / v.battery_capacity_kwh)


def peak_wheel_force_n(v: VehicleParams, mass_kg: float, g: GlobalParameters) -> float:
    """Launch force: the lower of tyre grip (with load transfer) and the envelope's force at rest."""
    return min(traction_limit_n(v, mass_kg, g), force_at_rest_n(v, g))


@dataclass(frozen=True)
class CycleResult:
    """Per-vehicle results of one cycle (arrays of length N) and, on request, the traces."""

    names: tuple[str, ...]
    cycle: str
    distance_km: Array
    battery_kwh: Array  # at the battery terminals (what WLTP/CLTC call battery side)
    chemical_kwh: Array  # terminal energy plus the battery's internal loss
    plug_kwh: Array  # energy from the wall to put the chemical energy back
    miss_seconds: Array
    max_speed_error_kmh: Array
    time_s: Array | None = None
    speed_kmh: Array | None = None
    battery_power_kw: Array | None = None
    soc: Array | None = None

    @property
    def battery_kwh_per_100km(self) -> Array:
        return np.asarray(100.0 * self.battery_kwh / self.distance_km)

    @property
    def plug_kwh_per_100km(self) -> Array:
        return np.asarray(100.0 * self.plug_kwh / self.distance_km)


CHUNK_CELLS = 200_000  # vehicles × steps per chunk: keeps the temporaries in the CPU cache
WORKERS = min(2, os.cpu_count() or 1)  # chunks run on two threads: the machine class has 2 cores


def _rows(arrays: VehicleArrays, part: slice) -> VehicleArrays:
    """The vehicles in ``part`` (a row slice of every column array)."""
    motor = MotorArrays(**{f.name: getattr(arrays.motor, f.name)[part] for f in fields(MotorArrays)})
    values = {f.name: getattr(arrays, f.name)[part] for f in fields(VehicleArrays) if f.name not in ("names", "motor")}
    return VehicleArrays(names=arrays.names[part], motor=motor, **values)


def simulate_cycle(
    vehicles: Sequence[VehicleParams] | VehicleArrays,
    cycle: DriveCycle,
    globals_: GlobalParameters = DEFAULTS,
    traces: bool = False,
) -> CycleResult:
    """Simulate every vehicle on the cycle; see the module docstring for the model.

    Large batches run in chunks of vehicles sized to the cache; results are concatenated.
    """
    arrays = vehicles if isinstance(vehicles, VehicleArrays) else vehicle_arrays(vehicles, cycle.homologation, globals_)
    per_chunk = max(1, CHUNK_CELLS // cycle.speed_mps.size)
    if traces or arrays.count <= per_chunk:
        return _simulate_rows(arrays, cycle, globals_, traces)
    chunks = [_rows(arrays, slice(i, i + per_chunk)) for i in range(0, arrays.count, per_chunk)]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:  # numpy releases the GIL inside each operation
        parts = list(pool.map(lambda rows: _simulate_rows(rows, cycle, globals_, False), chunks))
    return CycleResult(
        names=arrays.names,
        cycle=cycle.name,
        distance_km=np.concatenate([p.distance_km for p in parts]),
        battery_kwh=np.concatenate([p.battery_kwh for p in parts]),
        chemical_kwh=np.concatenate([p.chemical_kwh for p in parts]),
        plug_kwh=np.concatenate([p.plug_kwh for p in parts]),
        miss_seconds=np.concatenate([p.miss_seconds for p in parts]),
        max_speed_error_kmh=np.concatenate([p.max_speed_error_kmh for p in parts]),
    )


def _simulate_rows(
    arrays: VehicleArrays, cycle: DriveCycle, globals_: GlobalParameters, traces: bool
) -> CycleResult:
    dt = cycle.dt_s
    v = cycle.speed_mps
    v_mid = 0.5 * (v[1:] + v[:-1])
    accel = np.diff(v) / dt
    slope = cycle.slope_accel_mps2()
    rows = [v_mid, v_mid * v_mid, v_mid * v_mid * v_mid, accel * v_mid]
    m_eff = arrays.mass_kg * (1.0 + globals_.rotating_mass_factor)
    columns = [arrays.road_a, arrays.road_b, arrays.road_c, m_eff]
    if slope is not None:  # m·g·sin θ·v: the grade acts on the mass, not on the rotating inertia
        rows.append(slope * v_mid)
        columns.append(arrays.mass_kg)
    features = np.stack(rows)
    coeffs = np.hstack(columns)
    wheel_w = coeffs @ features  # (N, T-1)
    force = wheel_w / np.maximum(v_mid, 0.1)
    missed = np.any((wheel_w > arrays.power_max_wheel_w * 1.0001) | (force > arrays.force_max_n * 1.0001), axis=1)
    n = arrays.count
    speed_rows: Array = v_mid[None, :]
    miss_seconds = np.zeros(n)
    max_error = np.zeros(n)
    distance = np.full(n, cycle.distance_km)
    if np.any(missed):
        idx = np.nonzero(missed)[0]
        achieved = follow_trace(arrays, idx, v, dt, globals_, slope)
        error_kmh = np.abs(achieved - v) * 3.6
        miss_seconds[idx] = np.sum(error_kmh > globals_.trace_tolerance_kmh, axis=1) * dt
        max_error[idx] = error_kmh.max(axis=1)
        a_mid = 0.5 * (achieved[:, 1:] + achieved[:, :-1])
        a_acc = np.diff(achieved, axis=1) / dt
        sub = coeffs[idx]
        wheel_w = wheel_w.copy()
        force = sub[:, 0:1] + sub[:, 1:2] * a_mid + sub[:, 2:3] * a_mid * a_mid + sub[:, 3:4] * a_acc
        if slope is not None:
            force = force + sub[:, 4:5] * slope
        wheel_w[idx] = force * a_mid
        speed_rows = np.repeat(v_mid[None, :], n, axis=0)
        speed_rows[idx] = a_mid
        distance[idx] = np.sum(a_mid, axis=1) * dt / 1000.0
    battery_w, chemical_w, soc = _electrical(arrays, wheel_w, speed_rows, dt, globals_, traces)
    battery_kwh = battery_w.sum(axis=1) * dt / 3.6e6
    chemical_kwh = chemical_w.sum(axis=1) * dt / 3.6e6
    return CycleResult(
        names=arrays.names,
        cycle=cycle.name,
        distance_km=distance,
        battery_kwh=battery_kwh,
        chemical_kwh=chemical_kwh,
        plug_kwh=chemical_kwh / globals_.ac_charge_efficiency,
        miss_seconds=miss_seconds,
        max_speed_error_kmh=max_error,
        time_s=cycle.time_s[1:] if traces else None,
        speed_kmh=np.broadcast_to(speed_rows, wheel_w.shape) * 3.6 if traces else None,
        battery_power_kw=battery_w / 1000.0 if traces else None,
        soc=soc if traces else None,
    )


def _electrical(
    arrays: VehicleArrays, wheel_w: Array, speed_mps: Array, dt: float, g: GlobalParameters, traces: bool
) -> tuple[Array, Array, Array]:
    """Wheel power → (battery terminal power, chemical power, SOC), all vehicles × time."""
    regen_limit = brakes.regen_power_limit_w(
        speed_mps, arrays.mass_kg, arrays.regen_decel_mps2, arrays.regen_motor_w, arrays.regen_battery_w, g
    )
    np.negative(regen_limit, out=regen_limit)
    shaft = np.maximum(wheel_w, regen_limit, out=regen_limit)  # friction takes the rest (brakes.blend)
    shaft *= np.where(shaft > 0, 1.0 / g.gear_efficiency, g.gear_efficiency)
    terminal = motor_electric_power(shaft, speed_mps, arrays.motor)
    terminal += arrays.aux_w
    soc_first = np.cumsum(terminal, axis=1)
    soc_first *= -dt / arrays.usable_j
    soc_first += g.cycle_start_soc
    ocv = ocv_fraction(soc_first * arrays.soc_span + arrays.soc_offset, arrays.is_lfp)
    ocv *= arrays.nominal_v
    chemical = battery_internal_loss(terminal, ocv, arrays.resistance_ohm)
    chemical += terminal
    soc = g.cycle_start_soc - np.cumsum(chemical, axis=1) * dt / arrays.usable_j if traces else soc_first
    return terminal, chemical, soc


def follow_trace(
    arrays: VehicleArrays,
    idx: NDArray[np.intp],
    target: Array,
    dt: float,
    g: GlobalParameters,
    slope: Array | None = None,
) -> Array:
    """Drive the selected vehicles step by step at full power where they fall behind the trace.

    Vectorised over the (few) vehicles that miss; the loop is over time because the reachable
    speed at each step depends on the speed reached at the previous one.
    """
    a = arrays.road_a[idx, 0]
    b = arrays.road_b[idx, 0]
    c = arrays.road_c[idx, 0]
    m_eff = arrays.mass_kg[idx, 0] * (1.0 + g.rotating_mass_factor)
    f_max = arrays.force_max_n[idx, 0]
    p_max = arrays.power_max_wheel_w[idx, 0]
    out = np.empty((idx.size, target.size))
    current = np.full(idx.size, target[0])
    out[:, 0] = current
    for k in range(1, target.size):
        drive = np.minimum(f_max, p_max / np.maximum(current, 0.5))
        resist = a * (current > 0.01) + b * current + c * current * current
        if slope is not None:
            resist = resist + arrays.mass_kg[idx, 0] * slope[k - 1]
        reachable = current + dt * (drive - resist) / m_eff
        current = np.minimum(target[k], np.maximum(reachable, 0.0))
        out[:, k] = current
    return out
