"""The MQTT ingester: vehicles' signed telemetry batches from the broker into the store, each once.

Delivery guarantees, and what gives each:

* nothing lost — the ingester holds an MQTT 5 persistent session (fixed client id, clean start
  off, a session expiry), subscribes with QoS 1 and acknowledges a message (PUBACK, manual) only
  after the transaction holding its batch has committed. Killed before that (``kill -9``) or cut
  off by a broker restart, the broker redelivers what was not acknowledged.
* nothing counted twice — every batch carries its vehicle's message id; ``store_batches`` keeps
  the ids under a unique key and stores only the events of batches it did not know.
* backpressure, not dropping — the ingester announces a Receive Maximum equal to its queue
  bound: the broker stops sending once that many messages await an acknowledgement, and keeps
  the rest queued in the session until the writer catches up.
* bad input — an oversized, malformed, unsigned or wrongly signed message, one on another VIN's
  topic or with clock-skewed events is refused: counted by reason, nothing of it stored, and
  acknowledged (a redelivery would be refused again); the ingester carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter

from evplatform.errors import FleetError
from evplatform.fleet import mqtt_topics as topics
from evplatform.fleet import telemetry_parquet
from evplatform.fleet.reported_time import ReportedTimeError, check_reported_time
from evplatform.fleet.telemetry import SAFETY_KINDS, TelemetryError, _gate_running_campaigns, check_event
from evplatform.store import Store
from evplatform.store import telemetry_batches as tb

log = logging.getLogger(__name__)

CLIENT_ID = "evplatform-ingester"
QUEUE_SIZE = 2_000
CHUNK = 500


@dataclass(frozen=True, slots=True)
class Incoming:
    """A received message reduced to what checking needs (``mid`` acknowledges it)."""

    topic: str
    body: bytes
    properties: dict[str, str]
    mid: int = 0


@dataclass(slots=True)
class IngestStats:
    """Counts since start: batches stored, duplicates ignored, refusals by reason."""

    stored: int = 0
    events: int = 0
    duplicates: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    answers: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"batches_stored": self.stored, "events_stored": self.events, "duplicates": self.duplicates,
                "refused": dict(self.refused), "command_answers": self.answers}


def parse_broker_url(url: str) -> tuple[str, int]:
    """Host and port of ``mqtt://host[:port]`` (1883 by default)."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise FleetError(f"broker URL {url!r}: expected mqtt://host[:port]")
    return parts.hostname, parts.port or 1883


def user_properties(properties: Properties | None) -> dict[str, str]:
    pairs = getattr(properties, "UserProperty", None) or []
    return {str(k): str(v) for k, v in pairs}


def _rows(vehicle_id: int, events: Sequence[topics.TelemetryEvent]) -> list[dict[str, Any]]:
    return [{"vehicle_id": vehicle_id, "kind": e.kind, "at": e.at, "value": e.value, "release_id": e.release_id,
             "detail": dict(e.detail) or None} for e in events]


def check_message(message: Incoming, creds: dict[str, tb.VehicleCredentials],
                  now: datetime) -> tuple[tb.BatchRows, bool]:
    """The rows of a telemetry batch (and whether it holds a crash), or EnvelopeError with the reason."""
    envelope = topics.open_envelope(message.topic, message.body, message.properties, now)
    vehicle = creds.get(envelope.vin)
    if vehicle is None:
        raise topics.EnvelopeError("unknown_vehicle", f"{message.topic}: vehicle {envelope.vin} is unknown")
    topics.verify(envelope, message.topic, message.body, vehicle.public_key)
    events = topics.decode_events(envelope.vin, message.body)
    for index, event in enumerate(events):
        try:
            check_event(index, event)
            check_reported_time(event.at, now, f"{envelope.vin}: events[{index}]")
        except ReportedTimeError as error:
            raise topics.EnvelopeError("clock_skew", str(error)) from None
        except TelemetryError as error:
            raise topics.EnvelopeError("malformed", str(error)) from None
        if event.kind not in SAFETY_KINDS and not vehicle.consent_telemetry:
            raise topics.EnvelopeError("no_consent", f"{envelope.vin}: no telemetry consent for {event.kind!r} data")
    rows = tb.BatchRows(vehicle.vehicle_id, envelope.message_id, _rows(vehicle.vehicle_id, events))
    return rows, any(e.kind == "crash" for e in events)


