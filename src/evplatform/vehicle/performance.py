"""Acceleration 0–100 km/h and top speed, vectorised over vehicles.

0–100: driver aboard (curb + 75 kg + payload). The tractive force at each speed is the lowest of

- the motor's torque–speed envelope through the gear: constant torque ``T_max`` up to the base
  speed, constant power ``P`` above it, nothing beyond the maximum motor speed;
- the battery's discharge power limit (equivalent circuit at its cut-off voltage, falling with SOC
  and in the cold) times the motor's full-load efficiency;
- tyre grip on the driven axle(s) with longitudinal load transfer: accelerating moves
  ``m·a·h/L`` of load from the front axle to the rear one.

Road load resists. The loop is over time (each step needs the previous speed) with all vehicles
in one array. Top speed: where the deliverable wheel power meets road-load power, capped by the
wheel speed at the maximum motor speed and by the declared (electronically limited) top speed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from evplatform.vehicle.global_parameters import DEFAULTS, GlobalParameters
from evplatform.vehicle.params import VehicleParams
from evplatform.vehicle.powertrain import battery_discharge_limit_w, ocv_fraction

Array = NDArray[np.float64]
RPM = 2.0 * math.pi / 60.0


@dataclass(frozen=True)
class Drivetrain:
    """One vehicle's launch-relevant figures, derived once from its parameters and the globals."""

    gear_ratio: float
    max_motor_rad_s: float
    torque_nm: float
    power_w: float
    battery_limit_w: float  # at launch SOC and ambient, at the DC bus


def gear_ratio(v: VehicleParams, g: GlobalParameters = DEFAULTS) -> float:
    """The stated ratio; else the one that puts the declared top speed at ω_max; else the estimate."""
    if v.gear_ratio is not None:
        return v.gear_ratio
    if v.top_speed_kmh is not None:
        return max_motor_rad_s(v, g) * v.wheel_radius_m / (v.top_speed_kmh / 3.6)
    return g.default_gear_ratio


def max_motor_rad_s(v: VehicleParams, g: GlobalParameters = DEFAULTS) -> float:
    return (v.max_motor_rpm or g.max_motor_speed_rpm) * RPM


def drivetrain(v: VehicleParams, g: GlobalParameters = DEFAULTS) -> Drivetrain:
    """Gear, speed limit, peak torque (stated, else the global N·m per kW) and battery limit."""
    return Drivetrain(gear_ratio(v, g), max_motor_rad_s(v, g), peak_torque_nm(v, g), v.motor_power_kw * 1000.0,
                      battery_limit_at_launch_w(v, g))


def peak_torque_nm(v: VehicleParams, g: GlobalParameters = DEFAULTS) -> float:
    """The stated peak motor torque, else the global estimate of N·m per kW of peak power."""
    return v.torque_nm if v.torque_nm is not None else g.torque_per_kw_nm * v.motor_power_kw


def force_at_rest_n(v: VehicleParams, g: GlobalParameters = DEFAULTS) -> float:
    """Peak torque through the gear at the wheel: the envelope's force below the base speed."""
    return peak_torque_nm(v, g) * gear_ratio(v, g) * g.gear_efficiency / v.wheel_radius_m


def battery_limit_at_launch_w(v: VehicleParams, g: GlobalParameters = DEFAULTS) -> float:
    """Discharge power limit at the launch SOC and the vehicle's ambient (25 °C when not given)."""
    loss_1c = g.battery_loss_at_1c[v.chemistry]
    resistance = loss_1c * v.voltage_v**2 / (v.battery_usable_kwh * 1000.0)
    window = 1.0 if v.battery_capacity_kwh is None else min(1.0, v.battery_usable_kwh / v.battery_capacity_kwh)
    gross_soc = g.launch_soc * window + (1.0 - window) / 2.0
    ocv = v.voltage_v * float(ocv_fraction(np.array(gross_soc), np.array(v.chemistry == "LFP")))
    ambient = 25.0 if v.ambient_c is None else v.ambient_c
    return float(battery_discharge_limit_w(np.array(ocv), np.array(resistance), np.array(v.voltage_v),
                                           np.array(ambient), g))


