"""A simulated vehicle behind the hub: a drive cycle through the energy model, replayed on the
broker in (scaled) real time, with faults injected on demand.

The speed, battery power and state of charge come from the same simulation as ``evplatform
simulate`` (one trim on one cycle, with traces); the replay loops the cycle, carrying the state of
charge over, moves the car east from a start position at the cycle's speed, and answers comfort
actuators the way the real modules would (the arbitrated target becomes the actual value).
A fault commands its degraded mode on the broker (a controlled stop is a SAFETY brake request), and
the replay then follows it: the car brakes to a standstill, or runs limited to ``LIMP_SPEED_KMH``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from evplatform.errors import VehicleError
from evplatform.vehicle.hub import vss
from evplatform.vehicle.hub.faults import (
    CONTROLLED_STOP_DECEL_MPS2,
    NORMAL_TEMPS_C,
    DegradedMode,
    Fault,
    command_degraded_mode,
)
from evplatform.vehicle.hub.services import CentralHub, build_hub
from evplatform.vehicle.simulate import simulate_vehicles, trim_params, workspace_cycle

if TYPE_CHECKING:
    from evplatform.workspace.model import Workspace

logger = logging.getLogger(__name__)

LIMP_SPEED_KMH = 60.0
MIN_SOC_PCT = 5.0
START_LAT_LON = (39.9042, 116.4074)  # a start position; the car drives east from it
EARTH_RADIUS_M = 6_371_000.0
NOMINAL_CABIN_C = 22.0


@dataclass
class VehicleSimulator:
    """Replays one trim's drive-cycle trace on ``hub.broker``; ``step(dt)`` advances simulated time."""

    hub: CentralHub
    cycle: str
    hz: float = 10.0
    time_s: float = 0.0
    distance_m: float = 0.0
    speed_kmh: float = 0.0
    mode: DegradedMode | None = None
    faults: list[Fault] = field(default_factory=list)
    _trace: dict[str, np.ndarray] = field(default_factory=dict)
    _range_km_full: float = 0.0
    _served: dict[str, vss.SignalSpec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        simulation = simulate_vehicles([self.hub.vehicle], self.cycle, hz=self.hz, traces=True)
        result = simulation.cycle_result
        if result.time_s is None or result.speed_kmh is None or result.battery_power_kw is None or result.soc is None:
            raise AssertionError("cannot happen: traces were asked for")  # kept under python -O
        self._trace = {"t": np.asarray(result.time_s, dtype=float),
                       "speed": np.asarray(result.speed_kmh[0], dtype=float),
                       "power": np.asarray(result.battery_power_kw[0], dtype=float),
                       "soc": 100.0 * np.asarray(result.soc[0], dtype=float)}
        self._range_km_full = float(simulation.results[0]["range_km"])
        broker = self.hub.broker
        served = self._served = self.hub.served_signals()
        for path, value in ((vss.CABIN_TEMP, NOMINAL_CABIN_C), (vss.HVAC_DRIVER_TEMP, NOMINAL_CABIN_C),
                            (vss.HVAC_DRIVER_FAN, 0), (vss.HVAC_AC_ACTIVE, False), (vss.DRIVER_DOOR_LOCKED, True),
                            (vss.LOW_BEAM, False), (vss.HORN, False), (vss.IS_CHARGING, False),
                            (vss.MOTOR_TEMP, NORMAL_TEMPS_C["motor"]), (vss.BATTERY_TEMP, NORMAL_TEMPS_C["battery"])):
            if path in served:
                broker.publish(path, value)
        self.step(0.0)

    @property
    def duration_s(self) -> float:
        return float(self._trace["t"][-1])

    def inject(self, fault: Fault) -> DegradedMode:
        """Command ``fault``'s degraded mode now (VehicleError when this configuration lacks the part)."""
        mode, _limit = command_degraded_mode(self.hub, fault, self.time_s)
        self.faults.append(fault)
        if self.mode is not DegradedMode.CONTROLLED_STOP:
            self.mode = mode
        logger.info("fault %s at %.2f s: %s", fault.value, self.time_s, mode.value)
        return mode

    def step(self, dt_s: float) -> None:
        """Advance ``dt_s`` seconds and publish the vehicle's signals."""
        self.time_s += dt_s
        lap, into = divmod(self.time_s, self.duration_s)
        trace = self._trace
        wanted = float(np.interp(into, trace["t"], trace["speed"]))
        power_kw = float(np.interp(into, trace["t"], trace["power"]))
        lap_drop = float(trace["soc"][0] - trace["soc"][-1])
        soc = max(MIN_SOC_PCT, float(np.interp(into, trace["t"], trace["soc"])) - lap * lap_drop)
        previous = self.speed_kmh
        self.speed_kmh = self._follow(wanted, previous, dt_s)
        if self.speed_kmh != wanted:
            power_kw = power_kw * self.speed_kmh / wanted if wanted > 0 else 0.0
        self.distance_m += self.speed_kmh / 3.6 * dt_s
        accel = (self.speed_kmh - previous) / 3.6 / dt_s if dt_s > 0 else 0.0
        self._publish(power_kw, soc, accel)
        self._apply_comfort_targets()

    def _follow(self, wanted_kmh: float, previous_kmh: float, dt_s: float) -> float:
        """The speed the car reaches: the cycle's, unless a degraded mode brakes or limits it."""
        if self.mode is DegradedMode.CONTROLLED_STOP:
            return max(0.0, previous_kmh - CONTROLLED_STOP_DECEL_MPS2 * 3.6 * dt_s)
        if self.mode is DegradedMode.LIMP_MODE:
            return min(wanted_kmh, LIMP_SPEED_KMH)
        return wanted_kmh

    def _publish(self, power_kw: float, soc: float, accel: float) -> None:
        broker, t, served = self.hub.broker, self.time_s, self._served
        lat0, lon0 = START_LAT_LON
        lon = lon0 + math.degrees(self.distance_m / (EARTH_RADIUS_M * math.cos(math.radians(lat0))))
        values: dict[str, float | int | bool] = {
            vss.SPEED: round(self.speed_kmh, 3), vss.ACCEL_LONG: round(accel, 3),
            vss.IS_MOVING: self.speed_kmh > 0.0, vss.TRAVELED_DISTANCE: int(self.distance_m),
            vss.LATITUDE: lat0, vss.LONGITUDE: round(lon, 7),
            vss.RANGE: int(self._range_km_full * 1000.0 * soc / 100.0),
            vss.SOC: round(soc, 3), vss.BATTERY_POWER: round(power_kw * 1000.0, 1),
            vss.MOTOR_POWER: round(max(-32768.0, min(32767.0, power_kw))),
        }
        for path, value in values.items():
            if path in served:
                broker.publish(path, value, t)

    def _apply_comfort_targets(self) -> None:
        """Comfort and body modules do what they are asked: the arbitrated target becomes actual."""
        broker = self.hub.broker
        for path, spec in self._served.items():
            if spec.kind != "actuator" or vss.is_motion_control(path):
                continue
            point = broker.get(path)
            if point.target is not None and point.target != point.current:
                broker.publish(path, point.target, self.time_s)


def simulated_vehicle(ws: Workspace, trim_key: str | None = None, market: str | None = None,
                      hz: float = 10.0) -> VehicleSimulator:
    """One trim (default: the first) in one market (default: the base market): its hub, with the
    services its configuration implies, on that market's homologation cycle."""
    market_id = market or ws.platform.base_market
    if market_id not in ws.markets:
        raise VehicleError(f"unknown market {market_id!r}; markets: {', '.join(ws.markets)}")
    trim = ws.trim(trim_key) if trim_key else ws.trims()[0]
    if trim not in ws.sold_in(market_id):
        raise VehicleError(f"trim {trim.key} is not sold in market {market_id}")
    hub = build_hub(ws.configuration(trim, market_id), trim_params(ws, trim, market_id), ws.roles)
    return VehicleSimulator(hub, workspace_cycle(ws, market_id), hz=hz)
