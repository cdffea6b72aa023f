"""Single faults injected into the hub, and the degraded mode each one must end in.

A fault is noticed after its detection time (missed heartbeats, filtered temperature), then the
hub commands the reaction. The scenario runs the vehicle at 100 Hz on the broker: a controlled stop
is a SAFETY-priority brake request that the driver can still override; limp mode publishes a reduced
motor power limit. Reaction times are the fault-tolerant time intervals stated below.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from evplatform.errors import VehicleError
from evplatform.vehicle.hub import vss
from evplatform.vehicle.hub.broker import Priority
from evplatform.vehicle.hub.services import CentralHub


class Fault(Enum):
    BRAKE_CHANNEL_LOSS = "brake_channel_loss"
    STEERING_ACTUATOR_LOSS = "steering_actuator_loss"
    MOTOR_DERATE = "motor_derate"
    BATTERY_OVERTEMP = "battery_overtemp"
    SENSOR_DROPOUT = "sensor_dropout"
    ZONE_LINK_LOSS = "zone_link_loss"


class DegradedMode(Enum):
    REDUNDANT_CHANNEL = "redundant_channel"
    LIMP_MODE = "limp_mode"
    CONTROLLED_STOP = "controlled_stop"


@dataclass(frozen=True)
class FaultSpec:
    """How long detection takes and the longest allowed time from fault to degraded mode."""

    service: str
    detection_s: float
    max_reaction_s: float
    basis: str


FAULTS: dict[Fault, FaultSpec] = {
    Fault.BRAKE_CHANNEL_LOSS: FaultSpec(
        "brake", 0.02, 0.15, "UNECE R13-H §5.2.22 / ISO 26262 FTTI: 2 missed 10 ms heartbeats"
    ),
    Fault.STEERING_ACTUATOR_LOSS: FaultSpec("steer", 0.02, 0.10, "UNECE R79 §5.3: steering must stay available"),
    Fault.MOTOR_DERATE: FaultSpec("motor_control", 0.10, 0.50, "inverter over-temperature, 100 ms filter"),
    Fault.BATTERY_OVERTEMP: FaultSpec(
        "battery_management", 1.00, 2.00, "cell temperature, 1 s filter (GB 38031 thermal)"
    ),
    Fault.SENSOR_DROPOUT: FaultSpec("driver_assistance", 0.15, 0.30, "3 missed 20 Hz frames; UN R157 §5.1.5 MRM"),
    Fault.ZONE_LINK_LOSS: FaultSpec("zone_link", 0.03, 0.10, "3 missed 10 ms heartbeats"),
}
CONTROLLED_STOP_DECEL_MPS2 = 3.0  # UN R157 §5.5 MRM: ≤ 4 m/s² unless a collision is imminent
LIMP_POWER_FRACTION = {Fault.MOTOR_DERATE: 0.40, Fault.BATTERY_OVERTEMP: 0.25, Fault.ZONE_LINK_LOSS: 0.30}


@dataclass(frozen=True)
class FaultOutcome:
    """What happened after the fault: the mode reached, when, and the vehicle's end state."""

    fault: Fault
    mode: DegradedMode
    detected_s: float
    reaction_s: float
    max_reaction_s: float
    power_limit_kw: float | None
    final_speed_kmh: float
    stop_distance_m: float | None

    @property
    def within_limit(self) -> bool:
        return self.reaction_s <= self.max_reaction_s


