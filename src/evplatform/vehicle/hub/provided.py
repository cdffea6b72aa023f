"""Which VSS signals a configuration's hub provides: the signals of the services it registers.

An app that reads or actuates a signal no service of the trim's hub provides cannot run on that
trim (``evplatform apps check``). The services come from the configuration's feature roles exactly
as :func:`evplatform.vehicle.hub.services.build_hub` registers them; this module only says which
signals each service owns, plus the body-domain signals the central compute always carries (cabin
climate, position). Steering and brake targets exist only with the by-wire services that take them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from evplatform.vehicle.hub import vss
from evplatform.vehicle.hub.services import CentralHub

#: The signals each module service owns (publishes, or accepts requests for when it is an actuator).
SERVICE_SIGNALS: Mapping[str, tuple[str, ...]] = {
    "battery_management": (vss.SOC, vss.BATTERY_TEMP, vss.BATTERY_POWER, vss.RANGE),
    "motor_control": (vss.SPEED, vss.ACCEL_LONG, vss.ACCEL_LAT, vss.MOTOR_POWER, vss.MOTOR_TORQUE,
                      vss.MOTOR_MAX_POWER, vss.MOTOR_TEMP, vss.ACCEL_PEDAL),
    "charging": (vss.IS_CHARGING, vss.CHARGE_TIME_TO_COMPLETE),
    "brake_by_wire": (vss.BRAKE_PEDAL, vss.BRAKE_FORCE, vss.BRAKE_FORCE_ELECTRIC),
    "hydraulic_brakes": (vss.BRAKE_PEDAL, vss.BRAKE_FORCE),
    "steer_by_wire": (vss.STEERING_ANGLE, vss.STEERING_TARGET),
    "electric_power_steering": (vss.STEERING_ANGLE,),
    "driver_assistance": (vss.CRUISE_ACTIVE, vss.CRUISE_SPEED, vss.CRUISE_ADAPTIVE, vss.CRUISE_ERROR,
                          vss.EBA_ENGAGED, vss.EBA_ERROR, vss.FRONT_DISTANCE, vss.FRONT_SENSOR_ERROR,
                          vss.AUTONOMY_LEVEL),
    "zone_link": (),
}

#: Carried by the central compute itself on every configuration (body domain, GNSS receiver).
ALWAYS: tuple[str, ...] = (
    vss.LOW_VOLTAGE_STATE, vss.LATITUDE, vss.LONGITUDE, vss.CABIN_AMBIENT_TEMP, vss.HVAC_AC_ACTIVE,
    vss.HVAC_DEFROST_FRONT, vss.HVAC_DRIVER_TEMP, vss.HVAC_PASSENGER_TEMP, vss.HVAC_DRIVER_FAN,
)


def signals_of_services(services: Iterable[str]) -> frozenset[str]:
    """The signals a hub with these services provides (unknown service names add nothing)."""
    out = set(ALWAYS)
    for name in services:
        out.update(SERVICE_SIGNALS.get(name, ()))
    return frozenset(out)


def provided_signals(hub: CentralHub) -> frozenset[str]:
    """The signals ``hub`` provides: its registered services' plus the always-present ones."""
    return signals_of_services(hub.services)
