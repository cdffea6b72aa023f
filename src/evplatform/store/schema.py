"""The database schema as SQLAlchemy 2 declarative tables.

Only what happens after the workspace lives here (DESIGN.md): the fleet, releases, campaigns,
telemetry, approvals, operators and the audit log. Migrations in ``store/migrations`` create
these tables; the classes are the single description the queries in ``store/`` are written
against.

Two choices keep a million-vehicle fleet cheap:

* a vehicle points to a shared ``configurations`` row (every vehicle of one trim in one market
  has the same feature set), so compatibility is evaluated once per configuration, not once per
  vehicle;
* campaign progress is one row per (campaign, vehicle) in ``campaign_vehicles`` and final
  outcomes go to ``update_reports`` whose primary key is (campaign, vehicle): a second report of
  the same vehicle is ignored by the database itself, so nobody is counted twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names, so migrations can name what they drop or alter.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps UTC instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY is the rowid alias).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Configuration(Base):
    """A complete feature selection shared by every vehicle built that way."""

    __tablename__ = "configurations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    features: Mapped[str] = mapped_column(Text)  # sorted feature names separated by one space


class MarketPolicy(Base):
    """What the fleet needs to know about a market: its clock and whether updates need approval."""

    __tablename__ = "markets"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    parent: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    approval_required: Mapped[bool] = mapped_column(Boolean, default=False)
    approval_basis: Mapped[str] = mapped_column(String(200), default="")


#: JSON read by path in bulk: JSONB on PostgreSQL (stored parsed), JSON text elsewhere.
FastJSON = JSON().with_variant(JSONB(), "postgresql")


class Vehicle(Base):
    __tablename__ = "vehicles"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    vin: Mapped[str] = mapped_column(String(17), unique=True)
    model: Mapped[str] = mapped_column(String(64))
    trim: Mapped[str] = mapped_column(String(64))
    market: Mapped[str] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64))
    configuration_id: Mapped[int] = mapped_column(ForeignKey("configurations.id"))
    # JSONB on PostgreSQL (migration 0012): targeting reads one ECU's entry of every vehicle, and the
    # text ``json`` type re-parsed the whole document for each (10 s per million vehicles here).
    hardware_ids: Mapped[dict[str, Any]] = mapped_column(FastJSON)  # ECU -> hardware id
    software: Mapped[dict[str, Any]] = mapped_column(FastJSON)  # ECU -> {"component", "version"}
    rxswin: Mapped[dict[str, Any]] = mapped_column(JSON)  # UN R156 RXSWIN per regulation
    consent_telemetry: Mapped[bool] = mapped_column(Boolean, default=True)
    consent_updates: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The primary ECU's public key (e.g. ed25519, hex or PEM) the vehicle signs its requests and
    # Uptane version manifests with; None until the vehicle is provisioned.
    public_key: Mapped[str | None] = mapped_column(Text)
    # Bumped by database triggers (migration 0012) and the Director whenever this vehicle's update
    # check could answer differently: the update check's ETag (``fleet.generations``).
    generation: Mapped[int] = mapped_column(BigInteger, server_default="0")  # no Python default: inserts leave it out

    __table_args__ = (Index("ix_vehicles_model_trim_market", "model", "trim", "market"),)


class TelemetryEvent(Base):
    __tablename__ = "telemetry_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # health | crash | soc | odometer
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    value: Mapped[float | None] = mapped_column(Float)
    release_id: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_telemetry_kind_at", "kind", "at"),
        Index("ix_telemetry_vehicle_kind_at", "vehicle_id", "kind", "at"),
        Index("ix_telemetry_vehicle_at", "vehicle_id", "at"),  # "last seen" of a fleet filter query (0008)
    )


class TelemetryBatch(Base):
    """A telemetry batch already stored, by the message id its vehicle gave it (MQTT ingestion).

    The primary key is what makes ingestion idempotent: a batch the broker redelivers (after the
    ingester's crash or a broker restart) is found here and its events are not stored again (0014).
    """

    __tablename__ = "telemetry_batches"
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    events: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_telemetry_batches_received_at", "received_at"),)


class VehicleCommand(Base):
    """A command sent to a vehicle over MQTT (pre-condition, lock, log upload): its life on the server clock."""

    __tablename__ = "vehicle_commands"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    issued_by: Mapped[str] = mapped_column(String(128))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    state: Mapped[str] = mapped_column(String(16))  # pending | accepted | rejected | expired
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_vehicle_commands_vehicle_issued", "vehicle_id", "issued_at"),)


class Release(Base):
    """A software version of one component for one ECU, compatible where ``compatible`` holds."""

    __tablename__ = "releases"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    component: Mapped[str] = mapped_column(String(64))
    ecu: Mapped[str] = mapped_column(String(64))
    hardware_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    compatible: Mapped[str] = mapped_column(Text)  # UVL constraint syntax
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(128), server_default="system")  # its approver must be another


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    release_id: Mapped[str] = mapped_column(ForeignKey("releases.id"))
    state: Mapped[str] = mapped_column(String(16))  # draft|running|paused|halted|cancelled|completed
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    # auto|required|not_required (fleet.gates.CONSENT_RULES): whether targets need the owner's consent
    consent: Mapped[str] = mapped_column(String(16), default="auto", server_default="auto")
    target: Mapped[dict[str, Any]] = mapped_column(JSON)  # the target filter, as given
    window_start: Mapped[str | None] = mapped_column(String(5))  # "HH:MM" local time
    window_end: Mapped[str | None] = mapped_column(String(5))
    seed: Mapped[int] = mapped_column(Integer, default=0)
    current_wave: Mapped[int] = mapped_column(Integer, default=0)
    halt_reason: Mapped[str | None] = mapped_column(Text)
    last_tick_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # the controller's clock
    timezones: Mapped[list[Any]] = mapped_column(JSON, default=list)  # of the targets, set at start
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Wave(Base):
    __tablename__ = "waves"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    fraction: Mapped[float] = mapped_column(Float)  # cumulative share of the targets
    size: Mapped[int] = mapped_column(Integer, default=0)
    success_threshold: Mapped[float] = mapped_column(Float)
    error_threshold: Mapped[float] = mapped_column(Float)
    soak_hours: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")  # wait before the next
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|active|done|halted
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CampaignVehicle(Base):
    """One vehicle's progress in one campaign: where the controller resumes after a crash."""

    __tablename__ = "campaign_vehicles"
    # No foreign keys (migration 0012): a start writes its targets from the vehicles table itself, in
    # the transaction that locks the campaign's row, and the per-row checks cost most of a
    # 1,000,000-vehicle start. Neither vehicles nor campaigns are ever deleted.
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    wave: Mapped[int] = mapped_column(Integer)
    cohort: Mapped[str] = mapped_column(String(64))  # model/trim: the gate also watches each cohort
    # pending | offered | succeeded | failed | rolled_back | cancelled
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    offered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # left out by an operator (a cohort excluded after a halt): never offered again, not counted by the gate
    excluded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (Index("ix_campaign_vehicles_wave_state", "campaign_id", "wave", "state"),)


class UpdateReport(Base):
    """A vehicle's final outcome in a campaign; the primary key makes reports idempotent."""

    __tablename__ = "update_reports"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(BigId, ForeignKey("vehicles.id", ondelete="CASCADE"), primary_key=True)
    release_id: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))  # succeeded | failed | rolled_back
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_update_reports_release_at", "release_id", "at"),
        Index("ix_update_reports_campaign_at", "campaign_id", "at"),
    )


