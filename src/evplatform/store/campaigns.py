"""Campaigns and their waves: creation, the operator's and the controller's state changes.

Campaign state lives here and only here, so a controller killed at any instant resumes from the
database: every step below is one transaction, and a state change is one conditional UPDATE, so
two writers racing on one campaign cannot both win. The per-vehicle half (offers, reports) is in
``store.reports``; its names are re-exported here for the controller.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    case,
    cast,
    false,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Grouping

from evplatform.errors import ConflictError, NotFoundError
from evplatform.store._sql import audit
from evplatform.store.campaign_history import add_event
from evplatform.store.database import Store
from evplatform.store.planning import CELL_COLUMNS, cell_keys
from evplatform.store.reports import (
    FINAL_OUTCOMES,
    OPEN_STATES,
    RxswinRule,
    offer_pending,
    record_reports,
    return_to_pending,
)
from evplatform.store.schema import Campaign, CampaignVehicle, Release, Vehicle, Wave

logger = logging.getLogger(__name__)

__all__ = [
    "FINAL_OUTCOMES",
    "OPEN_STATES",
    "CampaignRecord",
    "CellAssignment",
    "RxswinRule",
    "TargetAssignment",
    "WaveRecord",
    "advance_wave",
    "assign_cell_targets",
    "assign_targets",
    "campaign",
    "create_campaign",
    "list_campaigns",
    "offer_pending",
    "record_reports",
    "return_to_pending",
    "set_clock",
    "transition",
]

CHUNK = 20_000


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
    consent: str = "auto"  # the consent rule, fleet.gates.CONSENT_RULES


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
    assignment: TargetAssignment | CellAssignment | None = None,
    consent: str = "auto",
) -> int:
    """A draft campaign with its waves ``(cumulative fraction, success, error threshold, soak hours)``.

    With ``assignment`` the campaign is started with those targets in the same transaction: it
    exists running with all its targets, or not at all (a refused start once left a draft behind)."""
    with store.session() as session:
        if session.get(Release, release_id) is None:
            raise NotFoundError("release", release_id)
        campaign = Campaign(
            name=name,
            release_id=release_id,
            state="draft",
            forced=forced,
            consent=consent,
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
        _add_waves(session, campaign.id, waves)
        audit(session, store.now(), created_by, "campaign.create", f"campaign:{campaign.id}", {"release": release_id})
        if assignment is not None:
            _assign(session, store, campaign.id, assignment, actor=created_by, at=at)
        return campaign.id


def _add_waves(session: Session, campaign_id: int, waves: Sequence[tuple[float, float, float, float]]) -> None:
    for index, (fraction, success, error, soak_hours) in enumerate(waves):
        session.add(
            Wave(
                campaign_id=campaign_id,
                index=index,
                fraction=fraction,
                size=0,
                success_threshold=success,
                error_threshold=error,
                soak_hours=soak_hours,
                state="pending",
            )
        )
    session.flush()


@dataclass(frozen=True, slots=True)
class TargetAssignment:
    """The vehicles a campaign starts with: their wave and cohort, and the time zones among them."""

    vehicle_ids: np.ndarray
    waves: np.ndarray
    cohorts: np.ndarray
    timezones: Sequence[str]


@dataclass(frozen=True, slots=True)
class CellAssignment:
    """The vehicles a campaign starts with, named by the fleet cells they are in rather than one by one.

    ``cells`` holds the target cells (``store.planning.CELL_COLUMNS`` -> one value per cell, plus
    ``cohort``); the targets are the vehicles in them in id order, and ``waves[i]`` is the wave of the
    i-th of them. The start writes them with one ``INSERT … SELECT`` from ``vehicles``: a million
    targets never travel to Python and back.
    """

    ecu: str
    cells: Mapping[str, Sequence[Any]]
    waves: np.ndarray
    timezones: Sequence[str]


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
        consent=c.consent or "auto",
    )


def campaign(store: Store, campaign_id: int) -> CampaignRecord:
    with store.session() as session:
        found = session.get(Campaign, campaign_id)
        if found is None:
            raise NotFoundError("campaign", campaign_id)
        return _campaign_record(session, found)


def list_campaigns(store: Store, *, release_id: str | None = None) -> list[CampaignRecord]:
    query = select(Campaign).order_by(Campaign.id)
    if release_id is not None:
        query = query.where(Campaign.release_id == release_id)
    with store.session() as session:
        return [_campaign_record(session, c) for c in session.scalars(query)]


#: The history's name of a move to each state, when the caller names none.
ACTION_OF = {"halted": "halt", "paused": "pause", "running": "resume", "cancelled": "cancel",
             "acknowledged": "ack", "completed": "complete"}


def transition(
    store: Store,
    campaign_id: int,
    *,
    allowed_from: Sequence[str],
    to: str,
    actor: str,
    at: datetime,
    reason: str | None = None,
    action: str | None = None,
) -> bool:
    """Move a campaign to state ``to`` if it is in one of ``allowed_from``; False if it was not.

    The UPDATE is conditional on the state read in the same transaction, so two operators (or the
    controller and an operator) racing on one campaign cannot both win. The change is written to the
    campaign's history (``store.campaign_history``) and the audit log in that transaction. Only a
    halt writes ``halt_reason``: a cancel's or acknowledgement's reason goes to the history, and the
    halt's evidence (its reason, the halted wave) stays as it was. Resuming an acknowledged halt
    reopens the halted wave.
    """
    with store.session() as session:
        before = session.scalar(select(Campaign.state).where(Campaign.id == campaign_id))
        if before is None or before not in allowed_from:
            return False
        values: dict[str, Any] = {"state": to}
        if to == "halted":
            values["halt_reason"] = reason
        if to in ("cancelled", "completed", "halted"):
            values["finished_at"] = at
        if to == "running":
            values["finished_at"] = None
            if before == "acknowledged":
                values["halt_reason"] = None  # the halt is over; its reason stays in the history
        result = session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.state == before)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        changed = bool(result.rowcount)  # type: ignore[attr-defined]
        if changed:
            _after_transition(session, campaign_id, before, to, at)
            add_event(session, campaign_id, at=store.now(), actor=actor, action=action or ACTION_OF.get(to, to),
                      from_state=before, to_state=to, reason=reason)
            audit(session, store.now(), actor, f"campaign.{to}", f"campaign:{campaign_id}", {"reason": reason})
    if changed:
        log = logger.warning if to == "halted" else logger.info
        log("campaign %d is %s (by %s)%s", campaign_id, to, actor, f": {reason}" if reason else "", extra={
            "event": "campaign_state", "campaign": campaign_id, "state": to, "actor": actor, "reason": reason})
    return changed


def _after_transition(session: Session, campaign_id: int, before: str, to: str, at: datetime) -> None:
    """What a state change does to waves and vehicles besides the campaign row."""
    if to == "halted":
        session.execute(
            update(Wave)
            .where(Wave.campaign_id == campaign_id, Wave.state == "active")
            .values(state="halted", finished_at=at)
        )
    if to == "running" and before == "acknowledged":
        session.execute(
            update(Wave)
            .where(Wave.campaign_id == campaign_id, Wave.state == "halted",
                   Wave.index == select(Campaign.current_wave).where(Campaign.id == campaign_id).scalar_subquery())
            .values(state="active", finished_at=None)
        )
    if to == "cancelled":
        # Vehicles not yet offered never will be; an offered one may already be installing
        # and still reports (hawkBit: a device may finish an action being cancelled). Waves keep
        # their states: a halted wave stays halted, the evidence of why the campaign stopped.
        session.execute(
            update(CampaignVehicle)
            .where(CampaignVehicle.campaign_id == campaign_id, CampaignVehicle.state == "pending")
            .values(state="cancelled")
        )


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
        _assign(session, store, campaign_id, TargetAssignment(vehicle_ids, waves, cohorts, timezones),
                actor=actor, at=at)


def assign_cell_targets(store: Store, campaign_id: int, assignment: CellAssignment, *, actor: str,
                        at: datetime) -> None:
    """``assign_targets`` for targets named by their fleet cells (one transaction too)."""
    with store.session() as session:
        _assign(session, store, campaign_id, assignment, actor=actor, at=at)


#: Targets per statement on PostgreSQL, sent as arrays (``unnest``) rather than one parameter set per row.
ARRAY_CHUNK = 200_000
_INSERT_TARGETS = text(
    "INSERT INTO campaign_vehicles (campaign_id, vehicle_id, wave, cohort, state, attempts) "
    "SELECT :campaign, t.vehicle_id, t.wave, t.cohort, 'pending', 0 "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:waves AS integer[]), CAST(:cohorts AS varchar[])) "
    "AS t(vehicle_id, wave, cohort)"
)


#: Joins the columns of a cell into one key (a control character no name contains).
_SEPARATOR = "\x1f"


def _cell_key(values: Sequence[Any]) -> str:
    """A cell's key as ``_cell_key_sql`` spells it in SQL: text, "1"/"0" for the consent flag."""
    return _SEPARATOR.join(("1" if v else "0") if isinstance(v, bool | np.bool_) else str(v) for v in values)


