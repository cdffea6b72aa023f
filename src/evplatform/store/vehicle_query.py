"""Resolved fleet filters as SQL: the conditions ``fleet.query`` produces, compiled to SQLAlchemy.

``fleet.query`` parses a filter query and resolves every name in it (case-insensitive model,
trim and market ids, regions expanded to their member markets, versions compared in version
order) against what the database holds; what reaches this module is already exact: a set of
column values, a cutoff instant, a campaign id. Only the store knows SQL (import-linter), so the
compilation to one SQLAlchemy condition, portable to SQLite and PostgreSQL, lives here.

"Last seen" is the newest telemetry event of a vehicle (any kind); ``ix_telemetry_vehicle_at``
(migration 0008) is the covering index its ``GROUP BY vehicle_id HAVING max(at) …`` reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Text, and_, case, cast, false, func, not_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement as _Column

from evplatform.store.database import Store
from evplatform.store.schema import CampaignVehicle, Configuration, TelemetryEvent, Vehicle
from evplatform.store.vehicles import VehicleRecord, _record

Comparison = Literal["=", "!=", "<", "<=", ">", ">="]
TextColumn = Literal["vin", "model", "trim", "market", "trim_key"]
SORTS = ("vin", "model", "trim", "market", "registered", "last_seen")


@dataclass(frozen=True, slots=True)
class ColumnIn:
    """The column's value is one of ``values`` (exact; ``trim_key`` is ``model/trim``)."""

    column: TextColumn
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VinContains:
    """The VIN contains ``text`` (VINs are upper case; the resolver upper-cases the text)."""

    text: str


@dataclass(frozen=True, slots=True)
class VersionIn:
    """The version installed on ``ecu`` is one of ``versions``."""

    ecu: str
    versions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LastSeen:
    """The vehicle's newest telemetry event compares with ``at``; never-seen vehicles never match."""

    op: Comparison
    at: datetime


@dataclass(frozen=True, slots=True)
class NeverSeen:
    """No telemetry at all from the vehicle."""


@dataclass(frozen=True, slots=True)
class Registered:
    op: Comparison
    at: datetime


@dataclass(frozen=True, slots=True)
class CampaignState:
    """The vehicle is in a campaign (``campaign_id``, or any when None) in one of ``states``
    (any state when ``states`` is empty)."""

    campaign_id: int | None
    states: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CrashCount:
    """The number of crash reports since ``since`` compares with ``count``."""

    since: datetime
    op: Comparison
    count: int


@dataclass(frozen=True, slots=True)
class Consent:
    kind: Literal["telemetry", "updates"]
    value: bool


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class NotOf:
    part: Condition


@dataclass(frozen=True, slots=True)
class Constant:
    value: bool


Condition = (ColumnIn | VinContains | VersionIn | LastSeen | NeverSeen | Registered | CampaignState | CrashCount
             | Consent | AllOf | AnyOf | NotOf | Constant)
EVERYTHING = Constant(True)


def _compare(left: Any, op: Comparison, right: Any) -> ColumnElement[bool]:
    result: ColumnElement[bool] = {
        "=": lambda: left == right, "!=": lambda: left != right, "<": lambda: left < right,
        "<=": lambda: left <= right, ">": lambda: left > right, ">=": lambda: left >= right,
    }[op]()
    return result


def _text_column(name: TextColumn) -> ColumnElement[str]:
    if name == "trim_key":
        return Vehicle.model + "/" + Vehicle.trim
    columns: dict[str, Any] = {"vin": Vehicle.vin, "model": Vehicle.model, "trim": Vehicle.trim,
                               "market": Vehicle.market}
    column: ColumnElement[str] = columns[name]
    return column


def _ids_with_telemetry(*where: ColumnElement[bool]) -> ColumnElement[bool]:
    """``vehicles.id IN (SELECT vehicle_id FROM telemetry_events WHERE …)``: uncorrelated, so the
    database evaluates the subquery once (a correlated EXISTS inside an OR ran once per vehicle)."""
    return Vehicle.id.in_(select(TelemetryEvent.vehicle_id).where(*where))