class CampaignHistory(Base):
    """One change of a campaign: who, when (server clock), from which state to which, and why.

    Start, a gate's halt with its reason, pause, resume, acknowledge, exclude, next wave, retry,
    cancel, the controller's wave openings and completion: the evidence a later reader (or an
    auditor under UN R156 §7.1.1) needs, never overwritten by the next change.
    """

    __tablename__ = "campaign_history"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (Index("ix_campaign_history_campaign_id", "campaign_id", "id"),)


class SupersededReport(Base):
    """A vehicle's earlier outcome that a retry replaced (the report key allows one per campaign)."""

    __tablename__ = "superseded_reports"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    vehicle_id: Mapped[int] = mapped_column(BigId, ForeignKey("vehicles.id", ondelete="CASCADE"))
    release_id: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    detail: Mapped[str] = mapped_column(Text, default="")
    superseded_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_superseded_reports_campaign_vehicle", "campaign_id", "vehicle_id"),)


class Approval(Base):
    """A regulator's (or the SUMS process's) approval of a release for a market (UN R156 §7.1)."""

    __tablename__ = "approvals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    release_id: Mapped[str] = mapped_column(ForeignKey("releases.id"))
    market: Mapped[str] = mapped_column(String(32))
    authority: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(200))
    approved_by: Mapped[str] = mapped_column(String(128))
    approved_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (UniqueConstraint("release_id", "market"),)


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(32))  # viewer | engineer | release_manager | admin
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Token(Base):
    """A bearer token, stored only as its SHA-256 digest."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class SeenSignature(Base):
    """A signed vehicle request already accepted, kept until its timestamp leaves the replay window.

    The digest's uniqueness is the replay check (an insert that conflicts is a replay); ``expires_at``
    (unix seconds, indexed) lets expired rows be purged oldest first in small batches.
    """

    __tablename__ = "seen_signatures"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the signature, hex
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class BuildMark(Base):
    """A multi-transaction build of the database (the demo fleet): ``building`` until it finished."""

    __tablename__ = "build_marks"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # building | complete
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class FleetGroup(Base):
    """A saved fleet filter query (a dynamic group): its vehicles are found again each time it is used."""

    __tablename__ = "fleet_groups"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    query: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RateCounter(Base):
    """Requests of one caller (a vehicle, an operator token) in the current window of a rate limit.

    One row per caller seen within a window, reused from window to window: the upsert in
    ``store.rate_limits`` increments ``hits`` within ``window_start``'s window and starts again at 1
    in a newer one. ``expires_at`` (unix seconds, indexed) lets rows of callers gone quiet be purged
    oldest first, so the table holds at most the callers active during the last window.
    """

    __tablename__ = "rate_counters"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)  # "<scope>:<caller>" (a digest when long)
    window_start: Mapped[int] = mapped_column(BigInteger)  # unix seconds, a multiple of the window
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


# --- EU Data Act: owners, data recipients, consents, access log, webhooks (migration 0013) ---------


class DataOwner(Base):
    """A vehicle owner (the Data Act's "user"): an account kind of its own, never an operator."""

    __tablename__ = "data_owners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OwnerToken(Base):
    """An owner's sign-in token, stored only as its SHA-256 digest (like operators' tokens, apart)."""

    __tablename__ = "owner_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("data_owners.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class OwnedVehicle(Base):
    """Which owner a vehicle belongs to (one owner per vehicle)."""

    __tablename__ = "owned_vehicles"
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("data_owners.id", ondelete="CASCADE"), index=True)


