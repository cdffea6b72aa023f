"""The vehicle's side of MQTT telemetry: buffer events while offline, send them in signed batches.

A batch gets its message id when it is cut from the buffer and keeps it until the broker has
acknowledged it (QoS 1 PUBACK): a batch resent after a lost acknowledgement has the same id, so
the ingester stores it once. The buffer is bounded; when it is full the oldest events go first
and are counted (``dropped``), since a vehicle cannot hold an unbounded backlog.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import deque
from collections.abc import Callable

import aiomqtt
from nacl.signing import SigningKey
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from evplatform.fleet import mqtt_topics as topics
from evplatform.fleet.telemetry import TelemetryEvent

log = logging.getLogger(__name__)

BATCH_EVENTS = 10
BUFFER_EVENTS = 100_000


def publish_properties(message: topics.SignedMessage) -> Properties:
    """MQTT 5 PUBLISH properties carrying the signature as user properties."""
    properties = Properties(PacketTypes.PUBLISH)
    properties.UserProperty = list(message.properties.items())
    return properties


class VehicleTelemetryClient:
    """One vehicle's telemetry sender (used by the simulated fleet, the tests and the benchmark)."""

    def __init__(self, vin: str, key: SigningKey, *, batch_events: int = BATCH_EVENTS,
                 buffer_events: int = BUFFER_EVENTS, clock: Callable[[], float] = time.time) -> None:
        self.vin, self.key, self.batch_events = vin, key, batch_events
        self.buffer: deque[TelemetryEvent] = deque()
        self.buffer_events = buffer_events
        self.pending: deque[tuple[str, list[TelemetryEvent]]] = deque()  # cut batches, id fixed, not yet acked
        self.dropped = 0
        self.sent = 0
        self._clock = clock

    def record(self, event: TelemetryEvent) -> None:
        """Keep an event until it is sent (oldest dropped, and counted, beyond the bound)."""
        self.buffer.append(event)
        while len(self.buffer) > self.buffer_events:
            self.buffer.popleft()
            self.dropped += 1

    def _cut(self) -> None:
        while self.buffer:
            batch = [self.buffer.popleft() for _ in range(min(self.batch_events, len(self.buffer)))]
            self.pending.append((secrets.token_hex(8), batch))

    def signed(self, message_id: str, events: list[TelemetryEvent], channel: str = "telemetry") -> topics.SignedMessage:
        topic = topics.telemetry_topic(self.vin, channel)
        return topics.sign_message(self.key, self.vin, topic, topics.encode_events(events), message_id,
                                   int(self._clock()))

    async def flush(self, client: aiomqtt.Client) -> int:
        """Send every buffered event in batches; a batch leaves ``pending`` only once the broker acked it.

        On a lost connection the unsent batches stay (with their ids) for the next ``flush``.
        Returns the number of batches sent.
        """
        self._cut()
        sent = 0
        while self.pending:
            message_id, events = self.pending[0]
            channel = "events" if any(e.kind in ("crash", "health") for e in events) else "telemetry"
            message = self.signed(message_id, events, channel)
            await client.publish(message.topic, message.body, qos=topics.QOS, properties=publish_properties(message))
            self.pending.popleft()
            sent += 1
        self.sent += sent
        return sent


def vehicle_client(url: str, vin: str) -> aiomqtt.Client:
    """An MQTT 5 connection for one vehicle (its VIN as client id)."""
    from evplatform.fleet.mqtt_ingest import parse_broker_url

    host, port = parse_broker_url(url)
    return aiomqtt.Client(host, port, identifier=f"vehicle-{vin}", protocol=aiomqtt.ProtocolVersion.V5)
