"""Single faults injected into the hub, the monitors that notice them, and the degraded modes.

A fault is injected as its symptom, not as a verdict: a brake, steering or zone channel stops
sending heartbeats, the front sensor stops delivering frames, a temperature signal jumps. Each
module service runs a monitor on what it can observe (missed-heartbeat counters, a debounce on the
motor temperature, a first-order filter on the battery temperature); the hub commands the degraded
mode one cycle after a monitor confirms. The reaction time is therefore measured, and the test
compares it with the fault-tolerant time interval stated here.

A controlled stop is a SAFETY-priority brake request on the broker (the driver can still override);
limp mode publishes a reduced motor power limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from evplatform.errors import VehicleError
from evplatform.vehicle.hub import vss
from evplatform.vehicle.hub.broker import Priority
from evplatform.vehicle.hub.services import CentralHub
from evplatform.workspace.roles import DRIVER_ASSISTANCE

HUB_CYCLE_S = 0.01


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
    """The service that watches for the fault and the longest allowed time from fault to degraded mode."""

    service: str
    max_reaction_s: float
    basis: str


FAULTS: dict[Fault, FaultSpec] = {
    Fault.BRAKE_CHANNEL_LOSS: FaultSpec(
        "brake", 0.15, "UNECE R13-H transmission failure / ISO 26262 fault-tolerant time"
    ),
    Fault.STEERING_ACTUATOR_LOSS: FaultSpec("steer", 0.10, "UNECE R79: steering must stay available"),
    Fault.MOTOR_DERATE: FaultSpec("motor_control", 0.50, "inverter over-temperature protection"),
    Fault.BATTERY_OVERTEMP: FaultSpec("battery_management", 2.00, "GB 38031-2020 thermal-event warning"),
    Fault.SENSOR_DROPOUT: FaultSpec("driver_assistance", 0.30, "UN R157: minimum risk manoeuvre on a severe failure"),
    Fault.ZONE_LINK_LOSS: FaultSpec("zone_link", 0.10, "zone fail-safe before the next actuator update"),
}
# Monitors: heartbeat period and how many may be missed before a channel is declared lost.
HEARTBEATS = {"brake": (0.01, 2), "steer": (0.01, 2), "zone": (0.01, 3), "sensor": (0.05, 3)}
HEARTBEAT_OF = {Fault.BRAKE_CHANNEL_LOSS: "brake", Fault.STEERING_ACTUATOR_LOSS: "steer",
                Fault.ZONE_LINK_LOSS: "zone", Fault.SENSOR_DROPOUT: "sensor"}
MOTOR_TEMP_LIMIT_C, MOTOR_DEBOUNCE_S = 150.0, 0.10
BATTERY_TEMP_LIMIT_C, BATTERY_FILTER_S = 60.0, 0.50
NORMAL_TEMPS_C = {"motor": 90.0, "battery": 40.0}
FAULT_TEMPS_C = {"motor": 165.0, "battery": 65.0}
CONTROLLED_STOP_DECEL_MPS2 = 3.0  # UN R157 minimum risk manoeuvre: ≤ 4 m/s²
LIMP_POWER_FRACTION = {Fault.MOTOR_DERATE: 0.40, Fault.BATTERY_OVERTEMP: 0.25, Fault.ZONE_LINK_LOSS: 0.30,
                       Fault.STEERING_ACTUATOR_LOSS: 0.30}


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
            if not any(hub.roles.has(role) for role in DRIVER_ASSISTANCE):
                raise VehicleError("sensor dropout: driver assistance is absent on this platform: no feature has "
                                   f"role {', '.join(DRIVER_ASSISTANCE)}")
            raise VehicleError("sensor dropout: this configuration has no driver assistance to lose")
        service = hub.services["driver_assistance"]
        return DegradedMode.REDUNDANT_CHANNEL if service.channels > 1 else DegradedMode.CONTROLLED_STOP
    if fault is Fault.ZONE_LINK_LOSS and "zone_link" not in hub.services:
        absence = hub.roles.absence("zone_controllers")
        if absence is not None:
            raise VehicleError(f"zone link loss: zone controllers are absent on this platform: {absence}")
        raise VehicleError("zone link loss: this configuration has no zone controllers")
    return DegradedMode.LIMP_MODE


@dataclass
class _Monitors:
    """What the services observe, advanced once per hub cycle."""

    last_beat: dict[str, float]
    motor_hot_since: float | None = None
    battery_filtered_c: float = NORMAL_TEMPS_C["battery"]

    def confirmed(self, fault: Fault, t: float, hub: CentralHub) -> bool:
        """True once the service watching ``fault`` has confirmed it at time ``t``."""
        channel = HEARTBEAT_OF.get(fault)
        if channel is not None:
            period, allowed = HEARTBEATS[channel]
            return t - self.last_beat[channel] > allowed * period + 1e-9
        if fault is Fault.MOTOR_DERATE:
            temp = hub.broker.value(vss.MOTOR_TEMP)
            hot = isinstance(temp, float) and temp > MOTOR_TEMP_LIMIT_C
            self.motor_hot_since = (self.motor_hot_since if self.motor_hot_since is not None else t) if hot else None
            return self.motor_hot_since is not None and t - self.motor_hot_since >= MOTOR_DEBOUNCE_S - 1e-9
        raw = hub.broker.value(vss.BATTERY_TEMP)
        if isinstance(raw, float):
            self.battery_filtered_c += HUB_CYCLE_S / BATTERY_FILTER_S * (raw - self.battery_filtered_c)
        return self.battery_filtered_c > BATTERY_TEMP_LIMIT_C


def _plant(hub: CentralHub, monitors: _Monitors, fault: Fault, faulty: bool, t: float) -> None:
    """The vehicle side: heartbeats and frames arrive unless the fault stopped them; temperatures."""
    for channel, (period, _allowed) in HEARTBEATS.items():
        stopped = faulty and HEARTBEAT_OF.get(fault) == channel
        if not stopped and abs(t / period - round(t / period)) < 1e-6:
            monitors.last_beat[channel] = t
    motor = FAULT_TEMPS_C["motor"] if faulty and fault is Fault.MOTOR_DERATE else NORMAL_TEMPS_C["motor"]
    battery = FAULT_TEMPS_C["battery"] if faulty and fault is Fault.BATTERY_OVERTEMP else NORMAL_TEMPS_C["battery"]
    hub.broker.publish(vss.MOTOR_TEMP, motor, t)
    hub.broker.publish(vss.BATTERY_TEMP, battery, t)


def run_fault_scenario(
    hub: CentralHub, fault: Fault, speed_kmh: float = 100.0, inject_at_s: float = 1.0
) -> FaultOutcome:
    """Drive at ``speed_kmh``, inject ``fault`` at ``inject_at_s``, run until the degraded mode is settled."""
    mode = decide(hub, fault)
    broker = hub.broker
    speed = speed_kmh / 3.6
    mass = hub.vehicle.mass_kg + 75.0
    monitors = _Monitors(last_beat=dict.fromkeys(HEARTBEATS, 0.0))
    detected_at: float | None = None
    active_at: float | None = None
    distance = 0.0
    power_limit: float | None = None
    step = 0
    while True:
        step += 1
        t = step * HUB_CYCLE_S
        _plant(hub, monitors, fault, t >= inject_at_s - 1e-9, t)
        if detected_at is not None and active_at is None:
            active_at = t  # the hub commands the degraded mode on the cycle after confirmation
            power_limit = _degrade(hub, fault, mode, mass, t)
        if detected_at is None and monitors.confirmed(fault, t, hub):
            if t < inject_at_s:
                raise VehicleError(f"{fault.value}: a monitor fired before the fault (false positive)")
            detected_at = t
        target = broker.get(vss.BRAKE_FORCE).target
        if isinstance(target, int | float) and target > 0 and speed > 0:
            speed = max(0.0, speed - float(target) / mass * HUB_CYCLE_S)
            distance += speed * HUB_CYCLE_S
        broker.publish(vss.SPEED, round(speed * 3.6, 3), t)
        settled = active_at is not None and t > active_at + 0.5
        if settled and (mode is not DegradedMode.CONTROLLED_STOP or speed == 0.0):
            break
        if t > inject_at_s + 60.0:
            raise VehicleError(f"{fault.value}: the hub never reached a degraded mode")
    if detected_at is None or active_at is None:
        raise AssertionError("cannot happen")  # an invariant, kept under python -O
    return FaultOutcome(
        fault=fault,
        mode=mode,
        detected_s=round(detected_at - inject_at_s, 3),
        reaction_s=round(active_at - inject_at_s, 3),
        max_reaction_s=FAULTS[fault].max_reaction_s,
        power_limit_kw=power_limit,
        final_speed_kmh=round(speed * 3.6, 2),
        stop_distance_m=round(distance, 1) if mode is DegradedMode.CONTROLLED_STOP else None,
    )


def _degrade(hub: CentralHub, fault: Fault, mode: DegradedMode, mass: float, t: float) -> float | None:
    """Mark the failed channel, publish error flags and command the mode; returns a limp power limit."""
    for service in hub.services.values():
        if service.name.startswith(FAULTS[fault].service):
            service.healthy_channels = max(0, service.healthy_channels - 1)
    if fault is Fault.SENSOR_DROPOUT:
        hub.broker.publish(vss.FRONT_SENSOR_ERROR, True, t)
        if mode is DegradedMode.CONTROLLED_STOP:
            hub.broker.publish(vss.CRUISE_ERROR, True, t)
            hub.broker.release(vss.CRUISE_ACTIVE, "driver_assistance")
    if mode is DegradedMode.CONTROLLED_STOP:
        hub.broker.request(vss.BRAKE_FORCE, int(mass * CONTROLLED_STOP_DECEL_MPS2), "hub_safety", Priority.SAFETY, t)
    if mode is DegradedMode.LIMP_MODE:
        limit = round(hub.vehicle.motor_power_kw * LIMP_POWER_FRACTION.get(fault, 0.3), 1)
        hub.broker.publish(vss.MOTOR_MAX_POWER, round(limit), t)
        return limit
    return None


def command_degraded_mode(hub: CentralHub, fault: Fault, t: float) -> tuple[DegradedMode, float | None]:
    """Fault on demand (the served simulation): decide the mode now and command it on the broker, as
    the monitors would after confirming; returns the mode and the limp power limit (kW) if any."""
    mode = decide(hub, fault)
    return mode, _degrade(hub, fault, mode, hub.vehicle.mass_kg + 75.0, t)