class DataRecipient(Base):
    """A third party registered in the product; an OAuth 2.0 confidential client (secret as a digest)."""

    __tablename__ = "data_recipients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class RecipientToken(Base):
    """An OAuth access token issued to a recipient (digest only), with its scopes (data categories)."""

    __tablename__ = "recipient_tokens"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("data_recipients.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(500))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class DataGrant(Base):
    """An owner's consent: one recipient may read chosen categories of one vehicle for a period."""

    __tablename__ = "data_grants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("data_owners.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("data_recipients.id", ondelete="CASCADE"))
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"))
    categories: Mapped[list[str]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_data_grants_recipient_vehicle", "recipient_id", "vehicle_id"),)


class DataAccessEntry(Base):
    """Every grant, revocation, export and third-party access (or refusal) of a vehicle's data."""

    __tablename__ = "data_access_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))  # grant | revoke | export | read | refused | webhook
    categories: Mapped[list[str]] = mapped_column(JSON)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (Index("ix_data_access_vehicle_at", "vehicle_id", "at"),)


class WebhookSubscription(Base):
    """A recipient's HTTPS endpoint for events of the categories it holds consent for."""

    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("data_recipients.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(128))  # the HMAC-SHA256 key both sides hold
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WebhookDelivery(Base):
    """One event to deliver: pending, delivered, or dead (retries exhausted — the dead-letter list)."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_error: Mapped[str] = mapped_column(String(500), default="")

    __table_args__ = (Index("ix_webhook_deliveries_state_next", "state", "next_attempt_at"),)