def traction_limit_n(v: VehicleParams, mass_kg: float, g: GlobalParameters = DEFAULTS) -> float:
    """Largest tractive force the driven axle(s) can hold, with longitudinal load transfer.

    With ``F = m·a`` the rear axle carries ``m·g·(1 − s_f) + F·h/L``, the front ``m·g·s_f − F·h/L``.
    Solving ``F = μ·N_driven`` gives RWD ``F = μ·m·g·(1 − s_f)/(1 − μ·h/L)``, FWD
    ``F = μ·m·g·s_f/(1 + μ·h/L)``; AWD (torque split to match the loads) ``F = μ·m·g``.
    """
    mu, weight = g.tyre_friction, mass_kg * g.gravity_mps2
    h_over_l = (v.cg_height_m or g.cg_height_m) / (v.wheelbase_m or g.wheelbase_m)
    if v.drive == "AWD":
        return mu * weight
    if v.drive == "RWD":
        return mu * weight * (1.0 - g.front_weight_share) / max(1.0 - mu * h_over_l, 1e-3)
    return mu * weight * g.front_weight_share / (1.0 + mu * h_over_l)


def tractive_force_n(speed_mps: Array, trains: Sequence[Drivetrain], radius_m: Array, g: GlobalParameters) -> Array:
    """Motor envelope and battery limit as a force at the wheel, per vehicle at its speed."""
    ratio = np.array([t.gear_ratio for t in trains])
    omega = speed_mps * ratio / radius_m
    torque = np.array([t.torque_nm for t in trains])
    battery = np.array([t.battery_limit_w for t in trains]) * g.motor_peak_efficiency
    power = np.minimum([t.power_w for t in trains], battery)
    shaft = np.minimum(torque, power / np.maximum(omega, 1e-6))
    shaft = np.where(omega <= np.array([t.max_motor_rad_s for t in trains]), shaft, 0.0)
    return cast(Array, shaft * ratio * g.gear_efficiency / radius_m)


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


def launch_mass_kg(vehicles: Sequence[VehicleParams], g: GlobalParameters = DEFAULTS) -> Array:
    """Curb mass + driver + payload: the mass a published 0–100 is driven with."""
    return np.array([v.mass_kg + g.driver_kg + v.payload_kg for v in vehicles])


def accel_0_100_s(
    vehicles: Sequence[VehicleParams], globals_: GlobalParameters = DEFAULTS, dt_s: float = 0.01, limit_s: float = 40.0
) -> Array:
    """Seconds from rest to 100 km/h per vehicle; ``inf`` for a vehicle that never gets there."""
    g = globals_
    mass = launch_mass_kg(vehicles, g)
    m_eff = mass * (1.0 + g.rotating_mass_factor)
    trains = [drivetrain(v, g) for v in vehicles]
    radius = np.array([v.wheel_radius_m for v in vehicles])
    grip = np.array([traction_limit_n(v, float(m), g) for v, m in zip(vehicles, mass, strict=True)])
    a, b, c = _road_load(vehicles, mass, g)
    target = 100.0 / 3.6
    speed = np.zeros(len(vehicles))
    reached = np.full(len(vehicles), np.inf)
    steps = int(limit_s / dt_s)
    for k in range(1, steps + 1):
        drive = np.minimum(grip, tractive_force_n(speed, trains, radius, g))
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
    """Power-limited top speed, capped by ω_max through the gear and by the declared top speed."""
    g = globals_
    mass = launch_mass_kg(vehicles, g)
    a, b, c = _road_load(vehicles, mass, g)
    grid = np.linspace(1.0, 500.0 / 3.6, 2000)
    resist_power = (a[:, None] + b[:, None] * grid + c[:, None] * grid * grid) * grid
    trains = [drivetrain(v, g) for v in vehicles]
    # Sustained at top speed: the lower of rated and battery power, less motor and gear losses.
    p_wheel = np.array([min(t.power_w, t.battery_limit_w) for t in trains]) * g.motor_peak_efficiency
    p_wheel *= g.gear_efficiency
    feasible = resist_power <= p_wheel[:, None]
    last = feasible.shape[1] - 1 - np.argmax(feasible[:, ::-1], axis=1)
    physics = grid[last] * 3.6
    wheel_limit = np.array([wheel_speed_at_max_rpm_kmh(v, g) for v in vehicles])
    declared = np.array([v.top_speed_kmh if v.top_speed_kmh is not None else np.inf for v in vehicles])
    return cast(Array, np.minimum(np.minimum(physics, wheel_limit), declared))


def wheel_speed_at_max_rpm_kmh(v: VehicleParams, g: GlobalParameters = DEFAULTS) -> float:
    """``v = ω_max·r / G``: the road speed at which the motor reaches its maximum speed."""
    return max_motor_rad_s(v, g) * v.wheel_radius_m / gear_ratio(v, g) * 3.6
