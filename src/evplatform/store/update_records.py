"""Update evidence (migration 0004) and the joined rows update records are built from.

``update_reports`` says how an update ended; ``update_evidence`` keeps what UN R156 §7.1.2/§7.2.2
and GB 44496 also ask for, captured when the vehicle was offered the update: the RXSWIN and the
version before and after, the hardware found on the ECU, whether the configuration matched the
release's expression, the preconditions the vehicle checked and what the user was shown. One row
per (campaign, vehicle), inserted with ON CONFLICT DO NOTHING like the reports, so a repeated
offer after a controller crash keeps the first evidence.

The table is declared here on the shared ``Base`` (not in ``schema.py``) because this module is
the only code that reads or writes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from evplatform.errors import StoreError
from evplatform.store._sql import insert_ignore
from evplatform.store.database import Store, id_clauses
from evplatform.store.schema import (
    Base,
    Campaign,
    CampaignVehicle,
    Configuration,
    Release,
    TelemetryEvent,
    UpdateReport,
    UtcDateTime,
    Vehicle,
)

CHUNK = 20_000
CONSENTS = ("accepted", "forced")


class UpdateEvidence(Base):
    __tablename__ = "update_evidence"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("vehicles.id", ondelete="CASCADE"), primary_key=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version_before: Mapped[str | None] = mapped_column(String(32))
    rxswin_before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    rxswin_after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    hardware_id_found: Mapped[str | None] = mapped_column(String(64))
    configuration_matches: Mapped[bool] = mapped_column(Boolean)
    parked: Mapped[bool | None] = mapped_column(Boolean)
    state_of_charge_pct: Mapped[float | None] = mapped_column(Float)
    soc_threshold_pct: Mapped[float] = mapped_column(Float)
    notes_shown: Mapped[bool | None] = mapped_column(Boolean)
    consent: Mapped[str | None] = mapped_column(String(16))


EVIDENCE_FIELDS = (
    "campaign_id", "vehicle_id", "recorded_at", "version_before", "rxswin_before", "rxswin_after",
    "hardware_id_found", "configuration_matches", "parked", "state_of_charge_pct", "soc_threshold_pct",
    "notes_shown", "consent",
)


def save_evidence(store: Store, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert evidence rows (keys: ``EVIDENCE_FIELDS``); a (campaign, vehicle) already recorded is kept."""
    if not rows:
        return
    for row in rows:
        missing = [f for f in EVIDENCE_FIELDS if f not in row]
        if missing:
            raise StoreError(f"update evidence row lacks {', '.join(missing)}")
        if row["consent"] is not None and row["consent"] not in CONSENTS:
            raise StoreError(f"unknown consent {row['consent']!r} (known: {', '.join(CONSENTS)})")
    ordered = sorted(rows, key=lambda r: (r["campaign_id"], r["vehicle_id"]))  # one lock order for every writer
    with store.session() as session:
        statement = insert_ignore(session, UpdateEvidence, ("campaign_id", "vehicle_id"))
        for start in range(0, len(ordered), CHUNK):
            session.execute(statement, [{f: r[f] for f in EVIDENCE_FIELDS} for r in ordered[start : start + CHUNK]])


@dataclass(frozen=True, slots=True)
class VehicleState:
    """What a vehicle carries right now: the evidence "before" an update."""

    id: int
    vin: str
    market: str
    configuration: frozenset[str]
    hardware_ids: Mapping[str, str]
    software: Mapping[str, Mapping[str, str]]
    rxswin: Mapping[str, str]
    consent_updates: bool


def vehicle_states(store: Store, vehicle_ids: Iterable[int]) -> dict[int, VehicleState]:
    """The current state of the given vehicles, by database id."""
    ids = np.fromiter(vehicle_ids, dtype=np.int64)
    out: dict[int, VehicleState] = {}
    columns = (Vehicle.id, Vehicle.vin, Vehicle.market, Configuration.features, Vehicle.hardware_ids,
               Vehicle.software, Vehicle.rxswin, Vehicle.consent_updates)
    with store.session() as session:
        for clause in id_clauses(session, Vehicle.id, ids):
            query = select(*columns).join(Configuration, Configuration.id == Vehicle.configuration_id).where(clause)
            for vid, vin, market, features, hardware, software, rxswin, consent in session.execute(query):
                out[int(vid)] = VehicleState(
                    int(vid), vin, market, frozenset(features.split()), dict(hardware or {}), dict(software or {}),
                    dict(rxswin or {}), bool(consent),
                )
    return out


