"""Component models on vehicles × time arrays: motor + inverter loss map, battery equivalent circuit.

Sign convention (as in FASTSim): positive power is traction / battery discharge, negative is
regeneration / charge. Every function takes arrays that broadcast to (vehicles, time).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from evplatform.vehicle.global_parameters import GlobalParameters

Array = NDArray[np.float64]


@dataclass(frozen=True)
class MotorArrays:
    """Per-vehicle coefficients of the loss map, columns of shape (N, 1) to broadcast over time."""

    rated_w: Array
    copper: Array
    iron: Array
    switching: Array
    inverter: Array
    base_speed_fraction: Array
    top_speed_mps: Array
    spin_scale_w: Array


SPIN_REFERENCE_W = 150_000.0


def motor_arrays(
    classes: list[str], rated_w: Array, top_speed_mps: Array, globals_: GlobalParameters
) -> MotorArrays:
    """Gather each vehicle's motor-class coefficients into column vectors."""
    maps = [globals_.motor_classes[c] for c in classes]

    def col(values: list[float] | Array) -> Array:
        return np.asarray(values, dtype=np.float64).reshape(-1, 1)

    return MotorArrays(
        rated_w=col(rated_w),
        copper=col([m.copper for m in maps]),
        iron=col([m.iron for m in maps]),
        switching=col([m.switching for m in maps]),
        inverter=col([m.inverter for m in maps]),
        base_speed_fraction=col([m.base_speed_fraction for m in maps]),
        top_speed_mps=col(top_speed_mps),
        spin_scale_w=np.sqrt(col(rated_w) * SPIN_REFERENCE_W),
    )


def motor_electric_power(shaft_w: Array, speed_mps: Array, motor: MotorArrays) -> Array:
    """Electrical power at the inverter's DC side for a shaft power at a vehicle speed.

    Spin losses (iron, switching) grow with machine size more slowly than rated power: they
    are scaled by ``√(P_rated·P_ref)`` (P_ref = 150 kW), so a 700 kW performance drive unit is
    not charged five times the no-load loss of a 150 kW one. The map is normalised: ``s`` is the
    speed fraction of top speed (∝ ω through a fixed ratio),
    the torque fraction is ``τ = |p|·s_base/s`` capped at 1 (below base speed the torque limit,
    not the power, binds). Losses are added in traction and subtracted in regeneration because
    ``shaft + loss`` is less negative than the shaft power.
    """
    p = shaft_w / motor.rated_w
    s = speed_mps / motor.top_speed_mps
    tau = np.minimum(np.abs(p) * motor.base_speed_fraction / np.maximum(s, 0.02), 1.0)
    moving = speed_mps > 0.05
    copper = motor.copper * tau * tau * motor.rated_w
    spin = (motor.iron * s * s + motor.switching * s) * motor.spin_scale_w
    loss = copper + spin + motor.inverter * np.abs(shaft_w)
    return shaft_w + np.where(moving, loss, 0.0)


def ocv_fraction(soc: Array, chemistry_is_lfp: Array) -> Array:
    """Open-circuit voltage over nominal, as a function of state of charge (0–1).

    NMC rises steadily (≈ 3.3–4.15 V a cell over 3.65 V nominal); LFP is flat across the middle
    (≈ 3.2–3.35 V) and falls only near empty. Cubic fits of typical cell curves.
    """
    c0, c1, c2, c3 = (np.where(chemistry_is_lfp, lfp, nmc) for nmc, lfp in zip(_OCV_NMC, _OCV_LFP, strict=True))
    return c0 + soc * (c1 + soc * (c2 + soc * c3))


_OCV_NMC = (0.90, 0.25, -0.12, 0.11)
_OCV_LFP = (0.955, 0.09, -0.10, 0.07)


def battery_internal_loss(terminal_w: Array, ocv_v: Array, resistance_ohm: Array) -> Array:
    """I²R loss of the equivalent circuit (OCV in series with R) delivering ``terminal_w``.

    ``P = (V_oc − I·R)·I`` solved for the physical root ``I = (V_oc − √(V_oc² − 4RP)) / 2R``;
    demands beyond the circuit's maximum power (V_oc²/4R) are clipped to it.
    """
    disc = np.maximum(ocv_v * ocv_v - 4.0 * resistance_ohm * terminal_w, 0.0)
    current = (ocv_v - np.sqrt(disc)) / (2.0 * resistance_ohm)
    return current * current * resistance_ohm
