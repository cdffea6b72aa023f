"""Driver assistance on longitudinal scenarios: ACC, AEB (Euro NCAP CCRs), the ALKS speed limit.

AEB is vectorised over trims × test speeds: each row brakes when time-to-collision falls below the
trigger, after the sensor and actuator latency of its configuration, with a jerk-limited ramp to the
tyre-limited deceleration. Brake-by-wire builds pressure faster than a vacuum/electric booster; a
lidar suite confirms a stationary target sooner than cameras alone. Which features are the AEB,
the lidar, the brake-by-wire and the ALKS comes from the platform's ``FeatureRoles``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from evplatform.vehicle.hub import vss
from evplatform.vehicle.hub.broker import Priority
from evplatform.vehicle.hub.services import CentralHub
from evplatform.workspace.roles import FeatureRoles

Array = NDArray[np.float64]

CCRS_SPEEDS_KMH = (10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0)  # Euro NCAP AEB C2C protocol, CCRs
AEB_TTC_TRIGGER_S = 1.2
AEB_MAX_DECEL_MPS2 = 9.0  # dry asphalt, ABS active
AEB_JERK_MPS3 = 30.0
LATENCY_S = {"camera": 0.25, "lidar": 0.15, "brake_by_wire": 0.10, "booster": 0.25}
# UN R157 01 series (in force 2023-01): ALKS up to 130 km/h in contracting parties; none elsewhere.
ALKS_LIMIT_UNECE_KMH = 130.0


@dataclass(frozen=True)
class AebSetup:
    """What decides one configuration's AEB performance."""

    name: str
    has_aeb: bool
    lidar: bool
    brake_by_wire: bool


def aeb_setup(name: str, configuration: Iterable[str], roles: FeatureRoles) -> AebSetup:
    """The AEB-relevant facts of a configuration, read through the platform's roles."""
    config = frozenset(configuration)
    return AebSetup(
        name=name,
        has_aeb=roles.present("aeb", config),
        lidar=roles.present("lidar", config),
        brake_by_wire=roles.present("brake_by_wire", config),
    )


def ccrs_impact_speeds(setups: Sequence[AebSetup], speeds_kmh: Sequence[float] = CCRS_SPEEDS_KMH,
                       dt_s: float = 0.005) -> Array:
    """Impact speed (km/h, 0 = avoided) for each setup (rows) at each test speed (columns)."""
    n, m = len(setups), len(speeds_kmh)
    v = np.tile(np.asarray(speeds_kmh, dtype=np.float64) / 3.6, (n, 1))
    gap = np.full((n, m), 40.0)  # metres to the stationary target when the run starts
    latency = np.array(
        [LATENCY_S["lidar" if s.lidar else "camera"] + LATENCY_S["brake_by_wire" if s.brake_by_wire else "booster"]
         for s in setups]
    )[:, None]
    active = np.array([s.has_aeb for s in setups])[:, None]
    triggered_at = np.full((n, m), np.inf)
    impact = np.full((n, m), np.nan)
    decel = np.zeros((n, m))
    t = 0.0
    while np.any(np.isnan(impact)):
        t += dt_s
        ttc = gap / np.maximum(v, 1e-6)
        triggered_at = np.where(active & (ttc < AEB_TTC_TRIGGER_S) & np.isinf(triggered_at), t, triggered_at)
        braking = t >= triggered_at + latency
        decel = np.where(braking, np.minimum(decel + AEB_JERK_MPS3 * dt_s, AEB_MAX_DECEL_MPS2), 0.0)
        v_new = np.maximum(v - decel * dt_s, 0.0)
        gap = gap - 0.5 * (v + v_new) * dt_s
        v = v_new
        open_ = np.isnan(impact)
        impact = np.where(open_ & (gap <= 0), v * 3.6, impact)
        impact = np.where(open_ & (gap > 0) & (v == 0), 0.0, impact)
    return impact


@dataclass(frozen=True)
class AccOutcome:
    min_gap_m: float
    min_time_gap_s: float
    collided: bool
    final_speed_kmh: float


def acc_follow(hub: CentralHub, set_speed_kmh: float = 100.0, lead_speed_kmh: float = 80.0,
               lead_brake_mps2: float = 3.0, time_gap_s: float = 1.8, duration_s: float = 40.0,
               dt_s: float = 0.05) -> AccOutcome:
    """ACC behind a lead car that cruises, then brakes to a stop (ISO 15622 style).

    The controller is a constant-time-gap law, ``a = 0.25·(gap − d_ref) + 0.7·(v_lead − v)``, limited
    to +2 / −3.5 m/s² (ISO 15622 comfort limits); its brake requests go through the broker at
    DRIVER_ASSISTANCE priority.
    """
    broker = hub.broker
    broker.request(vss.CRUISE_ACTIVE, True, "driver_assistance", Priority.DRIVER_ASSISTANCE)
    broker.request(vss.CRUISE_SPEED, set_speed_kmh, "driver_assistance", Priority.DRIVER_ASSISTANCE)
    v, v_lead = lead_speed_kmh / 3.6, lead_speed_kmh / 3.6
    gap = time_gap_s * v + 5.0
    min_gap, min_tg = gap, np.inf
    t = 0.0
    while t < duration_s:
        t += dt_s
        if t > duration_s / 3:
            v_lead = max(0.0, v_lead - lead_brake_mps2 * dt_s)
        d_ref = 5.0 + time_gap_s * v
        accel = 0.25 * (gap - d_ref) + 0.7 * (v_lead - v)
        accel = min(accel, 0.6 * (set_speed_kmh / 3.6 - v))
        accel = float(np.clip(accel, -3.5, 2.0))
        if accel < 0:
            broker.request(vss.BRAKE_FORCE, int(-accel * hub.vehicle.mass_kg), "driver_assistance",
                           Priority.DRIVER_ASSISTANCE, t)
        else:
            broker.release(vss.BRAKE_FORCE, "driver_assistance")
        v = max(0.0, v + accel * dt_s)
        gap -= (v - v_lead) * dt_s
        broker.publish(vss.SPEED, round(v * 3.6, 3), t)
        broker.publish(vss.FRONT_DISTANCE, round(gap, 3), t)
        min_gap = min(min_gap, gap)
        if v > 1.0:
            min_tg = min(min_tg, gap / v)
    broker.release(vss.BRAKE_FORCE, "driver_assistance")
    return AccOutcome(round(min_gap, 2), round(float(min_tg), 2), min_gap <= 0, round(v * 3.6, 2))


def alks_speed_limit_kmh(configuration: Iterable[str], unece_market: bool, roles: FeatureRoles) -> float:
    """ALKS (UN R157) speed limit: 130 km/h where R157 applies and the trim has ALKS, else 0 (not allowed)."""
    return ALKS_LIMIT_UNECE_KMH if unece_market and roles.present("alks", configuration) else 0.0
