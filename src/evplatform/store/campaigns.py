"""Releases, approvals, campaigns, waves, per-vehicle campaign state and update reports.

Campaign state lives here and only here, so a controller killed at any instant resumes from the
database: every step below is one transaction that moves a set of vehicles from one state to
the next. Reports are inserted with ``ON CONFLICT DO NOTHING`` on the (campaign, vehicle) key and
a vehicle's state and installed software change only on its transition out of
``pending``/``offered``, so a repeated report neither counts nor installs twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    JSON,
    ColumnElement,
    Text,
    and_,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from evplatform.errors import StoreError
from evplatform.store.database import Store, id_clauses
from evplatform.store.schema import (
    AuditEntry,
    Campaign,
    CampaignVehicle,
    Release,
    UpdateReport,
    Vehicle,
    Wave,
)

CHUNK = 20_000
OPEN_STATES = ("pending", "offered")
FINAL_OUTCOMES = ("succeeded", "failed", "rolled_back")


@dataclass(frozen=True, slots=True)
class WaveRecord:
    index: int
    fraction: float
    size: int
    success_threshold: float
    error_threshold: float
    state: str
    started_at: datetime | None
    finished_at: datetime | None
    soak_hours: float = 0.0


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    id: int
    name: str
    release_id: str
    state: str
    forced: bool
    target: Mapping[str, Any]
    window_start: str | None
    window_end: str | None
    seed: int
    current_wave: int
    halt_reason: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    last_tick_at: datetime | None
    timezones: tuple[str, ...]
    waves: tuple[WaveRecord, ...]


# --- campaigns ----------------------------------------------------------------------------------


def create_campaign(
    store: Store,
    *,
    name: str,
    release_id: str,
    target: Mapping[str, Any],
    waves: Sequence[tuple[float, float, float, float]],
    forced: bool,
    window: tuple[str, str] | None,
    seed: int,
    created_by: str,
    at: datetime,
) -> int:
    """A draft campaign with its waves ``(cumulative fraction, success, error threshold, soak hours)``."""
    with store.session() as session:
        if session.get(Release, release_id) is None:
            raise StoreError(f"no release {release_id!r}")
        campaign = Campaign(
            name=name,
            release_id=release_id,
            state="draft",
            forced=forced,
            target=dict(target),
            window_start=window[0] if window else None,
            window_end=window[1] if window else None,
            seed=seed,
            current_wave=0,
            created_by=created_by,
            created_at=at,
        )
        session.add(campaign)
        session.flush()
        for index, (fraction, success, error, soak_hours) in enumerate(waves):
            session.add(
                Wave(
                    campaign_id=campaign.id,
                    index=index,
                    fraction=fraction,
                    size=0,
                    success_threshold=success,
                    error_threshold=error,
                    soak_hours=soak_hours,
                    state="pending",
                )
            )
        _audit(session, created_by, "campaign.create", f"campaign:{campaign.id}", {"release": release_id})
        return campaign.id


def _campaign_record(session: Session, c: Campaign) -> CampaignRecord:
    waves = session.scalars(select(Wave).where(Wave.campaign_id == c.id).order_by(Wave.index))
    return CampaignRecord(
        id=c.id,
        name=c.name,
        release_id=c.release_id,
        state=c.state,
        forced=c.forced,
        target=dict(c.target),
        window_start=c.window_start,
        window_end=c.window_end,
        seed=c.seed,
        current_wave=c.current_wave,
        halt_reason=c.halt_reason,
        created_by=c.created_by,
        created_at=c.created_at,
        started_at=c.started_at,
        finished_at=c.finished_at,
        last_tick_at=c.last_tick_at,
        timezones=tuple(c.timezones or ()),
        waves=tuple(
            WaveRecord(
                w.index, w.fraction, w.size, w.success_threshold, w.error_threshold, w.state, w.started_at,
                w.finished_at, w.soak_hours,
            )
            for w in waves
        ),
    )


def campaign(store: Store, campaign_id: int) -> CampaignRecord:
    with store.session() as session:
        found = session.get(Campaign, campaign_id)
        if found is None:
            raise StoreError(f"no campaign {campaign_id}")
        return _campaign_record(session, found)


def list_campaigns(store: Store, *, release_id: str | None = None) -> list[CampaignRecord]:
    query = select(Campaign).order_by(Campaign.id)
    if release_id is not None:
        query = query.where(Campaign.release_id == release_id)
    with store.session() as session:
        return [_campaign_record(session, c) for c in session.scalars(query)]


def transition(
    store: Store,
    campaign_id: int,
    *,
    allowed_from: Sequence[str],
    to: str,
    actor: str,
    at: datetime,
    reason: str | None = None,
) -> bool:
    """Move a campaign to state ``to`` if it is in one of ``allowed_from``; False if it was not.

    The check and the write are one UPDATE, so two operators (or the controller and an
    operator) racing on one campaign cannot both win.
    """
    values: dict[str, Any] = {"state": to}
    if reason is not None:
        values["halt_reason"] = reason
    if to in ("cancelled", "completed", "halted"):
        values["finished_at"] = at
    if to == "running":
        values["finished_at"] = None
    with store.session() as session:
        result = session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.state.in_(allowed_from))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        changed = bool(result.rowcount)  # type: ignore[attr-defined]
        if changed:
            if to == "halted":
                session.execute(
                    update(Wave)
                    .where(Wave.campaign_id == campaign_id, Wave.state == "active")
                    .values(state="halted", finished_at=at)
                )
            if to == "cancelled":
                # Vehicles not yet offered never will be; an offered one may already be installing
                # and still reports (hawkBit: a device may finish an action being cancelled).
                session.execute(
                    update(CampaignVehicle)
                    .where(CampaignVehicle.campaign_id == campaign_id, CampaignVehicle.state == "pending")
                    .values(state="cancelled")
                )
            _audit(session, actor, f"campaign.{to}", f"campaign:{campaign_id}", {"reason": reason})
        return changed


def assign_targets(
    store: Store,
    campaign_id: int,
    vehicle_ids: np.ndarray,
    waves: np.ndarray,
    cohorts: np.ndarray,
    *,
    timezones: Sequence[str],
    actor: str,
    at: datetime,
) -> None:
    """Start a draft campaign: write its targets with their wave and cohort, open wave 0.

    One transaction: either the campaign is running with all its targets, or still a draft.
    """
    with store.session() as session:
        started = session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.state == "draft")
            .values(state="running", started_at=at, current_wave=0, last_tick_at=at, timezones=sorted(timezones))
            .execution_options(synchronize_session=False)
        )
        if not started.rowcount:  # type: ignore[attr-defined]
            raise StoreError(f"campaign {campaign_id} is not a draft any more")
        ids = vehicle_ids.tolist()
        wave_list = waves.tolist()
        cohort_list = cohorts.tolist()
        for start in range(0, len(ids), CHUNK):
            session.execute(
                insert(CampaignVehicle),
                [
                    {"campaign_id": campaign_id, "vehicle_id": v, "wave": w, "cohort": c, "state": "pending",
                     "attempts": 0}
                    for v, w, c in zip(
                        ids[start : start + CHUNK], wave_list[start : start + CHUNK],
                        cohort_list[start : start + CHUNK], strict=True,
                    )
                ],
            )
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE campaign_vehicles"))  # fresh statistics for the planner
        sizes = np.bincount(waves, minlength=0) if len(waves) else np.zeros(0, dtype=np.int64)
        for index in range(len(sizes)):
            session.execute(
                update(Wave).where(Wave.campaign_id == campaign_id, Wave.index == index).values(size=int(sizes[index]))
            )
        session.execute(
            update(Wave).where(Wave.campaign_id == campaign_id, Wave.index == 0).values(state="active", started_at=at)
        )
        _audit(session, actor, "campaign.start", f"campaign:{campaign_id}", {"targets": len(ids)})


def advance_wave(store: Store, campaign_id: int, from_wave: int, *, at: datetime, last: bool) -> None:
    """Close wave ``from_wave``; open the next one, or complete the campaign after the last."""
    with store.session() as session:
        session.execute(
            update(Wave)
            .where(Wave.campaign_id == campaign_id, Wave.index == from_wave)
            .values(state="done", finished_at=at)
        )
        if last:
            session.execute(
                update(Campaign)
                .where(Campaign.id == campaign_id, Campaign.state == "running")
                .values(state="completed", finished_at=at)
            )
            _audit(session, "controller", "campaign.completed", f"campaign:{campaign_id}", {})
        else:
            session.execute(
                update(Wave)
                .where(Wave.campaign_id == campaign_id, Wave.index == from_wave + 1)
                .values(state="active", started_at=at)
            )
            session.execute(update(Campaign).where(Campaign.id == campaign_id).values(current_wave=from_wave + 1))
            _audit(session, "controller", "wave.open", f"campaign:{campaign_id}", {"wave": from_wave + 1})


def set_clock(store: Store, campaign_id: int, at: datetime) -> None:
    with store.session() as session:
        session.execute(update(Campaign).where(Campaign.id == campaign_id).values(last_tick_at=at))


# --- per-vehicle progress -----------------------------------------------------------------------


def offer_pending(
    store: Store,
    campaign_id: int,
    *,
    max_wave: int,
    timezones: Sequence[str] | None,
    now: datetime,
    reoffer_before: datetime,
) -> tuple[np.ndarray, np.ndarray]:
    """Mark as offered the vehicles of waves ≤ ``max_wave`` that are pending (or offered before
    ``reoffer_before`` without an answer) and whose timezone is in ``timezones`` (None: any).

    Returns the offered vehicle ids and their cohorts. The offer is committed before anything is
    sent, so after a crash the same vehicles are offered again and report idempotently.
    """
    due = or_(
        CampaignVehicle.state == "pending",
        and_(CampaignVehicle.state == "offered", CampaignVehicle.offered_at <= reoffer_before),
    )
    conditions: list[ColumnElement[bool]] = [
        CampaignVehicle.campaign_id == campaign_id,
        CampaignVehicle.wave <= max_wave,
        due,
    ]
    if timezones is not None:
        if not timezones:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
        conditions.append(
            CampaignVehicle.vehicle_id.in_(select(Vehicle.id).where(Vehicle.timezone.in_(list(timezones))))
        )
    statement = (
        update(CampaignVehicle)
        .where(*conditions)
        .values(state="offered", attempts=CampaignVehicle.attempts + 1, offered_at=now)
        .returning(CampaignVehicle.vehicle_id, CampaignVehicle.cohort)
        .execution_options(synchronize_session=False)
    )
    with store.session() as session:
        rows = session.execute(statement).all()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    cohorts = np.array([r[1] for r in rows], dtype=object)
    order = np.argsort(ids, kind="stable")
    return ids[order], cohorts[order]


def return_to_pending(store: Store, campaign_id: int, vehicle_ids: np.ndarray) -> None:
    """Vehicles whose driver postponed a soft update go back to pending for the next window."""
    with store.session() as session:
        for clause in id_clauses(session, CampaignVehicle.vehicle_id, vehicle_ids):
            session.execute(
                update(CampaignVehicle)
                .where(CampaignVehicle.campaign_id == campaign_id, CampaignVehicle.state == "offered", clause)
                .values(state="pending")
                .execution_options(synchronize_session=False)
            )


def record_reports(
    store: Store,
    campaign_id: int,
    vehicle_ids: np.ndarray,
    outcomes: np.ndarray,
    *,
    at: datetime,
    details: Sequence[str] | None = None,
    telemetry_rows: Sequence[Mapping[str, Any]] = (),
) -> int:
    """Record final outcomes; returns how many vehicles reached a final state with this call.

    Reports of vehicles that already have one are ignored (the (campaign, vehicle) key), and only
    vehicles still pending or offered change state, so the call can be repeated safely. A
    succeeded vehicle's installed software on the release's ECU is updated in the same
    transaction. ``telemetry_rows`` (e.g. crash reports) are stored in that transaction too.
    """
    if len(vehicle_ids) == 0:
        return 0
    bad = set(np.unique(outcomes).tolist()) - set(FINAL_OUTCOMES)
    if bad:
        raise StoreError(f"unknown report outcome(s) {sorted(bad)} (known: {', '.join(FINAL_OUTCOMES)})")
    with store.session() as session:
        found = session.get(Campaign, campaign_id)
        if found is None:
            raise StoreError(f"no campaign {campaign_id}")
        target = session.get(Release, found.release_id)
        assert target is not None  # foreign key
        # One key order for every writer, so two workers reporting overlapping vehicles wait for
        # each other instead of deadlocking.
        order = np.argsort(vehicle_ids, kind="stable")
        ids = vehicle_ids[order].tolist()
        outs = outcomes[order].tolist()
        texts = [details[i] for i in order.tolist()] if details is not None else [""] * len(ids)
        insert_reports = _insert_ignore(session)
        for start in range(0, len(ids), CHUNK):
            rows = [
                {"campaign_id": campaign_id, "vehicle_id": v, "release_id": target.id, "outcome": o, "at": at,
                 "detail": d}
                for v, o, d in zip(ids[start : start + CHUNK], outs[start : start + CHUNK],
                                   texts[start : start + CHUNK], strict=True)
            ]
            session.execute(insert_reports, rows)
        software = _json_set(session, Vehicle.software, target.ecu, {"component": target.component,
                                                                   "version": target.version})
        # The vehicles this call moves to a final state: still open, with a report written now.
        # Filtering on the report time (indexed) rather than on the id list keeps both statements
        # cheap on PostgreSQL, where a long "= ANY(array)" filter is compared row by row.
        fresh = and_(UpdateReport.campaign_id == campaign_id, UpdateReport.at == at,
                     UpdateReport.vehicle_id == CampaignVehicle.vehicle_id,
                     CampaignVehicle.campaign_id == campaign_id, CampaignVehicle.state.in_(OPEN_STATES))
        newly_succeeded = select(CampaignVehicle.vehicle_id).where(fresh, UpdateReport.outcome == "succeeded")
        session.execute(
            update(Vehicle).where(Vehicle.id.in_(newly_succeeded)).values(software=software)
            .execution_options(synchronize_session=False)
        )
        _renew_rxswin(session, newly_succeeded, target.id)
        result = session.execute(
            update(CampaignVehicle).where(fresh).values(state=UpdateReport.outcome)
            .execution_options(synchronize_session=False)
        )
        changed = int(result.rowcount)  # type: ignore[attr-defined]
        # A report of a vehicle cancelled before it was offered is not kept: it was never asked.
        session.execute(
            delete(UpdateReport)
            .where(UpdateReport.campaign_id == campaign_id, UpdateReport.at == at,
                   UpdateReport.vehicle_id.in_(select(CampaignVehicle.vehicle_id).where(
                       CampaignVehicle.campaign_id == campaign_id, CampaignVehicle.state == "cancelled")))
            .execution_options(synchronize_session=False)
        )
        if telemetry_rows:
            from evplatform.store.vehicles import insert_telemetry

            insert_telemetry(store, telemetry_rows, session=session)
        return changed


def _now_of(at: datetime | None) -> datetime:
    return at or datetime.now(UTC)


def _audit(session: Session, actor: str, action: str, subject: str, detail: dict[str, Any]) -> None:
    session.add(AuditEntry(at=_now_of(None), actor=actor, action=action, subject=subject, detail=detail))


def _insert_ignore(session: Session) -> Any:
    """INSERT … ON CONFLICT DO NOTHING on the report key, in the session's dialect."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(UpdateReport).on_conflict_do_nothing(index_elements=["campaign_id", "vehicle_id"])
    if name == "sqlite":
        return sqlite.insert(UpdateReport).on_conflict_do_nothing(index_elements=["campaign_id", "vehicle_id"])
    raise StoreError(f"unsupported database dialect {name!r} (SQLite and PostgreSQL are supported)")


