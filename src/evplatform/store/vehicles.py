"""Vehicle registry, market policies, configurations and telemetry: the fleet's tables.

Writes are bulk (one executemany per chunk, no ORM object per vehicle) because a simulated or
imported fleet has up to a million rows; reads that feed a campaign come back as numpy columns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from evplatform.errors import ConflictError, NotFoundError
from evplatform.store.database import Store
from evplatform.store.key_cache import key_cache
from evplatform.store.schema import Configuration, MarketPolicy, TelemetryEvent, Vehicle

CHUNK = 20_000
TELEMETRY_KINDS = ("health", "crash", "soc", "odometer")


@dataclass(frozen=True, slots=True)
class MarketRecord:
    id: str
    name: str
    parent: str | None
    timezone: str
    approval_required: bool
    approval_basis: str


@dataclass(frozen=True, slots=True)
class VehicleRecord:
    id: int
    vin: str
    model: str
    trim: str
    market: str
    timezone: str
    configuration: frozenset[str]
    hardware_ids: Mapping[str, str]
    software: Mapping[str, Mapping[str, str]]
    rxswin: Mapping[str, str]
    consent_telemetry: bool
    consent_updates: bool
    registered_at: datetime
    public_key: str | None = None

    @property
    def trim_key(self) -> str:
        return f"{self.model}/{self.trim}"


@dataclass(frozen=True, slots=True)
class TelemetryRecord:
    vehicle_id: int
    kind: str
    at: datetime
    value: float | None
    release_id: str | None
    detail: dict[str, Any] | None


def save_markets(store: Store, markets: Iterable[MarketRecord]) -> None:
    """Insert or replace market policies (timezone, whether updates need an approval).

    One ``INSERT … ON CONFLICT DO UPDATE``: two imports into a new database both find the markets
    missing, and a read-then-insert would fail the second on the unique id.
    """
    rows = [{"id": m.id, "name": m.name, "parent": m.parent, "timezone": m.timezone,
             "approval_required": m.approval_required, "approval_basis": m.approval_basis} for m in markets]
    if not rows:
        return
    with store.session() as session:
        upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = upsert(MarketPolicy).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=[MarketPolicy.id], set_={key: statement.excluded[key] for key in rows[0] if key != "id"}
        )
        session.execute(statement)


def markets(store: Store) -> dict[str, MarketRecord]:
    with store.session() as session:
        return {
            m.id: MarketRecord(m.id, m.name, m.parent, m.timezone, m.approval_required, m.approval_basis)
            for m in session.scalars(select(MarketPolicy))
        }


def configuration_digest(features: frozenset[str]) -> str:
    return hashlib.sha256(" ".join(sorted(features)).encode()).hexdigest()


def configuration_ids(store: Store, configurations: Iterable[frozenset[str]]) -> dict[frozenset[str], int]:
    """The id of each configuration, inserting the ones the database does not know yet."""
    wanted = {configuration_digest(c): c for c in set(configurations)}
    with store.session() as session:
        lookup = select(Configuration.digest, Configuration.id).where(Configuration.digest.in_(wanted))
        known: dict[str, int] = dict(session.execute(lookup).tuples().all())
        missing = [{"digest": d, "features": " ".join(sorted(c))} for d, c in wanted.items() if d not in known]
        if missing:
            # DO NOTHING on a digest another process inserted meanwhile (two imports at once).
            upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            session.execute(upsert(Configuration).on_conflict_do_nothing(index_elements=[Configuration.digest]),
                            missing)
            known.update(session.execute(lookup).tuples().all())
    return {c: known[d] for d, c in wanted.items()}


def configurations(store: Store, ids: Iterable[int] | None = None) -> dict[int, frozenset[str]]:
    """Configurations by id (all of them when ``ids`` is None)."""
    query = select(Configuration.id, Configuration.features)
    if ids is not None:
        query = query.where(Configuration.id.in_(list(ids)))
    with store.session() as session:
        return {i: frozenset(f.split()) for i, f in session.execute(query)}


def insert_vehicles(store: Store, rows: Sequence[Mapping[str, Any]], *, session: Session | None = None) -> int:
    """Insert vehicles in bulk in one transaction (all or nothing); keys are the ``vehicles`` columns.

    A VIN that is already registered is a ConflictError naming it.
    """
    if session is not None:
        _insert_vehicle_rows(session, rows)
        return len(rows)
    try:
        with store.session() as own:
            _insert_vehicle_rows(own, rows)
    except ConflictError as error:
        if isinstance(error.__cause__, IntegrityError):
            duplicates = registered_vins(store, [str(r["vin"]) for r in rows])
            if duplicates:
                raise ConflictError(f"VIN already registered: {', '.join(sorted(duplicates)[:5])}") from error
        raise
    return len(rows)


def _insert_vehicle_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(Vehicle), list(rows[start : start + CHUNK]))


def registered_vins(store: Store, vins: Sequence[str]) -> set[str]:
    found: set[str] = set()
    with store.session() as session:
        for start in range(0, len(vins), CHUNK):
            chunk = vins[start : start + CHUNK]
            found.update(session.scalars(select(Vehicle.vin).where(Vehicle.vin.in_(chunk))))
    return found


def _record(vehicle: Vehicle, features: str) -> VehicleRecord:
    return VehicleRecord(
        id=vehicle.id,
        vin=vehicle.vin,
        model=vehicle.model,
        trim=vehicle.trim,
        market=vehicle.market,
        timezone=vehicle.timezone,
        configuration=frozenset(features.split()),
        hardware_ids=dict(vehicle.hardware_ids),
        software={k: dict(v) for k, v in vehicle.software.items()},
        rxswin=dict(vehicle.rxswin),
        consent_telemetry=vehicle.consent_telemetry,
        consent_updates=vehicle.consent_updates,
        registered_at=vehicle.registered_at,
        public_key=vehicle.public_key,
    )


def _vehicle_query() -> Select[tuple[Vehicle, str]]:
    return select(Vehicle, Configuration.features).join(Configuration, Vehicle.configuration_id == Configuration.id)


def vehicle_by_vin(store: Store, vin: str) -> VehicleRecord | None:
    with store.session() as session:
        row = session.execute(_vehicle_query().where(Vehicle.vin == vin)).first()
        return None if row is None else _record(row[0], row[1])


def list_vehicles(
    store: Store,
    *,
    model: str | None = None,
    trim: str | None = None,
    market: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[VehicleRecord]:
    """A page of vehicles in registration order, optionally filtered."""
    query = _vehicle_query().order_by(Vehicle.id).limit(limit).offset(offset)
    for column, value in ((Vehicle.model, model), (Vehicle.trim, trim), (Vehicle.market, market)):
        if value is not None:
            query = query.where(column == value)
    with store.session() as session:
        return [_record(v, f) for v, f in session.execute(query)]


def fleet_counts(store: Store) -> list[dict[str, Any]]:
    """Vehicles per model, trim and market."""
    query = (
        select(Vehicle.model, Vehicle.trim, Vehicle.market, func.count())
        .group_by(Vehicle.model, Vehicle.trim, Vehicle.market)
        .order_by(Vehicle.model, Vehicle.trim, Vehicle.market)
    )
    with store.session() as session:
        return [{"model": m, "trim": t, "market": k, "vehicles": n} for m, t, k, n in session.execute(query)]


def count_vehicles(store: Store) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(Vehicle)) or 0)


def vehicle_columns(store: Store, ecu: str | None = None) -> dict[str, np.ndarray]:
    """Every vehicle as numpy columns, for campaign targeting without one object per vehicle.

    Columns: ``id``, ``model``, ``trim``, ``market``, ``timezone``, ``configuration_id``,
    ``consent_updates`` and, when ``ecu`` is given, the ``component``, ``version`` and
    ``hardware_id`` of that ECU (empty strings when the vehicle has no such ECU).
    """
    columns = [
        Vehicle.id,
        Vehicle.model,
        Vehicle.trim,
        Vehicle.market,
        Vehicle.timezone,
        Vehicle.configuration_id,
        Vehicle.consent_updates,
    ]
    names = ["id", "model", "trim", "market", "timezone", "configuration_id", "consent_updates"]
    if ecu is not None:
        columns += [
            Vehicle.software[(ecu, "component")].as_string(),
            Vehicle.software[(ecu, "version")].as_string(),
            Vehicle.hardware_ids[ecu].as_string(),
        ]
        names += ["component", "version", "hardware_id"]
    query = select(*columns).order_by(Vehicle.id)
    parts: list[list[Any]] = [[] for _ in names]
    with store.session() as session:
        # Core rows, a chunk at a time, transposed per chunk: no ORM loading and no Python step per value
        result = session.connection().execution_options(yield_per=CHUNK).execute(query)
        for chunk in result.partitions():
            for column, chunk_values in zip(parts, zip(*chunk, strict=True), strict=True):
                column.extend(chunk_values)
    out: dict[str, np.ndarray] = {}
    for name, values in zip(names, parts, strict=True):
        if name in ("id", "configuration_id"):
            out[name] = np.asarray(values, dtype=np.int64)
        elif name == "consent_updates":
            out[name] = np.asarray(values, dtype=bool)
        else:
            out[name] = np.asarray(["" if v is None else v for v in values], dtype=object)
    return out


def vehicle_ids(store: Store, vins: Sequence[str]) -> dict[str, int]:
    """Database ids of the given VINs (unknown VINs are absent from the result)."""
    out: dict[str, int] = {}
    with store.session() as session:
        for start in range(0, len(vins), CHUNK):
            chunk = vins[start : start + CHUNK]
            out.update(session.execute(select(Vehicle.vin, Vehicle.id).where(Vehicle.vin.in_(chunk))).tuples().all())
    return out


def vins_of(store: Store, ids: Sequence[int]) -> dict[int, str]:
    """The VINs of database ids (unknown ids are absent from the result)."""
    out: dict[int, str] = {}
    with store.session() as session:
        for start in range(0, len(ids), CHUNK):
            chunk = list(ids[start : start + CHUNK])
            out.update(session.execute(select(Vehicle.id, Vehicle.vin).where(Vehicle.id.in_(chunk))).tuples().all())
    return out


def set_public_key(store: Store, vin: str, public_key: str) -> None:
    """Provision (or rotate) the key the vehicle's primary ECU signs with; NotFoundError if no such VIN."""
    with store.session() as session:
        result = session.execute(
            update(Vehicle).where(Vehicle.vin == vin).values(public_key=public_key)
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFoundError("vehicle", vin)
    key_cache(store).forget(vin)  # after the commit: a request racing the rotation re-reads the new key


def cached_public_key(store: Store, vin: str) -> str | None:
    """``public_key`` through the store's cache (``store.key_cache``: invalidated on rotation)."""
    cache = key_cache(store)
    key = cache.get(vin)
    if key is None:
        key = public_key(store, vin)
        if key is not None:
            cache.put(vin, key)
    return key


def public_key(store: Store, vin: str) -> str | None:
    """The vehicle's provisioned public key (None when unknown or not provisioned)."""
    with store.session() as session:
        return session.scalar(select(Vehicle.public_key).where(Vehicle.vin == vin))


def telemetry_consent(store: Store, vins: Sequence[str]) -> dict[str, bool]:
    """Whether each known VIN's owner consented to telemetry (unknown VINs are absent)."""
    out: dict[str, bool] = {}
    with store.session() as session:
        for start in range(0, len(vins), CHUNK):
            query = select(Vehicle.vin, Vehicle.consent_telemetry).where(Vehicle.vin.in_(vins[start : start + CHUNK]))
            out.update(session.execute(query).tuples().all())
    return out


def insert_telemetry(store: Store, rows: Sequence[Mapping[str, Any]], *, session: Session | None = None) -> int:
    """Append telemetry events in bulk; keys are the ``telemetry_events`` columns."""
    if not rows:
        return 0
    if session is not None:
        for start in range(0, len(rows), CHUNK):
            session.execute(insert(TelemetryEvent), list(rows[start : start + CHUNK]))
        return len(rows)
    with store.session() as own:
        return insert_telemetry(store, rows, session=own)


def telemetry(
    store: Store, *, vehicle_id: int | None = None, kind: str | None = None, limit: int = 100
) -> list[TelemetryRecord]:
    """The newest telemetry events first."""
    query = select(TelemetryEvent).order_by(TelemetryEvent.at.desc(), TelemetryEvent.id.desc()).limit(limit)
    if vehicle_id is not None:
        query = query.where(TelemetryEvent.vehicle_id == vehicle_id)
    if kind is not None:
        query = query.where(TelemetryEvent.kind == kind)
    with store.session() as session:
        return [
            TelemetryRecord(e.vehicle_id, e.kind, e.at, e.value, e.release_id, e.detail)
            for e in session.scalars(query)
        ]
