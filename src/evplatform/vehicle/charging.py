"""DC fast charging: time from 10 % to 80 % from a charge-power curve.

Without a measured curve the power at each SOC is the least of
- the vehicle's peak DC power (from its pack feature; a voltage-class default otherwise),
- the charger current limit times the pack voltage at that SOC (so a 400 V pack charges at half the
  power of an 800 V one on the same cable current),
- the chemistry's C-rate limit times the usable energy,
- the chemistry's taper: NMC holds its peak to about half charge then tapers steeply to limit lithium
  plating; LFP's flat voltage lets the BMS hold power longer and taper later.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from evplatform.vehicle.global_parameters import DEFAULTS, GlobalParameters
from evplatform.vehicle.params import VehicleParams
from evplatform.vehicle.powertrain import ocv_fraction

Array = NDArray[np.float64]

# Fraction of peak power against SOC (piecewise linear), shaped after typical published curves; the NMC
# taper was set against the two certain Porsche Taycan times in the reference set (see BENCHMARKS.md).
TAPER: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "NMC": ((0.0, 0.10, 0.20, 0.40, 0.60, 0.80, 1.0), (0.70, 0.90, 1.00, 0.80, 0.60, 0.38, 0.10)),
    "LFP": ((0.0, 0.10, 0.20, 0.55, 0.65, 0.80, 1.0), (0.70, 0.90, 1.00, 0.95, 0.70, 0.45, 0.10)),
}
C_RATE_PEAK = {"LFP": 4.0, "NMC": 5.2}  # fastest production cells of each chemistry at the time of writing


def charge_power_kw(vehicle: VehicleParams, soc: Array, globals_: GlobalParameters = DEFAULTS) -> Array:
    """Power into the battery (kW) at each SOC in ``soc`` (0–1)."""
    if vehicle.charge_curve is not None:
        points = np.array(vehicle.charge_curve)
        return np.asarray(np.interp(soc, points[:, 0], points[:, 1]))
    voltage_class = 800 if vehicle.voltage_v >= 600 else 400
    peak = vehicle.dc_peak_kw or globals_.default_dc_peak_kw[voltage_class]
    socs, fractions = TAPER[vehicle.chemistry]
    curve = peak * np.interp(soc, socs, fractions)
    pack_v = vehicle.voltage_v * ocv_fraction(soc, np.array(vehicle.chemistry == "LFP"))
    by_current = globals_.dc_current_limit_a[voltage_class] * pack_v / 1000.0
    by_c_rate = C_RATE_PEAK[vehicle.chemistry] * vehicle.battery_usable_kwh
    return np.asarray(np.minimum(np.minimum(curve, by_current), by_c_rate))


def charge_time_min(
    vehicle: VehicleParams, start: float = 0.10, end: float = 0.80, globals_: GlobalParameters = DEFAULTS
) -> float:
    """Minutes to charge from ``start`` to ``end`` SOC (fractions of usable energy)."""
    soc = np.linspace(start, end, 701)
    power = charge_power_kw(vehicle, soc, globals_)
    energy_step = vehicle.battery_usable_kwh * (soc[1] - soc[0])
    hours = np.sum(energy_step / (0.5 * (power[1:] + power[:-1])))
    return float(hours * 60.0)
