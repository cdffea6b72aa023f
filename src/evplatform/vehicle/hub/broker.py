"""An in-process signal broker keyed by VSS paths, with priority arbitration of actuators.

Sensors have a current value; actuators also have a target, decided by arbitration among the
requests standing at that moment: the highest priority wins (driver > safety functions > driver
assistance > comfort > third-party apps), and among equals the latest request.
Subscribers are called synchronously, in subscription order, whenever a value or target changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from evplatform.errors import VehicleError
from evplatform.vehicle.hub.vss import SIGNALS, SignalSpec

Value = float | int | bool | str


class Priority(IntEnum):
    """Who asks for an actuator; lower numbers win."""

    DRIVER = 0
    SAFETY = 1
    DRIVER_ASSISTANCE = 2
    COMFORT = 3
    THIRD_PARTY = 4


@dataclass
class Datapoint:
    """What the broker knows of one signal."""

    current: Value | None = None
    target: Value | None = None
    updated_s: float = 0.0
    target_owner: str | None = None


@dataclass(frozen=True)
class Request:
    requester: str
    priority: Priority
    value: Value
    time_s: float
    sequence: int


Callback = Callable[[str, Datapoint], None]


@dataclass
class SignalBroker:
    """The hub's signal store. Unknown paths and wrongly typed values raise VehicleError."""

    catalogue: Mapping[str, SignalSpec] = field(default_factory=lambda: dict(SIGNALS))
    _points: dict[str, Datapoint] = field(default_factory=dict)
    _subscribers: dict[str, list[Callback]] = field(default_factory=dict)
    _requests: dict[str, dict[str, Request]] = field(default_factory=dict)
    _sequence: int = 0

    def _spec(self, path: str) -> SignalSpec:
        spec = self.catalogue.get(path)
        if spec is None:
            raise VehicleError(f"unknown VSS signal {path!r}")
        return spec

    def get(self, path: str) -> Datapoint:
        self._spec(path)
        return self._points.setdefault(path, Datapoint())

    def value(self, path: str) -> Value | None:
        return self.get(path).current

    def publish(self, path: str, value: Value, time_s: float = 0.0) -> None:
        """Set a signal's current value (a sensor reading or an actuator's actual state)."""
        _check_type(path, self._spec(path), value)
        point = self.get(path)
        point.current = value
        point.updated_s = time_s
        self._notify(path, point)

    def subscribe(self, path: str, callback: Callback) -> Callable[[], None]:
        """Call ``callback(path, datapoint)`` on every change; returns the unsubscribe function."""
        self._spec(path)
        self._subscribers.setdefault(path, []).append(callback)
        return lambda: self._subscribers[path].remove(callback)

    def request(self, path: str, value: Value, requester: str, priority: Priority, time_s: float = 0.0) -> bool:
        """Ask for an actuator target; returns True when this request is now the arbitrated one."""
        spec = self._spec(path)
        if spec.kind != "actuator":
            raise VehicleError(f"{path} is a {spec.kind}, not an actuator: it cannot be requested")
        _check_type(path, spec, value)
        self._sequence += 1
        self._requests.setdefault(path, {})[requester] = Request(requester, priority, value, time_s, self._sequence)
        return self._arbitrate(path) == requester

    def release(self, path: str, requester: str) -> None:
        """Withdraw a request; the next standing request (if any) becomes the target."""
        self._requests.get(path, {}).pop(requester, None)
        self._arbitrate(path)

    def outranked_by(self, path: str, priority: Priority) -> str | None:
        """Who holds a standing request on ``path`` that a request at ``priority`` cannot beat, if anyone."""
        above = [r for r in self._requests.get(path, {}).values() if r.priority < priority]
        return min(above, key=lambda r: (r.priority, -r.sequence)).requester if above else None

    def owner(self, path: str) -> str | None:
        return self.get(path).target_owner

    def _arbitrate(self, path: str) -> str | None:
        standing = self._requests.get(path, {})
        point = self.get(path)
        if not standing:
            changed = point.target is not None
            point.target, point.target_owner = None, None
        else:
            best = min(standing.values(), key=lambda r: (r.priority, -r.sequence))
            changed = (point.target, point.target_owner) != (best.value, best.requester)
            point.target, point.target_owner = best.value, best.requester
        if changed:
            self._notify(path, point)
        return point.target_owner

    def _notify(self, path: str, point: Datapoint) -> None:
        for callback in list(self._subscribers.get(path, [])):
            callback(path, point)


def _check_type(path: str, spec: SignalSpec, value: Value) -> None:
    if spec.datatype == "boolean":
        ok = isinstance(value, bool)
    elif spec.datatype == "string":
        ok = isinstance(value, str)
    else:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok:
        raise VehicleError(f"{path} carries {spec.datatype}, got {value!r}")
