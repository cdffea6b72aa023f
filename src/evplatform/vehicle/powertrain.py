"""Component models on vehicles × time arrays: motor + inverter loss map, battery equivalent circuit.

Sign convention (as in FASTSim): positive power is traction / battery discharge, negative is
regeneration / charge. Every function takes arrays that broadcast to (vehicles, time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

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
    classes: list[str],
    rated_w: Array,
    top_speed_mps: Array,
    globals_: GlobalParameters,
    motors: Sequence[float] | None = None,
    coast_down: Sequence[bool] | None = None,
) -> MotorArrays:
    """Gather each vehicle's motor-class coefficients into column vectors.

    ``coast_down`` marks vehicles whose road load comes from a coast-down (EPA A/B/C): an EV coasts
    with its motor coupled, so the magnets' iron-loss drag is already in those coefficients and is
    not counted a second time here.
    """
    maps = [globals_.motor_classes[c] for c in classes]
    count = [float(m) for m in motors] if motors is not None else [1.0] * len(classes)
    coasted_flags = list(coast_down) if coast_down is not None else [False] * len(classes)

    def col(values: Sequence[float] | Array) -> Array:
        return np.asarray(values, dtype=np.float64).reshape(-1, 1)

    return MotorArrays(
        rated_w=col(rated_w),
        copper=col([m.copper for m in maps]),
        iron=col([0.0 if coasted else m.iron for m, coasted in zip(maps, coasted_flags, strict=True)]),
        switching=col([m.switching for m in maps]),
        inverter=col([m.inverter for m in maps]),
        base_speed_fraction=col([m.base_speed_fraction for m in maps]),
        top_speed_mps=col(top_speed_mps),
        # Each machine has its own spin loss: n motors sharing P_rated lose n·√(P_rated/n·P_ref).
        spin_scale_w=np.sqrt(col(rated_w) * SPIN_REFERENCE_W * col(count)),
    )


def motor_electric_power(shaft_w: Array, speed_mps: Array, motor: MotorArrays) -> Array:
    """Electrical power at the inverter's DC side for a shaft power at a vehicle speed.

    Spin losses (iron, switching) grow with machine size more slowly than rated power: they
    are scaled by ``√(P_rated·P_ref)`` (P_ref = 150 kW), so a 700 kW performance drive unit is
    not charged five times the no-load loss of a 150 kW one. The map is normalised: ``s = v/v_top``
    is the speed fraction (∝ ω through a fixed ratio) and the torque fraction is
    ``τ = |p|·s_base/s`` capped at 1 (below base speed the torque limit, not the power, binds).
    Losses are added in traction and subtracted in regeneration because ``shaft + loss`` is less
    negative than the shaft power.

    When every vehicle runs the same trace (``speed_mps`` of shape (1, T)), spin loss is a rank-2
    product — per-vehicle coefficients times per-time ``v²`` and ``v`` — done as one matrix product.
    """
    moving = speed_mps > 0.05
    inv_speed = 1.0 / np.maximum(speed_mps, 1.0)  # below 1 m/s the torque limit caps τ anyway
    magnitude = np.abs(shaft_w)
    tau = magnitude * (motor.base_speed_fraction * motor.top_speed_mps / motor.rated_w)
    tau *= inv_speed
    np.minimum(tau, 1.0, out=tau)
    tau *= tau
    tau *= motor.copper * motor.rated_w
    magnitude *= motor.inverter
    tau += magnitude
    k_iron = motor.iron * motor.spin_scale_w / (motor.top_speed_mps * motor.top_speed_mps)
    k_switch = motor.switching * motor.spin_scale_w / motor.top_speed_mps
    v = np.where(moving, speed_mps, 0.0)
    if v.shape[0] == 1:
        tau += np.hstack([k_iron, k_switch]) @ np.vstack([v * v, v])
    else:
        tau += k_iron * v * v + k_switch * v
    tau += shaft_w
    return tau


def ocv_fraction(soc: Array, chemistry_is_lfp: Array) -> Array:
    """Open-circuit voltage over nominal, as a function of state of charge (0–1).

    NMC rises steadily (≈ 3.3–4.15 V a cell over 3.65 V nominal); LFP is flat across the middle
    (≈ 3.2–3.35 V) and falls only near empty. Cubic fits of typical cell curves.
    """
    c0, c1, c2, c3 = (np.where(chemistry_is_lfp, lfp, nmc) for nmc, lfp in zip(_OCV_NMC, _OCV_LFP, strict=True))
    out = soc * c3
    out += c2
    out *= soc
    out += c1
    out *= soc
    out += c0
    return cast(Array, out)


_OCV_NMC = (0.90, 0.25, -0.12, 0.11)
_OCV_LFP = (0.955, 0.09, -0.10, 0.07)


def battery_internal_loss(terminal_w: Array, ocv_v: Array, resistance_ohm: Array) -> Array:
    """I²R loss of the equivalent circuit (OCV in series with R) delivering ``terminal_w``.

    ``P = (V_oc − I·R)·I`` solved for the physical root ``I = (V_oc − √(V_oc² − 4RP)) / 2R``;
    demands beyond the circuit's maximum power (V_oc²/4R) are clipped to it.
    """
    disc = terminal_w * (-4.0 * resistance_ohm)
    disc += ocv_v * ocv_v
    np.maximum(disc, 0.0, out=disc)
    np.sqrt(disc, out=disc)
    current = np.subtract(ocv_v, disc, out=disc)
    current *= 1.0 / (2.0 * resistance_ohm)
    current *= current
    current *= resistance_ohm
    return current


def battery_discharge_limit_w(
    ocv_v: Array, resistance_ohm: Array, nominal_v: Array, ambient_c: Array, g: GlobalParameters
) -> Array:
    """Most power the pack delivers without its terminal voltage falling below the cut-off.

    At the cut-off ``V_min`` the current is ``(V_oc − V_min)/R`` and the power ``V_min·(V_oc − V_min)/R``
    (capped by the circuit's maximum ``V_oc²/4R`` if ``V_min`` is below half the OCV). ``V_oc`` falls
    with SOC, so the limit does too; ``R`` rises in the cold by ``e^{k·(25 − T)}`` below 25 °C.
    """
    cold = np.exp(g.battery_cold_resistance_per_c * np.maximum(25.0 - ambient_c, 0.0))
    r = resistance_ohm * cold
    v_min = np.maximum(g.battery_min_voltage_fraction * nominal_v, 0.5 * ocv_v)
    return cast(Array, np.maximum(v_min * (ocv_v - v_min) / r, 0.0))
