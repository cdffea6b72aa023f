"""Commands cloud → vehicle over MQTT (pre-condition the cabin, lock, request a log upload).

A command is recorded (pending, with an expiry on the server's clock, and an audit row) before it
is published on the vehicle's ``commands/req`` topic with QoS 1. The vehicle hands it to its hub,
which arbitrates it like any actuator request (a driver's or a safety function's standing request
outranks the cloud's); it answers on ``commands/res``, signed with its key like its telemetry. The
ingester records the answer; an answer arriving after the expiry records the command as expired,
whatever the vehicle said, and a second answer changes nothing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from nacl.signing import SigningKey

from evplatform.errors import EvplatformError, FleetError, NotFoundError
from evplatform.fleet import mqtt_topics as topics
from evplatform.store import Store
from evplatform.store import telemetry_batches as tb
from evplatform.store import vehicles as vdb
from evplatform.vehicle.hub.broker import Priority, SignalBroker, Value
from evplatform.vehicle.hub.vss import DRIVER_DOOR_LOCKED, HVAC_AC_ACTIVE, HVAC_DRIVER_TEMP

if TYPE_CHECKING:
    from evplatform.fleet.mqtt_ingest import Incoming

#: What each action asks of the hub's actuators (a log upload asks for none).
ACTIONS: dict[str, tuple[tuple[str, Value], ...]] = {
    "precondition_cabin": ((HVAC_DRIVER_TEMP, 21.0), (HVAC_AC_ACTIVE, True)),
    "lock": ((DRIVER_DOOR_LOCKED, True),),
    "upload_logs": (),
}
#: The least role that may send a command (the API route requires it; the web page offers its form to it).
COMMAND_ROLE = "engineer"
DEFAULT_TTL = timedelta(minutes=5)
MAX_TTL = timedelta(hours=24)
#: The cloud asks with a comfort function's priority: the driver and safety functions outrank it.
CLOUD_REQUESTER = "cloud-command"
CLOUD_PRIORITY = Priority.COMFORT


class CommandError(FleetError):
    http_status = 422


def issue_command(store: Store, vin: str, action: str, actor: str, ttl: timedelta = DEFAULT_TTL) -> tb.CommandRecord:
    """Record a pending command for ``vin`` (audited); publishing it is ``command_message``'s job."""
    if action not in ACTIONS:
        raise CommandError(f"action {action!r} is unknown (known: {', '.join(ACTIONS)})")
    if not timedelta(seconds=1) <= ttl <= MAX_TTL:
        raise CommandError(f"expiry must be within 1 s–{int(MAX_TTL.total_seconds())} s, got {ttl.total_seconds():g} s")
    ids = vdb.vehicle_ids(store, [vin])
    if vin not in ids:
        raise NotFoundError("vehicle", vin)
    now = store.now()
    command_id = secrets.token_hex(8)
    tb.add_command(store, command_id, ids[vin], action, actor, now, now + ttl)
    [record] = tb.commands(store, command_id=command_id)
    return record


def command_message(record: tb.CommandRecord) -> tuple[str, bytes]:
    """Topic and body of a command for its vehicle."""
    body = {"id": record.id, "action": record.action, "expires_at": record.expires_at.isoformat()}
    return topics.command_request_topic(record.vin), json.dumps(body).encode()


class BrokerUnreachable(EvplatformError):
    """The broker did not take a recorded command: the server's side is down, not the request (HTTP 503)."""

    http_status = 503


async def publish_command(url: str, record: tb.CommandRecord) -> None:
    """Publish a recorded command (QoS 1; the broker keeps it for a vehicle with a persistent session)."""
    import aiomqtt

    from evplatform.fleet.mqtt_ingest import parse_broker_url

    host, port = parse_broker_url(url)
    topic, body = command_message(record)
    try:
        async with aiomqtt.Client(host, port, protocol=aiomqtt.ProtocolVersion.V5) as client:
            await client.publish(topic, body, qos=topics.QOS)
    except (aiomqtt.MqttError, OSError) as exc:
        raise BrokerUnreachable(f"MQTT broker {host}:{port} did not take command {record.id} ({exc}); it stays "
                                f"recorded as pending until {record.expires_at.isoformat()}") from exc


@dataclass(frozen=True, slots=True)
class Answer:
    command_id: str
    status: str  # accepted | rejected
    detail: str


def execute_on_hub(hub: SignalBroker, command: Mapping[str, Any], now: datetime, time_s: float = 0.0) -> Answer:
    """The vehicle's side: pass a command to the hub's arbitration; rejected when outranked or expired."""
    command_id = str(command.get("id", ""))[:32]
    action = command.get("action")
    if action not in ACTIONS:
        return Answer(command_id, "rejected", f"unknown action {str(action)[:32]!r}")
    try:
        expires = datetime.fromisoformat(str(command.get("expires_at")))
    except ValueError:
        return Answer(command_id, "rejected", "no valid expires_at")
    if now > expires:
        return Answer(command_id, "rejected", "expired before it reached the vehicle")
    for path, value in ACTIONS[action]:
        if not hub.request(path, value, CLOUD_REQUESTER, CLOUD_PRIORITY, time_s):
            holder = hub.outranked_by(path, CLOUD_PRIORITY) or hub.owner(path)
            return Answer(command_id, "rejected", f"{path} is held by {holder}")
    return Answer(command_id, "accepted", "log upload requested" if action == "upload_logs" else "applied")


def answer_message(key: SigningKey, vin: str, answer: Answer, stamp: int) -> topics.SignedMessage:
    """The vehicle's signed answer on its ``commands/res`` topic."""
    body = json.dumps({"id": answer.command_id, "status": answer.status, "detail": answer.detail}).encode()
    return topics.sign_message(key, vin, topics.command_response_topic(vin), body, f"ans-{answer.command_id}", stamp)


def record_answer(store: Store, message: Incoming, creds: Mapping[str, tb.VehicleCredentials],
                  now: datetime) -> str | None:
    """Check a vehicle's signed answer and record it (EnvelopeError when it does not hold)."""
    envelope = topics.open_envelope(message.topic, message.body, message.properties, now)
    vehicle = creds.get(envelope.vin)
    if vehicle is None:
        raise topics.EnvelopeError("unknown_vehicle", f"{message.topic}: vehicle {envelope.vin} is unknown")
    topics.verify(envelope, message.topic, message.body, vehicle.public_key)
    try:
        body = json.loads(message.body)
        command_id, status, detail = str(body["id"]), str(body["status"]), str(body.get("detail", ""))
    except (ValueError, KeyError, TypeError):
        raise topics.EnvelopeError("malformed", f"{message.topic}: an answer needs id and status") from None
    if status not in ("accepted", "rejected"):
        raise topics.EnvelopeError("malformed", f"{message.topic}: status must be accepted or rejected")
    return tb.answer_command(store, command_id, vehicle.vehicle_id, status, detail, now)
