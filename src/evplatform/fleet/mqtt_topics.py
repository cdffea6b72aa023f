"""MQTT 5 topic scheme and signed telemetry envelopes: what a vehicle publishes and how it is checked.

Topics are per VIN (``v1/vehicles/<VIN>/...``), after Eclipse Hono's telemetry / event / command
split: ``telemetry`` (periodic values), ``events`` (health events, crash reports),
``commands/req`` (cloud → vehicle) and ``commands/res`` (the vehicle's answer). Everything is QoS 1.

A batch is signed by the vehicle's own ed25519 key exactly as a signed HTTP telemetry batch is
(``api.auth.signing_payload``): the signed bytes are method, path, timestamp, nonce and the body's
SHA-256, with method ``PUBLISH``, the topic as path and the batch's message id as nonce. The VIN,
timestamp, message id and signature travel as MQTT 5 user properties, so the body is the same JSON
``{"events": [...]}`` as the HTTP route takes. We chose the vehicle's existing key over per-vehicle
client certificates: the registry already provisions it, the same signature is verified on both
paths, and it is checked per message by the ingester (a broker ACL per VIN is a second line only).

Because the signature covers the topic and is verified against the key of the topic's VIN, a
vehicle publishing on another VIN's topic is refused: its signature does not verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from evplatform.errors import FleetError
from evplatform.fleet.telemetry import KINDS, TelemetryEvent

PREFIX = "v1/vehicles"
QOS = 1
#: A message larger than this is refused unread (a batch of 1,000 events is well below).
MAX_MESSAGE_BYTES = 256 * 1024
MAX_EVENTS_PER_BATCH = 1_000
#: How far ahead of the server's clock a batch's signing time may be.
SIGNED_AHEAD = timedelta(minutes=5)
#: How old a signed batch may be when it reaches the ingester: the broker keeps a persistent
#: session's messages this long; batch ids are kept longer (``store.telemetry_batches``).
SIGNED_BEHIND = timedelta(days=7)
#: How long the broker keeps the ingester's session (and its queued messages) while it is away.
SESSION_EXPIRY_SECONDS = int(SIGNED_BEHIND.total_seconds())
_VIN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CHANNELS = ("telemetry", "events")


class EnvelopeError(FleetError):
    """A message that is refused; ``reason`` is the metric label (malformed, unsigned, ...)."""

    http_status = 422

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def telemetry_topic(vin: str, channel: str = "telemetry") -> str:
    return f"{PREFIX}/{vin}/{channel}"


def command_request_topic(vin: str) -> str:
    return f"{PREFIX}/{vin}/commands/req"


def command_response_topic(vin: str) -> str:
    return f"{PREFIX}/{vin}/commands/res"


#: What the ingester subscribes to (every vehicle's telemetry, events and command answers).
INGEST_FILTERS = (f"{PREFIX}/+/telemetry", f"{PREFIX}/+/events", f"{PREFIX}/+/commands/res")


def topic_vin(topic: str) -> tuple[str, str]:
    """(VIN, channel) of a vehicle topic; EnvelopeError for any other topic."""
    parts = topic.split("/")
    if len(parts) < 4 or "/".join(parts[:2]) != PREFIX or not _VIN.match(parts[2]):
        raise EnvelopeError("malformed", f"topic {topic[:120]!r} is not {PREFIX}/<VIN>/<channel>")
    channel = "/".join(parts[3:])
    if channel not in (*CHANNELS, "commands/res"):
        raise EnvelopeError("malformed", f"topic {topic[:120]!r}: unknown channel {channel!r}")
    return parts[2], channel


def signing_payload(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The bytes a vehicle signs — the same layout as a signed HTTP request (``api.auth``)."""
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{hashlib.sha256(body).hexdigest()}".encode()


@dataclass(frozen=True, slots=True)
class SignedMessage:
    """A message as it travels: topic, body and the MQTT 5 user properties that sign it."""

    topic: str
    body: bytes
    properties: dict[str, str]


def sign_message(key: SigningKey, vin: str, topic: str, body: bytes, message_id: str, stamp: int) -> SignedMessage:
    """Sign ``body`` for ``topic`` with the vehicle's key (the vehicle client and tests use this)."""
    signature = key.sign(signing_payload("PUBLISH", topic, str(stamp), message_id, body)).signature
    return SignedMessage(topic, body, {"vin": vin, "ts": str(stamp), "mid": message_id,
                                       "sig": base64.b64encode(signature).decode()})