def latest_soc(store: Store, vehicle_ids: Iterable[int], now: datetime) -> dict[int, tuple[float | None, Any]]:
    """Per vehicle, the value and detail of its latest ``soc`` telemetry event at or before ``now``."""
    ids = np.fromiter(vehicle_ids, dtype=np.int64)
    out: dict[int, tuple[float | None, Any]] = {}
    with store.session() as session:
        for clause in id_clauses(session, TelemetryEvent.vehicle_id, ids):
            latest = (
                select(TelemetryEvent.vehicle_id, func.max(TelemetryEvent.at).label("at"))
                .where(TelemetryEvent.kind == "soc", TelemetryEvent.at <= now, clause)
                .group_by(TelemetryEvent.vehicle_id)
                .subquery()
            )
            query = select(TelemetryEvent.vehicle_id, TelemetryEvent.value, TelemetryEvent.detail).join(
                latest, (latest.c.vehicle_id == TelemetryEvent.vehicle_id) & (latest.c.at == TelemetryEvent.at)
            ).where(TelemetryEvent.kind == "soc")
            for vid, value, detail in session.execute(query):
                out[int(vid)] = (value, detail)
    return out


@dataclass(frozen=True, slots=True)
class UpdateRow:
    """One update report joined with its vehicle, campaign, release and (when recorded) evidence."""

    vin: str
    market: str
    configuration: frozenset[str]
    hardware_ids: Mapping[str, str]
    campaign_id: int
    campaign: str
    forced: bool
    release_id: str
    component: str
    ecu: str
    hardware_id: str
    version: str
    compatible: str
    notes: str
    outcome: str
    detail: str
    reported_at: datetime
    offered_at: datetime | None
    evidence: Mapping[str, Any] | None


def update_rows(store: Store, *, campaign_id: int | None = None, vin: str | None = None) -> list[UpdateRow]:
    """Every final update report of a campaign, of a vehicle, or both (None: no filter), oldest first."""
    evidence_columns = [getattr(UpdateEvidence, f) for f in EVIDENCE_FIELDS[2:]]
    query = (
        select(
            Vehicle.vin, Vehicle.market, Configuration.features, Vehicle.hardware_ids, Campaign.id, Campaign.name,
            Campaign.forced, Release.id, Release.component, Release.ecu, Release.hardware_id, Release.version,
            Release.compatible, Release.notes, UpdateReport.outcome, UpdateReport.detail, UpdateReport.at,
            CampaignVehicle.offered_at, UpdateEvidence.campaign_id, *evidence_columns,
        )
        .join(Vehicle, Vehicle.id == UpdateReport.vehicle_id)
        .join(Configuration, Configuration.id == Vehicle.configuration_id)
        .join(Campaign, Campaign.id == UpdateReport.campaign_id)
        .join(Release, Release.id == UpdateReport.release_id)
        .outerjoin(CampaignVehicle, (CampaignVehicle.campaign_id == UpdateReport.campaign_id)
                   & (CampaignVehicle.vehicle_id == UpdateReport.vehicle_id))
        .outerjoin(UpdateEvidence, (UpdateEvidence.campaign_id == UpdateReport.campaign_id)
                   & (UpdateEvidence.vehicle_id == UpdateReport.vehicle_id))
        .order_by(UpdateReport.at, Vehicle.vin, Campaign.id)
    )
    if campaign_id is not None:
        query = query.where(UpdateReport.campaign_id == campaign_id)
    if vin is not None:
        query = query.where(Vehicle.vin == vin)
    out: list[UpdateRow] = []
    with store.session() as session:
        for row in session.execute(query.execution_options(yield_per=CHUNK)):
            (vin_, market, features, hardware, cid, name, forced, rid, component, ecu, hw, version, compatible,
             notes, outcome, detail, at, offered_at, evidence_key, *evidence) = row
            out.append(UpdateRow(
                vin_, market, frozenset(features.split()), dict(hardware or {}), int(cid), name, bool(forced), rid,
                component, ecu, hw, version, compatible, notes, outcome, detail, at, offered_at,
                None if evidence_key is None else dict(zip(EVIDENCE_FIELDS[2:], evidence, strict=True)),
            ))
    return out
