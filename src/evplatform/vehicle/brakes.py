"""The brake-by-wire module's blending rule: how much of a braking demand regeneration takes.

With a decoupled brake-by-wire system the controller can hand the driven axle's braking to the
motor up to the motor's regen power, the battery's charge power and a deceleration limit (the
rest is friction). A conventional vacuum/electric booster couples pedal and calipers, so regen
is only blended at light deceleration. Below a fade speed the motor cannot hold torque smoothly
and friction brings the car to rest.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from evplatform.vehicle.global_parameters import GlobalParameters

Array = NDArray[np.float64]


def regen_decel_limit_mps2(brake_by_wire: Array, globals_: GlobalParameters) -> Array:
    """The deceleration up to which braking is regenerative, per vehicle (column vector)."""
    return np.where(
        brake_by_wire, globals_.regen_decel_limit_bbw_mps2, globals_.regen_decel_limit_hydraulic_mps2
    ).reshape(-1, 1)


def regen_power_limit_w(
    speed_mps: Array,
    mass_kg: Array,
    decel_limit_mps2: Array,
    motor_regen_w: Array,
    battery_charge_w: Array,
    globals_: GlobalParameters,
) -> Array:
    """Maximum regenerative wheel power (positive number) at each speed, vehicles × time."""
    fade = np.clip(speed_mps / globals_.regen_fade_speed_mps, 0.0, 1.0)
    limit = (mass_kg * decel_limit_mps2) * speed_mps
    np.minimum(limit, np.minimum(motor_regen_w, battery_charge_w), out=limit)
    limit *= fade
    return limit


def blend(wheel_w: Array, regen_limit_w: Array) -> tuple[Array, Array]:
    """Split a negative wheel power into (regenerative, friction) parts; traction passes through."""
    regen = np.maximum(wheel_w, -regen_limit_w)
    braking = wheel_w < 0
    friction = np.where(braking, wheel_w - regen, 0.0)
    return np.where(braking, regen, wheel_w), friction