def encode_events(events: Sequence[TelemetryEvent]) -> bytes:
    """The body of a batch: the HTTP route's ``{"events": [...]}`` JSON."""
    return json.dumps({"events": [
        {"vin": e.vin, "kind": e.kind, "at": e.at.isoformat(), "value": e.value,
         "release_id": e.release_id, "detail": dict(e.detail)} for e in events
    ]}, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class Envelope:
    """The checked outer part of a message: who claims to send it, when, with which id."""

    vin: str
    channel: str
    stamp: int
    message_id: str
    signature: bytes


def open_envelope(topic: str, body: bytes, properties: Mapping[str, str], now: datetime) -> Envelope:
    """Check size, topic and user properties (not yet the signature: that needs the VIN's key)."""
    if len(body) > MAX_MESSAGE_BYTES:
        raise EnvelopeError("oversized", f"{topic[:120]}: {len(body)} bytes exceed {MAX_MESSAGE_BYTES} bytes")
    vin, channel = topic_vin(topic)
    missing = [name for name in ("vin", "ts", "mid", "sig") if not properties.get(name)]
    if missing:
        raise EnvelopeError("unsigned", f"{topic}: missing user properties {', '.join(missing)}")
    if properties["vin"] != vin:
        raise EnvelopeError("wrong_vin", f"{topic}: vehicle {properties['vin'][:32]!r} published on {vin}'s topic")
    stamp_text, message_id = properties["ts"], properties["mid"]
    if not (stamp_text.isascii() and stamp_text.isdigit() and len(stamp_text) <= 12):
        raise EnvelopeError("malformed", f"{topic}: ts must be whole unix seconds, got {stamp_text[:32]!r}")
    if not _MESSAGE_ID.match(message_id):
        raise EnvelopeError("malformed", f"{topic}: mid must be 8–64 of [A-Za-z0-9_-], got {message_id[:70]!r}")
    stamp = int(stamp_text)
    seconds = now.timestamp()
    if stamp > seconds + SIGNED_AHEAD.total_seconds() or stamp < seconds - SIGNED_BEHIND.total_seconds():
        raise EnvelopeError("clock_skew", f"{topic}: signed at unix {stamp}, outside the window around the "
                                          f"server's clock ({int(seconds)})")
    try:
        signature = base64.b64decode(properties["sig"], validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError("unsigned", f"{topic}: sig is not base64") from None
    return Envelope(vin, channel, stamp, message_id, signature)


def verify(envelope: Envelope, topic: str, body: bytes, key_text: str | None) -> None:
    """The signature holds for the topic VIN's registered key, or EnvelopeError('bad_signature')."""
    if key_text is None:
        raise EnvelopeError("unknown_vehicle", f"{topic}: vehicle {envelope.vin} is unknown or has no key")
    payload = signing_payload("PUBLISH", topic, str(envelope.stamp), envelope.message_id, body)
    try:
        VerifyKey(bytes.fromhex(key_text)).verify(payload, envelope.signature)
    except (BadSignatureError, ValueError, TypeError):
        raise EnvelopeError("bad_signature", f"{topic}: bad signature for vehicle {envelope.vin}") from None


def decode_events(vin: str, body: bytes) -> list[TelemetryEvent]:
    """The events of a batch body, each for ``vin``; EnvelopeError('malformed') naming the field."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise EnvelopeError("malformed", f"{vin}: body is not JSON ({error})") from None
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS_PER_BATCH:
        raise EnvelopeError("malformed", f"{vin}: 'events' must be a list of 1–{MAX_EVENTS_PER_BATCH} events")
    return [_event(vin, index, item) for index, item in enumerate(events)]


def _event(vin: str, index: int, item: Any) -> TelemetryEvent:
    where = f"{vin}: events[{index}]"
    if not isinstance(item, dict):
        raise EnvelopeError("malformed", f"{where} is not an object")
    if item.get("vin", vin) != vin:
        raise EnvelopeError("wrong_vin", f"{where}.vin is {str(item.get('vin'))[:32]!r}, not {vin}")
    kind, at_text, value = item.get("kind"), item.get("at"), item.get("value")
    if kind not in KINDS:
        raise EnvelopeError("malformed", f"{where}.kind: unknown kind {str(kind)[:32]!r}")
    try:
        at = datetime.fromisoformat(at_text) if isinstance(at_text, str) and len(at_text) <= 40 else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise EnvelopeError("malformed", f"{where}.at: an ISO 8601 time with a zone is needed")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise EnvelopeError("malformed", f"{where}.value must be a number")
    release_id, detail = item.get("release_id"), item.get("detail") or {}
    if release_id is not None and (not isinstance(release_id, str) or len(release_id) > 128):
        raise EnvelopeError("malformed", f"{where}.release_id must be text of ≤ 128 characters")
    if not isinstance(detail, dict):
        raise EnvelopeError("malformed", f"{where}.detail must be an object")
    return TelemetryEvent(vin, kind, at, None if value is None else float(value), release_id, detail)