class Ingester:
    """Subscribe, check, store once, then acknowledge; reconnect after a broker restart."""

    def __init__(self, store: Store, url: str, *, client_id: str = CLIENT_ID, queue_size: int = QUEUE_SIZE,
                 chunk: int = CHUNK, registry: CollectorRegistry | None = None,
                 session_expiry: int = topics.SESSION_EXPIRY_SECONDS, parquet: Path | None = None,
                 on_commit: Callable[[Sequence[Incoming]], None] | None = None) -> None:
        self.store, self.url, self.client_id = store, url, client_id
        self.host, self.port = parse_broker_url(url)
        self.queue_size, self.chunk, self.session_expiry = queue_size, chunk, session_expiry
        self.stats = IngestStats()
        self.connected = asyncio.Event()
        self._on_commit = on_commit
        self.parquet = parquet
        registry = registry if registry is not None else CollectorRegistry()
        self._batches = PromCounter("evplatform_mqtt_batches", "MQTT telemetry batches by outcome "
                                    "(stored, duplicate)", ["outcome"], registry=registry)
        self._refused = PromCounter("evplatform_mqtt_refused", "MQTT messages refused, by reason", ["reason"],
                                    registry=registry)

    def _connect_properties(self) -> Properties:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.session_expiry
        properties.ReceiveMaximum = self.queue_size  # the broker's in-flight window: our backpressure
        return properties

    async def run(self, stop: asyncio.Event | None = None) -> IngestStats:
        """Ingest until ``stop`` is set; a lost broker connection is retried every second."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self._session(stop)
            except aiomqtt.MqttError as error:
                self.connected.clear()
                log.warning("broker %s:%s: %s; reconnecting", self.host, self.port, error)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
        return self.stats

    async def _session(self, stop: asyncio.Event) -> None:
        client = aiomqtt.Client(self.host, self.port, identifier=self.client_id,
                                protocol=aiomqtt.ProtocolVersion.V5, clean_start=False,
                                properties=self._connect_properties())
        # aiomqtt has no manual-ack option of its own: its paho client acknowledges when told to
        client._client.manual_ack_set(True)
        queue: asyncio.Queue[aiomqtt.Message] = asyncio.Queue(maxsize=self.queue_size)
        async with client:
            for pattern in topics.INGEST_FILTERS:
                await client.subscribe(pattern, qos=topics.QOS)
            self.connected.set()
            log.info("ingesting from %s:%s as %s", self.host, self.port, self.client_id)
            reader = asyncio.create_task(self._read(client, queue))
            writer = asyncio.create_task(self._write(client, queue))
            stopper = asyncio.create_task(stop.wait())
            done, pending = await asyncio.wait({reader, writer, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                error = None if task is stopper else task.exception()
                if error is not None:
                    raise error

    async def _read(self, client: aiomqtt.Client, queue: asyncio.Queue[aiomqtt.Message]) -> None:
        async for message in client.messages:
            await queue.put(message)  # bounded: a full queue stops reading (the broker's window holds the rest)

    async def _write(self, client: aiomqtt.Client, queue: asyncio.Queue[aiomqtt.Message]) -> None:
        while True:
            first = await queue.get()
            chunk = [first]
            while len(chunk) < self.chunk and not queue.empty():
                chunk.append(queue.get_nowait())
            incoming = [Incoming(str(m.topic), m.payload if isinstance(m.payload, bytes) else str(m.payload).encode(),
                                 user_properties(m.properties), m.mid) for m in chunk]
            await asyncio.to_thread(self.process, incoming)
            for message in chunk:  # in the order received, after the commit
                client._client.ack(message.mid, message.qos)

    def process(self, messages: Sequence[Incoming]) -> None:
        """Check and store one chunk (runs in a worker thread); refused messages are only counted."""
        now = self.store.now()
        vins = sorted({m.topic.split("/")[2] for m in messages if m.topic.count("/") >= 3})
        creds = tb.credentials(self.store, vins)
        batches: list[tb.BatchRows] = []
        models: list[tuple[str, str]] = []  # (VIN, model) per batch, for the Parquet copy
        crash = False
        for message in messages:
            if message.topic.endswith("/commands/res"):
                self._answer(message, creds, now)
                continue
            try:
                rows, has_crash = check_message(message, creds, now)
            except topics.EnvelopeError as error:
                self.stats.refused[error.reason] += 1
                self._refused.labels(error.reason).inc()
                log.info("refused: %s", error)
                continue
            batches.append(rows)
            vin = message.properties["vin"]
            models.append((vin, creds[vin].model))
            crash = crash or has_crash
        flags = tb.store_batches(self.store, batches, now)
        for batch, new in zip(batches, flags, strict=True):
            if new:
                self.stats.stored += 1
                self.stats.events += len(batch.rows)
            else:
                self.stats.duplicates += 1
            self._batches.labels("stored" if new else "duplicate").inc()
        if self.parquet is not None:
            copy = [{**row, "vin": vin, "model": model} for batch, new, (vin, model) in zip(batches, flags, models,
                                                                                          strict=True)
                    if new for row in batch.rows]
            telemetry_parquet.write_rows(self.parquet, copy)
        if crash:
            _gate_running_campaigns(self.store, self.store.now())
        if self._on_commit is not None:
            self._on_commit(messages)

    def _answer(self, message: Incoming, creds: dict[str, tb.VehicleCredentials], now: datetime) -> None:
        from evplatform.fleet.mqtt_commands import record_answer

        try:
            record_answer(self.store, message, creds, now)
            self.stats.answers += 1
        except topics.EnvelopeError as error:
            self.stats.refused[error.reason] += 1
            self._refused.labels(error.reason).inc()
            log.info("refused command answer: %s", error)


def forget_batch_ids(store: Store, *, dry_run: bool = False) -> int:
    """Drop batch ids older than any message a broker session can still redeliver (plus a day).

    A signed batch older than ``SIGNED_BEHIND`` is refused as clock-skewed, so its id can no longer
    make a difference; ``evplatform retention`` calls this. Returns the ids dropped (0 on a dry run).
    """
    if dry_run:
        return 0
    return tb.forget_batches_before(store, store.now() - topics.SIGNED_BEHIND - timedelta(days=1))