def decide(hub: CentralHub, fault: Fault) -> DegradedMode:
    """The degraded mode a fault leads to on this configuration."""
    if fault is Fault.BRAKE_CHANNEL_LOSS:
        service = hub.services.get("brake_by_wire") or hub.services["hydraulic_brakes"]
        return DegradedMode.REDUNDANT_CHANNEL if service.channels > 1 else DegradedMode.CONTROLLED_STOP
    if fault is Fault.STEERING_ACTUATOR_LOSS:
        service = hub.services.get("steer_by_wire") or hub.services["electric_power_steering"]
        if service.channels > 1:
            return DegradedMode.REDUNDANT_CHANNEL
        # EPS keeps the column: the driver steers unassisted, the hub limits power and speed.
        return DegradedMode.LIMP_MODE if service.name == "electric_power_steering" else DegradedMode.CONTROLLED_STOP
    if fault is Fault.SENSOR_DROPOUT:
        if "driver_assistance" not in hub.services:
            raise VehicleError("sensor dropout: this configuration has no driver assistance to lose")
        service = hub.services["driver_assistance"]
        return DegradedMode.REDUNDANT_CHANNEL if service.channels > 1 else DegradedMode.CONTROLLED_STOP
    if fault is Fault.ZONE_LINK_LOSS and "zone_link" not in hub.services:
        raise VehicleError("zone link loss: this configuration has no zone controllers")
    return DegradedMode.LIMP_MODE


def run_fault_scenario(
    hub: CentralHub, fault: Fault, speed_kmh: float = 100.0, inject_at_s: float = 1.0, dt_s: float = 0.01
) -> FaultOutcome:
    """Drive at ``speed_kmh``, inject ``fault``, and run until the degraded mode is settled."""
    spec = FAULTS[fault]
    broker = hub.broker
    speed = speed_kmh / 3.6
    mass = hub.vehicle.mass_kg + 75.0
    detected_at = inject_at_s + spec.detection_s
    mode = decide(hub, fault)
    active_at: float | None = None
    stop_start: float | None = None
    distance_since = 0.0
    power_limit: float | None = None
    t = 0.0
    end = inject_at_s + 30.0
    while t < end:
        t = round(t + dt_s, 9)
        if active_at is None and t >= detected_at:
            active_at = t + dt_s  # the command is on the bus one hub cycle after detection
            _degrade(hub, fault, mode)
            if mode is DegradedMode.CONTROLLED_STOP:
                force = int(mass * CONTROLLED_STOP_DECEL_MPS2)
                broker.request(vss.BRAKE_FORCE, force, "hub_safety", Priority.SAFETY, t)
                stop_start = t
            if mode is DegradedMode.LIMP_MODE:
                power_limit = round(hub.vehicle.motor_power_kw * LIMP_POWER_FRACTION.get(fault, 0.3), 1)
                broker.publish(vss.MOTOR_MAX_POWER, round(power_limit), t)
        target = broker.get(vss.BRAKE_FORCE).target
        if isinstance(target, int | float) and target > 0 and speed > 0:
            speed = max(0.0, speed - float(target) / mass * dt_s)
            distance_since += speed * dt_s
        broker.publish(vss.SPEED, round(speed * 3.6, 3), t)
        if active_at is not None and t > active_at + 0.5 and (mode is not DegradedMode.CONTROLLED_STOP or speed == 0):
            break
    if active_at is None:
        raise VehicleError(f"{fault.value}: the hub never reacted")
    return FaultOutcome(
        fault=fault,
        mode=mode,
        detected_s=round(spec.detection_s, 3),
        reaction_s=round(active_at - inject_at_s, 3),
        max_reaction_s=spec.max_reaction_s,
        power_limit_kw=power_limit,
        final_speed_kmh=round(speed * 3.6, 2),
        stop_distance_m=round(distance_since, 1) if stop_start is not None else None,
    )


def _degrade(hub: CentralHub, fault: Fault, mode: DegradedMode) -> None:
    """Mark the failed channel and publish the error flags other services watch."""
    for service in hub.services.values():
        if service.name.startswith(FAULTS[fault].service):
            service.healthy_channels = max(0, service.healthy_channels - 1)
    if fault is Fault.SENSOR_DROPOUT:
        hub.broker.publish(vss.FRONT_SENSOR_ERROR, True)
        if mode is DegradedMode.CONTROLLED_STOP:
            hub.broker.publish(vss.CRUISE_ERROR, True)
            hub.broker.release(vss.CRUISE_ACTIVE, "driver_assistance")
