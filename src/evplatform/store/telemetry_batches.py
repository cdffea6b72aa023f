"""Telemetry batches received over MQTT, stored once each; vehicle commands and their answers.

``store_batches`` writes a chunk of batches in one transaction: the batch ids go into
``telemetry_batches`` with ``ON CONFLICT DO NOTHING``, and only the events of the batches the
database did not know yet are inserted. A batch redelivered by the broker (the ingester was
killed after committing, before acknowledging) therefore counts once, decided by the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from evplatform.store._sql import audit, insert_ignore
from evplatform.store.database import Store
from evplatform.store.schema import TelemetryBatch, Vehicle, VehicleCommand
from evplatform.store.vehicles import insert_telemetry

CHUNK = 500


@dataclass(frozen=True, slots=True)
class VehicleCredentials:
    """What the ingester needs to check a vehicle's message: its id, key and telemetry consent."""

    vehicle_id: int
    public_key: str | None
    consent_telemetry: bool
    model: str = ""


def credentials(store: Store, vins: Sequence[str]) -> dict[str, VehicleCredentials]:
    """Id, public key and consent of each known VIN (unknown VINs are absent)."""
    out: dict[str, VehicleCredentials] = {}
    with store.session() as session:
        for start in range(0, len(vins), CHUNK):
            query = select(Vehicle.vin, Vehicle.id, Vehicle.public_key, Vehicle.consent_telemetry,
                           Vehicle.model).where(Vehicle.vin.in_(vins[start : start + CHUNK]))
            for vin, vehicle_id, key, consent, model in session.execute(query).tuples():
                out[vin] = VehicleCredentials(vehicle_id, key, bool(consent), model)
    return out


@dataclass(frozen=True, slots=True)
class BatchRows:
    """One checked batch ready to store: its key and its ``telemetry_events`` rows."""

    vehicle_id: int
    message_id: str
    rows: Sequence[Mapping[str, Any]]


def store_batches(store: Store, batches: Sequence[BatchRows], at: datetime) -> list[bool]:
    """Store the batches not seen before, in one transaction; True per batch that was new."""
    if not batches:
        return []
    with store.session() as session:
        new: set[tuple[int, str]] = set()
        unique = list({(b.vehicle_id, b.message_id): b for b in batches}.values())
        for start in range(0, len(unique), CHUNK):
            part = unique[start : start + CHUNK]
            statement = insert_ignore(session, TelemetryBatch, ("vehicle_id", "message_id")).returning(
                TelemetryBatch.vehicle_id, TelemetryBatch.message_id)
            values = [{"vehicle_id": b.vehicle_id, "message_id": b.message_id, "received_at": at,
                       "events": len(b.rows)} for b in part]
            new.update(session.execute(statement, values).tuples().all())
        rows = [row for b in unique if (b.vehicle_id, b.message_id) in new for row in b.rows]
        if session.get_bind().dialect.name == "postgresql":
            _copy_telemetry(session, rows)
        else:
            insert_telemetry(store, rows, session=session)
    seen: set[tuple[int, str]] = set()
    flags = []
    for b in batches:  # a batch twice in one chunk counts once: the first copy
        key = (b.vehicle_id, b.message_id)
        flags.append(key in new and key not in seen)
        seen.add(key)
    return flags


_COPY = "COPY telemetry_events (vehicle_id, kind, at, value, release_id, detail) FROM STDIN"


def _copy_telemetry(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """PostgreSQL's COPY in the session's transaction: 4–5x the rows per second of a pipelined INSERT."""
    if not rows:
        return
    driver = session.connection().connection.driver_connection
    if driver is None:  # an open session always has its DB-API connection
        raise RuntimeError("no database connection under the session")
    with driver.cursor() as cursor, cursor.copy(_COPY) as copy:
        for row in rows:
            detail = row.get("detail")
            copy.write_row((row["vehicle_id"], row["kind"], row["at"], row.get("value"), row.get("release_id"),
                            None if detail is None else json.dumps(detail)))


def batch_count(store: Store) -> int:
    with store.session() as session:
        return int(session.execute(select(func.count()).select_from(TelemetryBatch)).scalar_one())


def forget_batches_before(store: Store, cutoff: datetime) -> int:
    """Drop batch ids received before ``cutoff`` (older than any message the broker still holds)."""
    with store.session() as session:
        result = session.execute(delete(TelemetryBatch).where(TelemetryBatch.received_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)


# --- commands ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandRecord:
    id: str
    vin: str
    action: str
    issued_by: str
    issued_at: datetime
    expires_at: datetime
    state: str
    answered_at: datetime | None
    detail: str


def add_command(store: Store, command_id: str, vehicle_id: int, action: str, actor: str,
                issued_at: datetime, expires_at: datetime) -> None:
    """Record a new pending command and its audit row in one transaction."""
    with store.session() as session:
        session.add(VehicleCommand(id=command_id, vehicle_id=vehicle_id, action=action, issued_by=actor,
                                   issued_at=issued_at, expires_at=expires_at, state="pending", detail=""))
        audit(session, issued_at, actor, "vehicle.command", command_id, {"action": action, "vehicle_id": vehicle_id})


def answer_command(store: Store, command_id: str, vehicle_id: int, state: str, detail: str, at: datetime) -> str | None:
    """Set a pending command's answer; ``expired`` instead when the server's clock passed its expiry.

    Returns the state recorded, or None when the command is unknown, not this vehicle's, or already
    answered (a redelivered answer changes nothing).
    """
    with store.session() as session:
        command = session.get(VehicleCommand, command_id)
        if command is None or command.vehicle_id != vehicle_id or command.state != "pending":
            return None
        final = "expired" if at > command.expires_at else state
        session.execute(update(VehicleCommand).where(VehicleCommand.id == command_id).values(
            state=final, answered_at=at, detail=detail[:500]))
        audit(session, at, f"vehicle:{vehicle_id}", f"vehicle.command.{final}", command_id, {"detail": detail[:500]})
        return final


def commands(store: Store, *, vin: str | None = None, command_id: str | None = None,
             limit: int = 50) -> list[CommandRecord]:
    """Newest commands first, with pending ones past their expiry shown as expired (server clock)."""
    now = store.now()
    query = (select(VehicleCommand, Vehicle.vin).join(Vehicle, Vehicle.id == VehicleCommand.vehicle_id)
             .order_by(VehicleCommand.issued_at.desc()).limit(limit))
    if vin is not None:
        query = query.where(Vehicle.vin == vin)
    if command_id is not None:
        query = query.where(VehicleCommand.id == command_id)
    with store.session() as session:
        return [CommandRecord(c.id, v, c.action, c.issued_by, c.issued_at, c.expires_at,
                              "expired" if c.state == "pending" and now > c.expires_at else c.state,
                              c.answered_at, c.detail)
                for c, v in session.execute(query).tuples()]
