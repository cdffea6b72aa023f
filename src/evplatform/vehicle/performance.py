"""Acceleration 0–100 km/h and top speed, vectorised over vehicles.

0–100: driver aboard (curb + 75 kg), tractive force the lower of tyre grip on the driven axle(s),
motor torque through the fixed gear, and rated power over speed; road load resists. The loop is
over time (each step needs the previous speed) with all vehicles in one array.

Top speed: the speed where rated power at the wheel equals road-load power, capped by the
declared (electronically limited) top speed when one is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
from numpy.typing import NDArray

from evplatform.vehicle.batch import peak_wheel_force_n
from evplatform.vehicle.global_parameters import DEFAULTS, GlobalParameters
from evplatform.vehicle.params import VehicleParams

Array = NDArray[np.float64]


def _road_load(vehicles: Sequence[VehicleParams], mass: Array, g: GlobalParameters) -> tuple[Array, Array, Array]:
    a = np.empty(len(vehicles))
    b = np.zeros(len(vehicles))
    c = np.empty(len(vehicles))
    for i, v in enumerate(vehicles):
        if v.road_load_abc is not None:
            a[i], b[i], c[i] = v.road_load_abc
        else:
            a[i] = mass[i] * g.gravity_mps2 * (v.crr or 0.0)
            c[i] = 0.5 * g.air_density_kg_m3 * (v.cd or 0.0) * (v.frontal_area_m2 or 0.0)
    return a, b, c


def accel_0_100_s(
    vehicles: Sequence[VehicleParams], globals_: GlobalParameters = DEFAULTS, dt_s: float = 0.01, limit_s: float = 40.0
) -> Array:
    """Seconds from rest to 100 km/h per vehicle; ``inf`` for a vehicle that never gets there."""
    g = globals_
    mass = np.array([v.mass_kg + g.driver_kg for v in vehicles])
    m_eff = mass * (1.0 + g.rotating_mass_factor)
    f_max = np.array([peak_wheel_force_n(v, float(m), g) for v, m in zip(vehicles, mass, strict=True)])
    p_max = np.array([v.motor_power_kw * 1000.0 * g.gear_efficiency for v in vehicles])
    a, b, c = _road_load(vehicles, mass, g)
    target = 100.0 / 3.6
    speed = np.zeros(len(vehicles))
    reached = np.full(len(vehicles), np.inf)
    steps = int(limit_s / dt_s)
    for k in range(1, steps + 1):
        drive = np.minimum(f_max, p_max / np.maximum(speed, 0.1))
        resist = a + b * speed + c * speed * speed
        new = speed + dt_s * np.maximum(drive - resist, 0.0) / m_eff
        crossing = (new >= target) & ~np.isfinite(reached)
        if np.any(crossing):
            fraction = (target - speed[crossing]) / (new[crossing] - speed[crossing])
            reached[crossing] = (k - 1 + fraction) * dt_s
        speed = new
        if np.all(np.isfinite(reached)):
            break
    return reached + g.launch_delay_s


def top_speed_kmh(vehicles: Sequence[VehicleParams], globals_: GlobalParameters = DEFAULTS) -> Array:
    """Power-limited top speed, capped by the declared top speed where the vehicle states one."""
    g = globals_
    mass = np.array([v.mass_kg + g.driver_kg for v in vehicles])
    a, b, c = _road_load(vehicles, mass, g)
    grid = np.linspace(1.0, 500.0 / 3.6, 2000)
    resist_power = (a[:, None] + b[:, None] * grid + c[:, None] * grid * grid) * grid
    p_wheel = np.array([v.motor_power_kw * 1000.0 * g.gear_efficiency * 0.93 for v in vehicles])
    feasible = resist_power <= p_wheel[:, None]
    last = feasible.shape[1] - 1 - np.argmax(feasible[:, ::-1], axis=1)
    physics = grid[last] * 3.6
    declared = np.array([v.top_speed_kmh if v.top_speed_kmh is not None else np.inf for v in vehicles])
    return cast(Array, np.minimum(physics, declared))
