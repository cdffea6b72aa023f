"""The per-vehicle half of a campaign: offering the due vehicles and recording their answers.

One row per (campaign, vehicle) in ``campaign_vehicles`` says where each vehicle is
(``pending`` → ``offered`` → a final outcome, or ``cancelled``); final outcomes go to
``update_reports``. Reports are inserted with ``ON CONFLICT DO NOTHING`` on the (campaign, vehicle)
key and a vehicle's state and installed software change only on its transition out of
``pending``/``offered``, so a repeated report neither counts nor installs twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.orm import Session

from evplatform.errors import NotFoundError, StoreError
from evplatform.store._sql import insert_ignore, json_set
from evplatform.store.database import Store, id_clauses
from evplatform.store.schema import Campaign, CampaignVehicle, Release, UpdateReport, Vehicle

CHUNK = 20_000
OPEN_STATES = ("pending", "offered")
FINAL_OUTCOMES = ("succeeded", "failed", "rolled_back")

#: ``(current RXSWIN, release id) -> RXSWIN after installing the release``: a regulatory rule the
#: fleet owns (``fleet.update_records.next_rxswin``); the store only applies it in the transaction.
RxswinRule = Callable[[str, str], str]


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
        CampaignVehicle.excluded.is_(False),  # an excluded vehicle is never offered again
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
    rxswin_rule: RxswinRule | None = None,
) -> int:
    """Record final outcomes; returns how many vehicles reached a final state with this call.

    Reports of vehicles that already have one are ignored (the (campaign, vehicle) key), and only
    vehicles still pending or offered change state, so the call can be repeated safely. A
    succeeded vehicle's installed software on the release's ECU is updated in the same
    transaction, and so is its UN R156 RXSWIN when ``rxswin_rule`` is given (None: unchanged).
    ``telemetry_rows`` (e.g. crash reports) are stored in that transaction too.
    """
    if len(vehicle_ids) == 0:
        return 0
    bad = set(np.unique(outcomes).tolist()) - set(FINAL_OUTCOMES)
    if bad:
        raise StoreError(f"unknown report outcome(s) {sorted(bad)} (known: {', '.join(FINAL_OUTCOMES)})")
    with store.session() as session:
        found = session.get(Campaign, campaign_id)
        if found is None:
            raise NotFoundError("campaign", campaign_id)
        target = session.get(Release, found.release_id)
        if target is None:
            raise AssertionError("foreign key")  # an invariant, kept under python -O
        _insert_reports(session, campaign_id, target.id, vehicle_ids, outcomes, details, at)
        software = json_set(session, Vehicle.software, target.ecu, {"component": target.component,
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
        if rxswin_rule is not None:
            _renew_rxswin(session, newly_succeeded, target.id, rxswin_rule)
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


def _insert_reports(
    session: Session,
    campaign_id: int,
    release_id: str,
    vehicle_ids: np.ndarray,
    outcomes: np.ndarray,
    details: Sequence[str] | None,
    at: datetime,
) -> None:
    # One key order for every writer, so two workers reporting overlapping vehicles wait for
    # each other instead of deadlocking.
    order = np.argsort(vehicle_ids, kind="stable")
    ids = vehicle_ids[order].tolist()
    outs = outcomes[order].tolist()
    texts = [details[i] for i in order.tolist()] if details is not None else [""] * len(ids)
    statement = insert_ignore(session, UpdateReport, ("campaign_id", "vehicle_id"))
    for start in range(0, len(ids), CHUNK):
        rows = [
            {"campaign_id": campaign_id, "vehicle_id": v, "release_id": release_id, "outcome": o, "at": at,
             "detail": d}
            for v, o, d in zip(ids[start : start + CHUNK], outs[start : start + CHUNK],
                               texts[start : start + CHUNK], strict=True)
        ]
        session.execute(statement, rows)


def _renew_rxswin(session: Session, vehicles: Any, release_id: str, rule: RxswinRule) -> None:
    """Give the vehicles that just installed ``release_id`` their next software identifications.

    A vehicle carries one per regulation that asks for it (UN R156 RXSWIN, GB 44496 SWIN), keyed by
    it; the keys present are read first. Vehicles of one type share a value, so this is one UPDATE
    per key and distinct current value.
    """
    keys: set[str] = set()
    for value in session.scalars(select(Vehicle.rxswin).where(Vehicle.id.in_(vehicles))):
        keys.update((value or {}).keys())
    for key in sorted(keys):
        current = Vehicle.rxswin[key].as_string()
        values = session.scalars(select(current).where(Vehicle.id.in_(vehicles), current.is_not(None)).distinct()).all()
        for value in values:
            session.execute(
                update(Vehicle)
                .where(Vehicle.id.in_(vehicles), current == value)
                .values(rxswin=json_set(session, Vehicle.rxswin, key, rule(value, release_id)))
                .execution_options(synchronize_session=False)
            )