def _last_seen(condition: LastSeen) -> ColumnElement[bool]:
    """``max(at) op t``: "seen after t" needs no max; the others group the (vehicle_id, at) index."""
    op, at = condition.op, condition.at
    if op == ">":
        return _ids_with_telemetry(TelemetryEvent.at > at)
    if op == ">=":
        return _ids_with_telemetry(TelemetryEvent.at >= at)
    newest = (select(TelemetryEvent.vehicle_id).group_by(TelemetryEvent.vehicle_id)
              .having(_compare(func.max(TelemetryEvent.at), op, at)))
    return Vehicle.id.in_(newest)


def _crash_count(condition: CrashCount) -> ColumnElement[bool]:
    """Crash reports since a time compared with a count; vehicles without any are absent from the
    grouped subquery, so when 0 passes the test the condition is "not among those that fail it"."""
    recent = (select(TelemetryEvent.vehicle_id)
              .where(TelemetryEvent.kind == "crash", TelemetryEvent.at >= condition.since)
              .group_by(TelemetryEvent.vehicle_id))
    crashes = func.count()
    if _holds(0, condition.op, condition.count):
        return Vehicle.id.not_in(recent.having(not_(_compare(crashes, condition.op, condition.count))))
    return Vehicle.id.in_(recent.having(_compare(crashes, condition.op, condition.count)))


def _holds(value: int, op: Comparison, bound: int) -> bool:
    return {"=": value == bound, "!=": value != bound, "<": value < bound, "<=": value <= bound,
            ">": value > bound, ">=": value >= bound}[op]


def _campaign_state(condition: CampaignState) -> ColumnElement[bool]:
    query = select(CampaignVehicle.vehicle_id)
    if condition.campaign_id is not None:
        query = query.where(CampaignVehicle.campaign_id == condition.campaign_id)
    if condition.states:
        query = query.where(CampaignVehicle.state.in_(condition.states))
    return Vehicle.id.in_(query)


def _leaf(condition: Any) -> ColumnElement[bool]:
    """A comparison on one vehicle property (no ``and``/``or``/``not``)."""
    match condition:
        case ColumnIn(column=column, values=values):
            return _text_column(column).in_(values) if values else false()
        case VinContains(text=text):
            return Vehicle.vin.contains(text, autoescape=True)
        case VersionIn(ecu=ecu, versions=versions):
            return Vehicle.software[(ecu, "version")].as_string().in_(versions) if versions else false()
        case NeverSeen():
            return Vehicle.id.not_in(select(TelemetryEvent.vehicle_id))
        case Registered(op=op, at=at):
            return _compare(Vehicle.registered_at, op, at)
        case Consent(kind=kind, value=value):
            flag: Any = Vehicle.consent_telemetry if kind == "telemetry" else Vehicle.consent_updates
            consent: ColumnElement[bool] = flag.is_(value)
            return consent
    special: dict[type, Any] = {LastSeen: _last_seen, CampaignState: _campaign_state, CrashCount: _crash_count}
    if type(condition) in special:
        result: ColumnElement[bool] = special[type(condition)](condition)
        return result
    raise TypeError(f"not a fleet condition: {condition!r}")  # pragma: no cover - the union is closed


def compile_condition(condition: Condition) -> ColumnElement[bool]:
    """One SQL condition on ``vehicles``; telemetry and campaign tests are uncorrelated ``IN`` subqueries."""
    match condition:
        case Constant(value=value):
            return true() if value else false()
        case AllOf(parts=parts):
            return and_(true(), *(compile_condition(p) for p in parts))
        case AnyOf(parts=parts):
            return or_(false(), *(compile_condition(p) for p in parts))
        case NotOf(part=part):
            return not_(compile_condition(part))
    return _leaf(condition)


def _last_seen_column() -> _Column[Any]:
    return (select(func.max(TelemetryEvent.at)).where(TelemetryEvent.vehicle_id == Vehicle.id)
            .correlate(Vehicle).scalar_subquery())


def count_matching(store: Store, condition: Condition) -> int:
    """How many vehicles match (one ``SELECT count(*)``)."""
    query = select(func.count()).select_from(Vehicle).where(compile_condition(condition))
    with store.session() as session:
        return int(session.scalar(query) or 0)