def _cell_key_sql(ecu: str) -> ColumnElement[str]:
    """A vehicle's cell as one text (``CELL_COLUMNS`` joined; an absent ECU reads ``""``, as ``target_cells``
    reports it): the targets are then ``key IN (…)``, which PostgreSQL hashes and answers in one
    sequential read of the vehicles, where a join on nine columns was planned as a loop of index scans
    (it cannot estimate the JSON columns)."""
    parts: list[ColumnElement[str]] = []
    for name, column in zip(CELL_COLUMNS, cell_keys(ecu), strict=True):
        if name == "consent_updates":
            parts.append(case((column.is_(True), "1"), else_="0"))
        elif name == "configuration_id":
            parts.append(cast(column, String))
        else:
            parts.append(func.coalesce(column, ""))
    key = parts[0]
    for part in parts[1:]:
        key = key + _SEPARATOR + part
    return key


def _insert_cell_targets(session: Session, campaign_id: int, assignment: CellAssignment) -> int:
    """Insert the vehicles of the target cells with their wave and cohort, set-based; how many.

    The vehicles whose cell key is a target cell's are numbered in id order; the i-th gets
    ``waves[i]`` (one array on PostgreSQL; a temporary table keyed by the number on SQLite) and the
    cohort ``model/trim``, as ``fleet.targets`` names it.
    """
    keys = sorted({_cell_key(values) for values in zip(*(assignment.cells[n] for n in CELL_COLUMNS), strict=True)})
    cohort = Vehicle.model + "/" + Vehicle.trim
    rank = func.row_number().over(order_by=Vehicle.id)
    postgresql = session.get_bind().dialect.name == "postgresql"
    waves = [int(w) for w in assignment.waves.tolist()]
    table = Table("campaign_start_waves", MetaData(), Column("rank", Integer, primary_key=True),
                  Column("wave", Integer), prefixes=["TEMPORARY"])
    if postgresql:
        session.execute(text("SET LOCAL work_mem = '160MB'"))  # the sort by id in memory, not on disk
        wave_of: ColumnElement[int] = Grouping(literal(waves, ARRAY(Integer)))[rank]  # (array)[n]
        matched = (select(Vehicle.id.label("vehicle_id"), wave_of.label("wave"), cohort.label("cohort"))
                   .where(_cell_key_sql(assignment.ecu).in_(keys)))
    else:
        ranked = (select(Vehicle.id.label("vehicle_id"), cohort.label("cohort"), rank.label("rank"))
                  .where(_cell_key_sql(assignment.ecu).in_(keys)).subquery("ranked"))
        table.create(session.connection())  # a failed start rolls back, which drops it too
        for start in range(0, len(waves), CHUNK):
            session.execute(insert(table), [{"rank": start + i + 1, "wave": w}
                                            for i, w in enumerate(waves[start:start + CHUNK])])
        matched = select(ranked.c.vehicle_id, table.c.wave, ranked.c.cohort).join_from(
            ranked, table, table.c.rank == ranked.c.rank, isouter=True)  # a vehicle past the plan: no wave
    rows = matched.subquery("matched")
    try:
        result = session.execute(
            insert(CampaignVehicle).from_select(
                ["campaign_id", "vehicle_id", "wave", "cohort", "state", "attempts", "excluded"],
                select(literal(campaign_id, Integer), rows.c.vehicle_id, rows.c.wave, rows.c.cohort,
                       literal("pending", String), literal(0, Integer), false())),
            execution_options={"preserve_rowcount": True})
    except IntegrityError as error:  # more targets than planned: the one past the plan has no wave (NULL)
        raise _fleet_changed(campaign_id, None, len(waves)) from error
    if not postgresql:
        table.drop(session.connection())
    return int(result.rowcount)  # type: ignore[attr-defined]


