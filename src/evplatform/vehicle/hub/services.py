"""Module services registered on the hub, built from a configuration's features.

Each service owns a few VSS signals and reacts on the broker. The set of services and their
redundancy (second brake or steering channel, lidar beside cameras, zone controllers) comes from
the selected features, so two trims of one platform get different hubs. Which feature is the
brake-by-wire or the lidar is the platform's ``FeatureRoles`` (platform.yaml ``roles:``), never a
name written here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from evplatform.vehicle.hub import vss
from evplatform.vehicle.hub.broker import Priority, SignalBroker
from evplatform.vehicle.params import VehicleParams
from evplatform.workspace.roles import DRIVER_ASSISTANCE, FeatureRoles

#: What the hub itself publishes, whatever the configuration (vehicle state and position).
HUB_SIGNALS: tuple[str, ...] = (
    vss.SPEED, vss.ACCEL_LONG, vss.IS_MOVING, vss.TRAVELED_DISTANCE, vss.LATITUDE, vss.LONGITUDE, vss.RANGE,
    vss.LOW_VOLTAGE_STATE,
)
#: The signals each module service provides on the hub (its sensors and the actuators it answers for).
SERVICE_SIGNALS: dict[str, tuple[str, ...]] = {
    "battery_management": (vss.SOC, vss.BATTERY_TEMP, vss.BATTERY_POWER),
    "charging": (vss.IS_CHARGING,),
    "motor_control": (vss.MOTOR_POWER, vss.MOTOR_TORQUE, vss.MOTOR_MAX_POWER, vss.MOTOR_TEMP, vss.ACCEL_PEDAL),
    "brake_by_wire": (vss.BRAKE_PEDAL, vss.BRAKE_FORCE, vss.BRAKE_FORCE_ELECTRIC),
    "hydraulic_brakes": (vss.BRAKE_PEDAL, vss.BRAKE_FORCE),
    "steer_by_wire": (vss.STEERING_ANGLE, vss.STEERING_TARGET),
    "electric_power_steering": (vss.STEERING_ANGLE, vss.STEERING_TARGET),
    "driver_assistance": (vss.CRUISE_ACTIVE, vss.CRUISE_SPEED, vss.CRUISE_ADAPTIVE, vss.CRUISE_ERROR,
                          vss.EBA_ENGAGED, vss.EBA_ERROR, vss.FRONT_DISTANCE, vss.FRONT_SENSOR_ERROR,
                          vss.AUTONOMY_LEVEL),
    "cabin_comfort": (vss.CABIN_TEMP, vss.HVAC_DRIVER_TEMP, vss.HVAC_DRIVER_FAN, vss.HVAC_AC_ACTIVE),
    "body_control": (vss.DRIVER_DOOR_LOCKED, vss.LOW_BEAM, vss.HORN),
}


@dataclass
class ModuleService:
    """A module on the hub: its name, who it speaks as, how many independent channels it has."""

    name: str
    priority: Priority
    channels: int = 1
    healthy_channels: int = 1
    features: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.healthy_channels = self.channels

    @property
    def available(self) -> bool:
        return self.healthy_channels > 0


@dataclass
class CentralHub:
    """The broker plus the registered services and the vehicle they run on."""

    vehicle: VehicleParams
    configuration: frozenset[str]
    roles: FeatureRoles
    broker: SignalBroker = field(default_factory=SignalBroker)
    services: dict[str, ModuleService] = field(default_factory=dict)

    def register(self, service: ModuleService) -> None:
        self.services[service.name] = service

    def served_signals(self) -> dict[str, vss.SignalSpec]:
        """The VSS signals this hub carries, in catalogue order: the hub's own vehicle state plus what
        each registered service provides (a trim without driver assistance serves no ADAS signal)."""
        paths = set(HUB_SIGNALS)
        for name in self.services:
            paths.update(SERVICE_SIGNALS.get(name, ()))
        return {path: spec for path, spec in self.broker.catalogue.items() if path in paths}

    def has_role(self, role: str) -> bool:
        """True when the configuration selects a feature that plays ``role``."""
        return self.roles.present(role, self.configuration)


def build_hub(configuration: Iterable[str], vehicle: VehicleParams, roles: FeatureRoles) -> CentralHub:
    """Register the services a configuration implies and publish the vehicle's static signals."""
    config = frozenset(configuration)
    hub = CentralHub(vehicle, config, roles)
    hub.register(ModuleService("battery_management", Priority.SAFETY))
    hub.register(ModuleService("motor_control", Priority.SAFETY, channels=2 if vehicle.drive == "AWD" else 1))
    hub.register(ModuleService("charging", Priority.COMFORT))
    hub.register(ModuleService("cabin_comfort", Priority.COMFORT))
    hub.register(ModuleService("body_control", Priority.COMFORT))
    by_wire = hub.has_role("brake_by_wire")
    hub.register(
        ModuleService(
            "brake_by_wire" if by_wire else "hydraulic_brakes",
            Priority.SAFETY,
            channels=2 if hub.has_role("brake_redundancy") or not by_wire else 1,
        )
    )
    steer_by_wire = hub.has_role("steer_by_wire")
    hub.register(
        ModuleService(
            "steer_by_wire" if steer_by_wire else "electric_power_steering",
            Priority.SAFETY,
            channels=2 if hub.has_role("steer_redundancy") else 1,
        )
    )
    adas = roles.selected(DRIVER_ASSISTANCE, config)
    if adas:
        hub.register(
            ModuleService(
                "driver_assistance",
                Priority.DRIVER_ASSISTANCE,
                channels=2 if hub.has_role("lidar") else 1,
                features=adas,
            )
        )
    if hub.has_role("zone_controllers"):
        hub.register(ModuleService("zone_link", Priority.SAFETY, channels=1))
    hub.broker.publish(vss.MOTOR_MAX_POWER, round(vehicle.motor_power_kw))
    hub.broker.publish(vss.LOW_VOLTAGE_STATE, "ON")
    return hub
