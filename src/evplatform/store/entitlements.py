"""Entitlements to paid features per vehicle, and the feature changes delivered to it (migration 0011).

``entitlements`` is the sales ledger: one row per purchase (valid from, valid to — open while a
one-off lasts for ever or a subscription renews —, price, billing, currency, channel, and whether
the row was recorded or seeded as an ESTIMATE for the demo). ``feature_changes`` is what the vehicle
was told: each activation or deactivation, its reason, whether it altered a type-approved function,
the RXSWIN before and after, and the release counter and path of the signed configuration target
that carried it. Rules (what may be sold, when a change is due) live in ``evplatform.ondemand``.

The tables are declared here on the shared ``Base`` because only this module reads or writes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Table, func, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from evplatform.errors import ConflictError, NotFoundError, StoreError
from evplatform.store._sql import audit
from evplatform.store.database import Store
from evplatform.store.schema import Base, BigId, Configuration, UtcDateTime, Vehicle

CHUNK = 20_000
BASES = ("recorded", "estimate")
CHANGES = ("activate", "deactivate")


class Entitlement(Base):
    __tablename__ = "entitlements"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    vehicle_id: Mapped[int] = mapped_column(BigId, ForeignKey("vehicles.id", ondelete="CASCADE"))
    feature: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UtcDateTime())
    price: Mapped[float] = mapped_column(Float)
    billing: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(32))
    basis: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(128))
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (Index("ix_entitlements_vehicle_feature", "vehicle_id", "feature"),)


class FeatureChange(Base):
    __tablename__ = "feature_changes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    vehicle_id: Mapped[int] = mapped_column(BigId, ForeignKey("vehicles.id", ondelete="CASCADE"))
    feature: Mapped[str] = mapped_column(String(64))
    change: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    type_approval_relevant: Mapped[bool] = mapped_column(Boolean)
    rxswin_before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    rxswin_after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    counter: Mapped[int] = mapped_column(Integer)
    target: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_feature_changes_vehicle_at", "vehicle_id", "at"),)


@dataclass(frozen=True, slots=True)
class EntitlementRecord:
    id: int
    vin: str
    model: str
    trim: str
    market: str
    feature: str
    valid_from: datetime
    valid_to: datetime | None
    price: float
    billing: str
    currency: str
    channel: str
    basis: str
    created_by: str
    cancelled_at: datetime | None

    def active_at(self, now: datetime) -> bool:
        """Valid at ``now``: started, and not yet ended (``valid_to`` is exclusive)."""
        return self.valid_from <= now and (self.valid_to is None or now < self.valid_to)


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    vin: str
    feature: str
    change: str
    reason: str
    at: datetime
    type_approval_relevant: bool
    rxswin_before: Mapping[str, str] | None
    rxswin_after: Mapping[str, str] | None
    counter: int
    target: str | None


@dataclass(frozen=True, slots=True)
class AuditNote:
    """The audit row written in the same transaction as a ledger change."""

    actor: str
    action: str
    subject: str
    detail: Mapping[str, Any]


ENTITLEMENT_FIELDS = ("vehicle_id", "feature", "valid_from", "valid_to", "price", "billing", "currency", "channel",
                      "basis", "created_by")


def _check(row: Mapping[str, Any]) -> None:
    missing = [f for f in ENTITLEMENT_FIELDS if f not in row]
    if missing:
        raise StoreError(f"entitlement row lacks {', '.join(missing)}")
    if row["basis"] not in BASES:
        raise StoreError(f"unknown entitlement basis {row['basis']!r} (known: {', '.join(BASES)})")


def add_entitlement(store: Store, row: Mapping[str, Any], note: AuditNote) -> int:
    """Insert one entitlement unless the vehicle already holds the feature at ``valid_from``.

    The check and the insert share one transaction with the audit row, so a refused sale leaves
    nothing behind and an accepted one is always audited.
    """
    _check(row)
    start = row["valid_from"]
    with store.session() as session:
        clash = session.scalar(select(Entitlement.id).where(
            Entitlement.vehicle_id == row["vehicle_id"], Entitlement.feature == row["feature"],
            Entitlement.valid_from <= start, (Entitlement.valid_to.is_(None)) | (Entitlement.valid_to > start)))
        if clash is not None:
            raise ConflictError(f"the vehicle already holds {row['feature']} (entitlement {clash})")
        entitlement = Entitlement(**{f: row[f] for f in ENTITLEMENT_FIELDS})
        session.add(entitlement)
        session.flush()
        audit(session, store.now(), note.actor, note.action, note.subject,
              {**note.detail, "entitlement": entitlement.id})
        return int(entitlement.id)


def insert_entitlements(store: Store, rows: Sequence[Mapping[str, Any]]) -> int:
    """Bulk insert (the demo's seeded ESTIMATE rows); no overlap check."""
    for row in rows:
        _check(row)
    table = cast(Table, Entitlement.__table__)  # Core executemany: the ORM splits rows by which values are None
    with store.session() as session:
        for start in range(0, len(rows), CHUNK):
            session.execute(insert(table), [{**{f: r[f] for f in ENTITLEMENT_FIELDS},
                                                   "cancelled_at": r.get("cancelled_at"),
                                                   "cancelled_by": r.get("cancelled_by")}
                                                  for r in rows[start:start + CHUNK]])
    return len(rows)


def cancel_entitlement(store: Store, entitlement_id: int, at: datetime, note: AuditNote) -> None:
    """End an entitlement at ``at`` (it stays in the ledger); NotFoundError / ConflictError when not active."""
    with store.session() as session:
        row = session.get(Entitlement, entitlement_id)
        if row is None:
            raise NotFoundError("entitlement", str(entitlement_id))
        if row.valid_to is not None and row.valid_to <= at:
            raise ConflictError(f"entitlement {entitlement_id} already ended at {row.valid_to.isoformat()}")
        session.execute(update(Entitlement).where(Entitlement.id == entitlement_id)
                        .values(valid_to=at, cancelled_at=at, cancelled_by=note.actor))
        audit(session, store.now(), note.actor, note.action, note.subject, dict(note.detail))


def _entitlement_query() -> Any:
    return (select(Entitlement.id, Vehicle.vin, Vehicle.model, Vehicle.trim, Vehicle.market, Entitlement.feature,
                   Entitlement.valid_from, Entitlement.valid_to, Entitlement.price, Entitlement.billing,
                   Entitlement.currency, Entitlement.channel, Entitlement.basis, Entitlement.created_by,
                   Entitlement.cancelled_at)
            .join(Vehicle, Vehicle.id == Entitlement.vehicle_id))


def entitlements(store: Store, *, vin: str | None = None, feature: str | None = None,
                 limit: int | None = None) -> list[EntitlementRecord]:
    """Entitlements (optionally of one vehicle and/or one feature), oldest first."""
    query = _entitlement_query().order_by(Entitlement.valid_from, Entitlement.id)
    if vin is not None:
        query = query.where(Vehicle.vin == vin)
    if feature is not None:
        query = query.where(Entitlement.feature == feature)
    if limit is not None:
        query = query.limit(limit)
    with store.session() as session:
        return [EntitlementRecord(*row) for row in session.execute(query.execution_options(yield_per=CHUNK))]


def entitlement(store: Store, entitlement_id: int) -> EntitlementRecord:
    with store.session() as session:
        row = session.execute(_entitlement_query().where(Entitlement.id == entitlement_id)).first()
    if row is None:
        raise NotFoundError("entitlement", str(entitlement_id))
    return EntitlementRecord(*row)


def vehicles_with_entitlements_since(store: Store, since: datetime | None) -> list[str]:
    """VINs whose entitlements started or ended after ``since`` (None: every VIN holding one)."""
    query = select(Vehicle.vin).join(Entitlement, Entitlement.vehicle_id == Vehicle.id).distinct()
    if since is not None:
        query = query.where((Entitlement.valid_from > since) | (Entitlement.valid_to > since))
    with store.session() as session:
        return sorted(session.scalars(query))


def fleet_configurations(store: Store) -> list[tuple[str, str, str, frozenset[str], int]]:
    """Vehicles per (model, trim, market, configuration): what attach rates divide by."""
    query = (select(Vehicle.model, Vehicle.trim, Vehicle.market, Configuration.features, func.count())
             .join(Configuration, Configuration.id == Vehicle.configuration_id)
             .group_by(Vehicle.model, Vehicle.trim, Vehicle.market, Configuration.features))
    with store.session() as session:
        return [(m, t, k, frozenset(f.split()), int(n)) for m, t, k, f, n in session.execute(query)]


def record_changes(store: Store, vehicle_id: int, rows: Iterable[Mapping[str, Any]],
                   rxswin: Mapping[str, str] | None, note: AuditNote) -> None:
    """Insert feature changes, set the vehicle's RXSWIN (None: unchanged) and audit, in one transaction."""
    items = [dict(r, vehicle_id=vehicle_id) for r in rows]
    for item in items:
        if item["change"] not in CHANGES:
            raise StoreError(f"unknown feature change {item['change']!r} (known: {', '.join(CHANGES)})")
    with store.session() as session:
        if items:
            session.execute(insert(FeatureChange), items)
        if rxswin is not None:
            session.execute(update(Vehicle).where(Vehicle.id == vehicle_id).values(rxswin=dict(rxswin)))
        audit(session, store.now(), note.actor, note.action, note.subject, dict(note.detail))


def changes(store: Store, *, vin: str | None = None) -> list[ChangeRecord]:
    """Feature changes (optionally of one vehicle), oldest first."""
    query = (select(Vehicle.vin, FeatureChange.feature, FeatureChange.change, FeatureChange.reason, FeatureChange.at,
                    FeatureChange.type_approval_relevant, FeatureChange.rxswin_before, FeatureChange.rxswin_after,
                    FeatureChange.counter, FeatureChange.target)
             .join(Vehicle, Vehicle.id == FeatureChange.vehicle_id).order_by(FeatureChange.at, FeatureChange.id))
    if vin is not None:
        query = query.where(Vehicle.vin == vin)
    with store.session() as session:
        return [ChangeRecord(*row) for row in session.execute(query)]