def _fleet_changed(campaign_id: int, found: int | None, planned: int) -> ConflictError:
    """Vehicles registered or changed between counting the cells and writing the targets: the start is
    refused (its transaction rolls back) rather than written with waves of the wrong sizes."""
    counted = "more" if found is None else f"{found:,}"
    return ConflictError(f"campaign {campaign_id}: the fleet changed while it was starting ({counted} targets "
                         f"found, {planned:,} planned); start it again")


def _assign(session: Session, store: Store, campaign_id: int, assignment: TargetAssignment | CellAssignment, *,
            actor: str, at: datetime) -> None:
    started = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.state == "draft")
        .values(state="running", started_at=at, current_wave=0, last_tick_at=at,
                timezones=sorted(assignment.timezones))
        .execution_options(synchronize_session=False)
    )
    if not started.rowcount:  # type: ignore[attr-defined]
        raise ConflictError(f"campaign {campaign_id} is not a draft any more")
    if isinstance(assignment, CellAssignment):
        written = _insert_cell_targets(session, campaign_id, assignment)
        if written != len(assignment.waves):  # vehicles changed since the cells were counted
            raise _fleet_changed(campaign_id, written, len(assignment.waves))
        _finish_start(session, store, campaign_id, assignment.waves, actor=actor, at=at)
        return
    ids = assignment.vehicle_ids.tolist()
    wave_list = assignment.waves.tolist()
    cohort_list = assignment.cohorts.tolist()
    postgresql = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(ids), ARRAY_CHUNK if postgresql else CHUNK):
        stop = start + (ARRAY_CHUNK if postgresql else CHUNK)
        if postgresql:  # three arrays per statement: 1,000,000 targets in seconds, not minutes of executemany
            session.execute(_INSERT_TARGETS, {"campaign": campaign_id, "ids": ids[start:stop],
                                              "waves": wave_list[start:stop], "cohorts": cohort_list[start:stop]})
            continue
        session.execute(
            insert(CampaignVehicle),
            [
                {"campaign_id": campaign_id, "vehicle_id": v, "wave": w, "cohort": c, "state": "pending",
                 "attempts": 0}
                for v, w, c in zip(ids[start:stop], wave_list[start:stop], cohort_list[start:stop], strict=True)
            ],
        )
    _finish_start(session, store, campaign_id, assignment.waves, actor=actor, at=at)


