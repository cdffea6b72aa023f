"""The central hub: a signal broker on VSS paths, module services, fault reactions."""

from evplatform.vehicle.hub.broker import Datapoint, Priority, SignalBroker
from evplatform.vehicle.hub.vss import SIGNALS, SignalSpec

__all__ = ["SIGNALS", "Datapoint", "Priority", "SignalBroker", "SignalSpec"]