def list_matching(store: Store, condition: Condition, *, sort: str = "vin", descending: bool = False,
                  limit: int = 50, offset: int = 0) -> list[VehicleRecord]:
    """A page of matching vehicles in ``sort`` order (one of ``SORTS``), VIN breaking ties."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")
    key: Any = {"vin": Vehicle.vin, "model": Vehicle.model, "trim": Vehicle.trim, "market": Vehicle.market,
                "registered": Vehicle.registered_at, "last_seen": _last_seen_column()}[sort]
    ordering = [key.desc() if descending else key.asc()]
    if sort != "vin":
        ordering.append(Vehicle.vin.asc())
    query = (select(Vehicle, Configuration.features).join(Configuration, Vehicle.configuration_id == Configuration.id)
             .where(compile_condition(condition)).order_by(*ordering).limit(limit).offset(offset))
    with store.session() as session:
        return [_record(v, f) for v, f in session.execute(query)]


def matching_ids(store: Store, condition: Condition) -> list[int]:
    """Database ids of every matching vehicle, ascending (for campaign targeting)."""
    query = select(Vehicle.id).where(compile_condition(condition)).order_by(Vehicle.id)
    with store.session() as session:
        return [int(i) for i in session.scalars(query)]


def seen_and_crashes(store: Store, vehicle_ids: Sequence[int], since: datetime) -> dict[int, tuple[datetime, int]]:
    """For each id with telemetry: its newest event and the crash reports since ``since`` (one GROUP BY)."""
    if not vehicle_ids:
        return {}
    crashes = func.sum(case((and_(TelemetryEvent.kind == "crash", TelemetryEvent.at >= since), 1), else_=0))
    query = (select(TelemetryEvent.vehicle_id, func.max(TelemetryEvent.at), crashes)
             .where(TelemetryEvent.vehicle_id.in_(list(vehicle_ids))).group_by(TelemetryEvent.vehicle_id))
    with store.session() as session:
        return {int(vid): (newest, int(n or 0)) for vid, newest, n in session.execute(query)}


def distinct_values(store: Store, column: TextColumn) -> list[str]:
    """The values of a vehicle column present in the fleet, sorted."""
    expression = _text_column(column)
    with store.session() as session:
        return sorted(str(v) for v in session.scalars(select(expression).distinct()))


def ecus(store: Store) -> list[str]:
    """ECU ids found in the fleet's software, from one vehicle of each model/trim/market."""
    firsts = select(func.min(Vehicle.id)).group_by(Vehicle.model, Vehicle.trim, Vehicle.market)
    with store.session() as session:
        found: set[str] = set()
        for software in session.scalars(select(Vehicle.software).where(Vehicle.id.in_(firsts))):
            found.update(software)
        return sorted(found)


def campaign_ids(store: Store, ids: Iterable[int] | None = None) -> set[int]:
    """Campaign ids that have at least one vehicle (of ``ids`` when given)."""
    query = select(CampaignVehicle.campaign_id).distinct()
    if ids is not None:
        query = query.where(CampaignVehicle.campaign_id.in_(list(ids)))
    with store.session() as session:
        return {int(i) for i in session.scalars(query)}


def software_census(store: Store) -> dict[str, dict[tuple[str, str], int]]:
    """ECU -> (component, version) -> vehicles, from one ``GROUP BY`` over the software column's text.

    Vehicles of one trim share their software until an update changes one ECU, so the distinct
    texts are few (dozens for the 10,000-vehicle demo) and each is decoded once; one query per ECU
    over the JSON path took ~100 ms each there.
    """
    text = cast(Vehicle.software, Text)
    census: dict[str, dict[tuple[str, str], int]] = {}
    with store.session() as session:
        for raw, n in session.execute(select(text, func.count()).group_by(text)):
            for ecu, installed in (json.loads(raw) if raw else {}).items():
                key = (str(installed.get("component", "")), str(installed.get("version", "")))
                per_ecu = census.setdefault(ecu, {})
                per_ecu[key] = per_ecu.get(key, 0) + int(n)
    return census