def next_rxswin(current: str, release_id: str) -> str:
    """The RXSWIN after installing a release: same type prefix, new software identification.

    UN R156 §7.2.1.2: the RXSWIN must change when an update changes type-approved software and be
    readable from the vehicle; every release is treated as relevant to the type approval here.
    """
    prefix = current.rsplit("-", 1)[0]
    return f"{prefix}-{hashlib.sha256(f'{current}+{release_id}'.encode()).hexdigest()[:10].upper()}"


def _renew_rxswin(session: Session, vehicles: Any, release_id: str) -> None:
    """Give the vehicles that just installed ``release_id`` their next RXSWIN (UNECE markets only).

    Vehicles of one type share an RXSWIN, so this is one UPDATE per distinct current value.
    """
    current = Vehicle.rxswin["R156"].as_string()
    values = session.scalars(select(current).where(Vehicle.id.in_(vehicles), current.is_not(None)).distinct()).all()
    for value in values:
        session.execute(
            update(Vehicle)
            .where(Vehicle.id.in_(vehicles), current == value)
            .values(rxswin=_json_set(session, Vehicle.rxswin, "R156", next_rxswin(value, release_id)))
            .execution_options(synchronize_session=False)
        )


def _json_set(session: Session, column: Any, key: str, value: Mapping[str, str] | str) -> Any:
    """``column`` with ``column[key] = value``, computed by the database."""
    text = json.dumps(value if isinstance(value, str) else dict(value), sort_keys=True)
    if session.get_bind().dialect.name == "postgresql":
        path = postgresql.array([key], type_=Text())
        return cast(func.jsonb_set(cast(column, JSONB), path, cast(literal(text, Text()), JSONB)), JSON)
    return func.json_set(column, f'$."{key}"', func.json(literal(text, Text())))