def _finish_start(session: Session, store: Store, campaign_id: int, waves: np.ndarray, *, actor: str,
                  at: datetime) -> None:
    """After the targets are written: fresh statistics, wave sizes, wave 0 open, history and audit."""
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
    add_event(session, campaign_id, at=store.now(), actor=actor, action="start", from_state="draft",
              to_state="running", detail={"targets": len(waves), "waves": [int(n) for n in sizes]})
    audit(session, store.now(), actor, "campaign.start", f"campaign:{campaign_id}", {"targets": len(waves)})


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
            add_event(session, campaign_id, at=store.now(), actor="controller", action="complete",
                      from_state="running", to_state="completed", detail={"wave": from_wave + 1})
            audit(session, store.now(), "controller", "campaign.completed", f"campaign:{campaign_id}", {})
        else:
            session.execute(
                update(Wave)
                .where(Wave.campaign_id == campaign_id, Wave.index == from_wave + 1)
                .values(state="active", started_at=at)
            )
            session.execute(update(Campaign).where(Campaign.id == campaign_id).values(current_wave=from_wave + 1))
            add_event(session, campaign_id, at=store.now(), actor="controller", action="advance",
                      from_state="running", to_state="running", detail={"wave": from_wave + 2})
            audit(session, store.now(), "controller", "wave.open", f"campaign:{campaign_id}", {"wave": from_wave + 1})


def set_clock(store: Store, campaign_id: int, at: datetime) -> None:
    with store.session() as session:
        session.execute(update(Campaign).where(Campaign.id == campaign_id).values(last_tick_at=at))
