"""EU Data Act storage: owners, owned vehicles, data recipients, consents, the access log, webhooks.

Secrets (owner tokens, recipient client secrets, OAuth access tokens) are kept only as SHA-256
digests. The consent check (``live_categories``) is one indexed query per call and is never
cached: a revocation committed by the owner is seen by the very next third-party read.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from evplatform.errors import NotFoundError, StoreError
from evplatform.store._sql import translate_errors
from evplatform.store.accounts import token_digest
from evplatform.store.database import Store
from evplatform.store.schema import (
    DataAccessEntry,
    DataGrant,
    DataOwner,
    DataRecipient,
    OwnedVehicle,
    OwnerToken,
    RecipientToken,
    TelemetryEvent,
    Vehicle,
    WebhookDelivery,
    WebhookSubscription,
)

#: How long an owner's sign-in token works.
OWNER_TOKEN_LIFETIME = timedelta(days=7)
#: The most rows one telemetry read of the portal or the third-party API returns.
MAX_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class OwnerInfo:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class RecipientInfo:
    id: int
    client_id: str
    name: str
    secret_digest: str
    disabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class GrantInfo:
    id: int
    owner: str
    recipient: str
    vin: str
    categories: tuple[str, ...]
    starts_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    created_at: datetime

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.starts_at <= now < self.expires_at


@dataclass(frozen=True, slots=True)
class AccessEntry:
    id: int
    at: datetime
    vin: str
    actor: str
    action: str
    categories: tuple[str, ...]
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TelemetryRow:
    vin: str
    model: str
    kind: str
    at: datetime
    value: float | None
    detail: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class DeliveryInfo:
    id: int
    subscription_id: int
    url: str
    secret: str
    recipient: str
    vin: str
    category: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str


# --- owners -----------------------------------------------------------------------------------


def create_owner(store: Store, name: str) -> OwnerInfo:
    """A new owner account; ConflictError when the name is taken."""
    if not name.strip() or len(name) > 128:
        raise StoreError("an owner needs a name of 1–128 characters")
    with store.session() as session:
        row = DataOwner(name=name, created_at=store.now())
        session.add(row)
        session.flush()
        return OwnerInfo(row.id, row.name)


def list_owners(store: Store) -> list[OwnerInfo]:
    with store.session() as session:
        return [OwnerInfo(o.id, o.name) for o in session.scalars(select(DataOwner).order_by(DataOwner.name))]


def _owner_id(session: Any, name: str) -> int:
    owner_id = session.scalar(select(DataOwner.id).where(DataOwner.name == name))
    if owner_id is None:
        raise NotFoundError("owner", name)
    return int(owner_id)


def _vehicle_id(session: Any, vin: str) -> int:
    vehicle_id = session.scalar(select(Vehicle.id).where(Vehicle.vin == vin))
    if vehicle_id is None:
        raise NotFoundError("vehicle", vin)
    return int(vehicle_id)


def assign_vehicle(store: Store, owner: str, vin: str) -> None:
    """Record that ``owner`` owns ``vin`` (a change of owner replaces the previous one)."""
    with store.session() as session:
        owner_id = _owner_id(session, owner)
        vehicle_id = _vehicle_id(session, vin)
        session.execute(delete(OwnedVehicle).where(OwnedVehicle.vehicle_id == vehicle_id))
        session.add(OwnedVehicle(vehicle_id=vehicle_id, owner_id=owner_id))


def issue_owner_token(store: Store, owner: str, lifetime: timedelta = OWNER_TOKEN_LIFETIME) -> str:
    """A new sign-in token for an owner; the clear text is returned once, the digest kept."""
    token = secrets.token_urlsafe(32)
    with store.session() as session:
        now = store.now()
        session.add(OwnerToken(owner_id=_owner_id(session, owner), digest=token_digest(token), created_at=now,
                               expires_at=now + lifetime, revoked=False))
    return token


def owner_for_token(store: Store, token: str, now: datetime) -> OwnerInfo | None:
    """The owner a live token belongs to, else None (operators' tokens are never owners' tokens)."""
    with store.session() as session:
        row = session.execute(
            select(DataOwner.id, DataOwner.name).join(OwnerToken, OwnerToken.owner_id == DataOwner.id)
            .where(OwnerToken.digest == token_digest(token), OwnerToken.revoked.is_(False),
                   OwnerToken.expires_at > now)).first()
        return None if row is None else OwnerInfo(int(row[0]), str(row[1]))


def owned_vins(store: Store, owner_id: int) -> list[str]:
    with store.session() as session:
        return list(session.scalars(select(Vehicle.vin).join(OwnedVehicle, OwnedVehicle.vehicle_id == Vehicle.id)
                                    .where(OwnedVehicle.owner_id == owner_id).order_by(Vehicle.vin)))


def owner_of(store: Store, vin: str) -> int | None:
    with store.session() as session:
        owner = session.scalar(select(OwnedVehicle.owner_id).join(Vehicle, Vehicle.id == OwnedVehicle.vehicle_id)
                               .where(Vehicle.vin == vin))
        return None if owner is None else int(owner)


def vehicle_model(store: Store, vin: str) -> tuple[str, str, str]:
    """(model, trim, market) of a vehicle; NotFoundError when unknown."""
    with store.session() as session:
        row = session.execute(select(Vehicle.model, Vehicle.trim, Vehicle.market).where(Vehicle.vin == vin)).first()
        if row is None:
            raise NotFoundError("vehicle", vin)
        return str(row[0]), str(row[1]), str(row[2])


# --- recipients and OAuth tokens --------------------------------------------------------------


def _recipient(row: DataRecipient) -> RecipientInfo:
    return RecipientInfo(row.id, row.client_id, row.name, row.secret_digest, row.disabled, row.created_at)


def register_recipient(store: Store, client_id: str, name: str) -> tuple[RecipientInfo, str]:
    """A new data recipient and its client secret (clear text returned once); ConflictError when taken."""
    secret = secrets.token_urlsafe(32)
    with store.session() as session:
        row = DataRecipient(client_id=client_id, name=name, secret_digest=token_digest(secret),
                            created_at=store.now(), disabled=False)
        session.add(row)
        session.flush()
        return _recipient(row), secret


def list_recipients(store: Store) -> list[RecipientInfo]:
    with store.session() as session:
        return [_recipient(r) for r in session.scalars(select(DataRecipient).order_by(DataRecipient.client_id))]


def recipient(store: Store, client_id: str) -> RecipientInfo | None:
    with store.session() as session:
        row = session.scalar(select(DataRecipient).where(DataRecipient.client_id == client_id))
        return None if row is None else _recipient(row)


def disable_recipient(store: Store, client_id: str) -> None:
    """Disable a recipient: its tokens stop working and every consent it holds is refused."""
    with store.session() as session:
        done = session.execute(update(DataRecipient).where(DataRecipient.client_id == client_id)
                               .values(disabled=True))
        if getattr(done, "rowcount", 0) == 0:
            raise NotFoundError("data recipient", client_id)


def save_access_token(store: Store, token: str, recipient_id: int, scope: str, expires_at: datetime) -> None:
    with store.session() as session:
        session.execute(delete(RecipientToken).where(RecipientToken.expires_at <= store.now()))
        session.add(RecipientToken(digest=token_digest(token), recipient_id=recipient_id, scope=scope,
                                   issued_at=store.now(), expires_at=expires_at))


@dataclass(frozen=True, slots=True)
class AccessTokenInfo:
    recipient_id: int
    client_id: str
    scope: str
    issued_at: datetime
    expires_at: datetime
    disabled: bool


def access_token(store: Store, token: str) -> AccessTokenInfo | None:
    """What an OAuth access token stands for (None when unknown); expiry is for the caller to judge."""
    with store.session() as session:
        row = session.execute(
            select(RecipientToken.recipient_id, DataRecipient.client_id, RecipientToken.scope,
                   RecipientToken.issued_at, RecipientToken.expires_at, DataRecipient.disabled)
            .join(DataRecipient, DataRecipient.id == RecipientToken.recipient_id)
            .where(RecipientToken.digest == token_digest(token))).first()
        return None if row is None else AccessTokenInfo(int(row[0]), str(row[1]), str(row[2]), row[3], row[4],
                                                       bool(row[5]))


# --- consents -----------------------------------------------------------------------------------


def _grant(row: DataGrant, owner: str, recipient_id: str, vin: str) -> GrantInfo:
    return GrantInfo(row.id, owner, recipient_id, vin, tuple(row.categories), row.starts_at, row.expires_at,
                     row.revoked_at, row.created_at)


def create_grant(store: Store, owner_id: int, client_id: str, vin: str, categories: Sequence[str],
                 starts_at: datetime, expires_at: datetime) -> GrantInfo:
    """Store a consent and its log entry in one transaction."""
    with store.session() as session:
        rec = session.scalar(select(DataRecipient).where(DataRecipient.client_id == client_id))
        if rec is None:
            raise NotFoundError("data recipient", client_id)
        vehicle_id = _vehicle_id(session, vin)
        now = store.now()
        row = DataGrant(owner_id=owner_id, recipient_id=rec.id, vehicle_id=vehicle_id, categories=list(categories),
                        starts_at=starts_at, expires_at=expires_at, revoked_at=None, created_at=now)
        session.add(row)
        session.flush()
        owner = session.scalar(select(DataOwner.name).where(DataOwner.id == owner_id)) or str(owner_id)
        session.add(DataAccessEntry(at=now, vehicle_id=vehicle_id, actor=f"owner:{owner}", action="grant",
                                    categories=list(categories),
                                    detail={"grant": row.id, "recipient": client_id,
                                            "from": starts_at.isoformat(), "until": expires_at.isoformat()}))
        return _grant(row, owner, client_id, vin)


def revoke_grant(store: Store, owner_id: int, grant_id: int) -> GrantInfo:
    """Revoke one of the owner's consents now (NotFoundError for someone else's or an unknown id)."""
    with store.session() as session:
        found = session.execute(
            select(DataGrant, DataOwner.name, DataRecipient.client_id, Vehicle.vin)
            .join(DataOwner, DataOwner.id == DataGrant.owner_id)
            .join(DataRecipient, DataRecipient.id == DataGrant.recipient_id)
            .join(Vehicle, Vehicle.id == DataGrant.vehicle_id)
            .where(DataGrant.id == grant_id, DataGrant.owner_id == owner_id)).first()
        if found is None:
            raise NotFoundError("grant", str(grant_id))
        row, owner, client_id, vin = found
        now = store.now()
        if row.revoked_at is None:
            row.revoked_at = now
            session.add(DataAccessEntry(at=now, vehicle_id=row.vehicle_id, actor=f"owner:{owner}", action="revoke",
                                        categories=list(row.categories),
                                        detail={"grant": row.id, "recipient": client_id}))
        return _grant(row, owner, client_id, vin)


def grants(store: Store, *, owner_id: int | None = None, vin: str | None = None) -> list[GrantInfo]:
    """Consents (of one owner and/or one vehicle), newest first."""
    with store.session() as session:
        query = (select(DataGrant, DataOwner.name, DataRecipient.client_id, Vehicle.vin)
                 .join(DataOwner, DataOwner.id == DataGrant.owner_id)
                 .join(DataRecipient, DataRecipient.id == DataGrant.recipient_id)
                 .join(Vehicle, Vehicle.id == DataGrant.vehicle_id).order_by(DataGrant.id.desc()))
        if owner_id is not None:
            query = query.where(DataGrant.owner_id == owner_id)
        if vin is not None:
            query = query.where(Vehicle.vin == vin)
        return [_grant(row, owner, client, v) for row, owner, client, v in session.execute(query)]


def live_categories(store: Store, recipient_id: int, vin: str, now: datetime) -> tuple[int | None, set[str]]:
    """(the vehicle's id or None when unknown, the categories ``recipient_id`` holds a live consent for).

    Live: not revoked, started, not expired at ``now`` (the server's clock), granted by the vehicle's
    current owner, recipient not disabled. Read from the database on every call — never cached.
    """
    with store.session() as session:
        vehicle_id = session.scalar(select(Vehicle.id).where(Vehicle.vin == vin))
        if vehicle_id is None:
            return None, set()
        rows = session.scalars(
            select(DataGrant.categories)
            .join(OwnedVehicle, (OwnedVehicle.vehicle_id == DataGrant.vehicle_id)
                  & (OwnedVehicle.owner_id == DataGrant.owner_id))
            .join(DataRecipient, DataRecipient.id == DataGrant.recipient_id)
            .where(DataGrant.recipient_id == recipient_id, DataGrant.vehicle_id == vehicle_id,
                   DataGrant.revoked_at.is_(None), DataGrant.starts_at <= now, DataGrant.expires_at > now,
                   DataRecipient.disabled.is_(False)))
        return int(vehicle_id), {c for categories in rows for c in categories}


@dataclass(frozen=True, slots=True)
class ConsentedToken:
    """An access token and, in the same read, the categories its recipient may read of one vehicle."""

    token: AccessTokenInfo
    vehicle_id: int | None
    live: frozenset[str]


#: The hot path's statements, built once (SQLAlchemy then reuses their compiled form).
_TOKEN = (select(RecipientToken.recipient_id, DataRecipient.client_id, RecipientToken.scope, RecipientToken.issued_at,
                 RecipientToken.expires_at, DataRecipient.disabled)
          .join(DataRecipient, DataRecipient.id == RecipientToken.recipient_id)
          .where(RecipientToken.digest == bindparam("digest")))
_VEHICLE = select(Vehicle.id).where(Vehicle.vin == bindparam("vin"))
_LIVE = (select(DataGrant.categories)
         .join(OwnedVehicle, (OwnedVehicle.vehicle_id == DataGrant.vehicle_id)
               & (OwnedVehicle.owner_id == DataGrant.owner_id))
         .where(DataGrant.recipient_id == bindparam("recipient"), DataGrant.vehicle_id == bindparam("vehicle"),
                DataGrant.revoked_at.is_(None), DataGrant.starts_at <= bindparam("now"),
                DataGrant.expires_at > bindparam("now")))
_VALUES = (select(Vehicle.model, TelemetryEvent.kind, TelemetryEvent.at, TelemetryEvent.value, TelemetryEvent.detail)
           .join(Vehicle, Vehicle.id == TelemetryEvent.vehicle_id)
           .where(TelemetryEvent.vehicle_id == bindparam("vehicle"),
                  TelemetryEvent.kind.in_(bindparam("kinds", expanding=True)))
           .order_by(TelemetryEvent.at.desc()).limit(bindparam("limit")))
_LOG = insert(DataAccessEntry)


def token_and_consent(store: Store, token: str, vin: str, now: datetime) -> ConsentedToken | None:
    """``access_token`` and ``live_categories`` in one transaction (the third-party read's hot path)."""
    with translate_errors(store.url), store.engine.begin() as connection:  # Core: no ORM session on the hot path
        row = connection.execute(_TOKEN, {"digest": token_digest(token)}).first()
        if row is None:
            return None
        info = AccessTokenInfo(int(row[0]), str(row[1]), str(row[2]), row[3], row[4], bool(row[5]))
        vehicle_id = connection.execute(_VEHICLE, {"vin": vin}).scalar()
        if vehicle_id is None:
            return ConsentedToken(info, None, frozenset())
        rows = connection.execute(_LIVE, {"recipient": info.recipient_id, "vehicle": vehicle_id, "now": now}).scalars()
        live = frozenset() if info.disabled else frozenset(c for categories in rows for c in categories)
        return ConsentedToken(info, int(vehicle_id), live)


def read_and_log(store: Store, vehicle_id: int, vin: str, kinds: Sequence[str], limit: int, actor: str,
                 category: str) -> list[TelemetryRow]:
    """A consented read and its access-log entry in one transaction (nothing read goes unlogged)."""
    with translate_errors(store.url), store.engine.begin() as connection:
        rows = [] if not kinds else [
            TelemetryRow(vin, str(m), str(k), at, val, det) for m, k, at, val, det in connection.execute(
                _VALUES, {"vehicle": vehicle_id, "kinds": list(kinds), "limit": min(limit, MAX_ROWS)})]
        connection.execute(_LOG, {"at": store.now(), "vehicle_id": vehicle_id, "actor": actor, "action": "read",
                                  "categories": [category], "detail": {"rows": len(rows)}})
        return rows


# --- access log -----------------------------------------------------------------------------------


def log_access(store: Store, vin: str, actor: str, action: str, categories: Sequence[str],
               detail: dict[str, Any]) -> None:
    with store.session() as session:
        session.add(DataAccessEntry(at=store.now(), vehicle_id=_vehicle_id(session, vin), actor=actor, action=action,
                                    categories=list(categories), detail=detail))


def access_log(store: Store, vins: Sequence[str], limit: int = 500) -> list[AccessEntry]:
    """The log of some vehicles, newest first."""
    with store.session() as session:
        rows = session.execute(
            select(DataAccessEntry, Vehicle.vin).join(Vehicle, Vehicle.id == DataAccessEntry.vehicle_id)
            .where(Vehicle.vin.in_(list(vins))).order_by(DataAccessEntry.id.desc()).limit(limit))
        return [AccessEntry(e.id, e.at, vin, e.actor, e.action, tuple(e.categories), dict(e.detail))
                for e, vin in rows]


# --- telemetry reads --------------------------------------------------------------------------------


def telemetry(store: Store, *, vins: Sequence[str] | None = None, kinds: Sequence[str],
              since: datetime | None = None, limit: int = MAX_ROWS) -> list[TelemetryRow]:
    """Telemetry events of some kinds (of some vehicles, or the whole fleet), newest first."""
    if not kinds:
        return []
    with store.session() as session:
        query = (select(Vehicle.vin, Vehicle.model, TelemetryEvent.kind, TelemetryEvent.at, TelemetryEvent.value,
                        TelemetryEvent.detail).join(Vehicle, Vehicle.id == TelemetryEvent.vehicle_id)
                 .where(TelemetryEvent.kind.in_(list(kinds))).order_by(TelemetryEvent.at.desc())
                 .limit(min(limit, MAX_ROWS)))
        if vins is not None:
            query = query.where(Vehicle.vin.in_(list(vins)))
        if since is not None:
            query = query.where(TelemetryEvent.at >= since)
        return [TelemetryRow(str(v), str(m), str(k), at, val, det) for v, m, k, at, val, det in session.execute(query)]


def purge_telemetry(store: Store, kinds: Sequence[str], before: datetime) -> int:
    """Delete telemetry events of ``kinds`` older than ``before`` (retention); returns how many."""
    if not kinds:
        return 0
    with store.session() as session:
        done = session.execute(delete(TelemetryEvent).where(TelemetryEvent.kind.in_(list(kinds)),
                                                            TelemetryEvent.at < before))
        return int(getattr(done, "rowcount", 0) or 0)


# --- webhooks ---------------------------------------------------------------------------------------


def add_subscription(store: Store, client_id: str, url: str, secret: str) -> int:
    with store.session() as session:
        rec = session.scalar(select(DataRecipient.id).where(DataRecipient.client_id == client_id))
        if rec is None:
            raise NotFoundError("data recipient", client_id)
        row = WebhookSubscription(recipient_id=rec, url=url, secret=secret, created_at=store.now())
        session.add(row)
        session.flush()
        return row.id


def subscriptions(store: Store) -> list[tuple[int, int, str, str]]:
    """(id, recipient id, client id, url) of every subscription."""
    with store.session() as session:
        rows = session.execute(select(WebhookSubscription.id, WebhookSubscription.recipient_id,
                                      DataRecipient.client_id, WebhookSubscription.url)
                               .join(DataRecipient, DataRecipient.id == WebhookSubscription.recipient_id))
        return [(int(a), int(b), str(c), str(d)) for a, b, c, d in rows]


def enqueue_delivery(store: Store, subscription_id: int, vin: str, category: str, payload: dict[str, Any]) -> int:
    with store.session() as session:
        row = WebhookDelivery(subscription_id=subscription_id, vehicle_id=_vehicle_id(session, vin), category=category,
                              payload=payload, state="pending", attempts=0, next_attempt_at=store.now(),
                              last_error="")
        session.add(row)
        session.flush()
        return int(row.id)


def _delivery(row: WebhookDelivery, sub: WebhookSubscription, client_id: str, vin: str) -> DeliveryInfo:
    return DeliveryInfo(row.id, row.subscription_id, sub.url, sub.secret, client_id, vin, row.category,
                        dict(row.payload), row.state, row.attempts, row.next_attempt_at, row.last_error)


def deliveries(store: Store, *, state: str | None = None, due_at: datetime | None = None,
               limit: int = 100) -> list[DeliveryInfo]:
    """Deliveries (in a state; due by ``due_at``), oldest first."""
    with store.session() as session:
        query = (select(WebhookDelivery, WebhookSubscription, DataRecipient.client_id, Vehicle.vin)
                 .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                 .join(DataRecipient, DataRecipient.id == WebhookSubscription.recipient_id)
                 .join(Vehicle, Vehicle.id == WebhookDelivery.vehicle_id).order_by(WebhookDelivery.id).limit(limit))
        if state is not None:
            query = query.where(WebhookDelivery.state == state)
        if due_at is not None:
            query = query.where(WebhookDelivery.next_attempt_at <= due_at)
        return [_delivery(d, s, c, v) for d, s, c, v in session.execute(query)]


def mark_delivery(store: Store, delivery_id: int, *, state: str, attempts: int, next_attempt_at: datetime,
                  error: str = "") -> None:
    with store.session() as session:
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(
            state=state, attempts=attempts, next_attempt_at=next_attempt_at, last_error=error[:500]))
