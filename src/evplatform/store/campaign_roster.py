"""Every vehicle of a campaign with its status, failure reason and reported detail: paged and filtered.

The status a release manager filters on is derived in SQL from what the store keeps per vehicle
(``campaign_vehicles``: state, attempts, when offered; ``update_reports``: outcome and detail;
``telemetry_events``: crash reports), so a filter and a count are one indexed query each, not a
Python loop over the fleet:

=============  ==============================================================================
status         stored as
=============  ==============================================================================
pending        ``pending``, never offered (``attempts = 0``)
postponed      ``pending`` after an offer (``attempts > 0``: the driver postponed a soft update)
downloading    ``offered``, no answer yet and the offer younger than ``stale_before`` (the store
               keeps no download progress: "offered and not answered" is all it knows)
offline        ``offered`` and no answer since ``stale_before`` (the controller offers again)
installed      ``succeeded`` and no crash report since
crashed        ``succeeded``, then a crash report naming the release (or none)
failed         ``failed``
rolled_back    ``rolled_back``
excluded       ``excluded`` (pending when an operator excluded its cohort) — or, as a filter,
               every vehicle an operator excluded whatever its outcome
cancelled      ``cancelled`` (pending when the campaign was cancelled)
=============  ==============================================================================
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, false, func, or_, select
from sqlalchemy.orm import Session

from evplatform.errors import NotFoundError
from evplatform.store.database import Store
from evplatform.store.schema import Campaign, CampaignVehicle, TelemetryEvent, UpdateReport, Vehicle

CHUNK = 20_000

__all__ = ["STATUSES", "RosterPage", "RosterRow", "markets", "roster_page", "roster_rows"]

STATUSES: tuple[str, ...] = ("pending", "postponed", "downloading", "offline", "installed", "crashed", "failed",
                             "rolled_back", "excluded", "cancelled")


@dataclass(frozen=True, slots=True)
class RosterRow:
    vin: str
    model: str
    trim: str
    market: str
    wave: int
    cohort: str
    status: str
    excluded: bool
    attempts: int
    offered_at: datetime | None
    reported_at: datetime | None
    detail: str


@dataclass(frozen=True, slots=True)
class RosterPage:
    rows: list[RosterRow]
    total: int  # vehicles matching the filters
    counts: dict[str, int]  # vehicles per status (the wave filter applied, not the status filter)
    #: the cursor of the next page (``after=``): the last row's vehicle id, None on the last page
    next_after: int | None = None


def _crashed_ids(session: Session, campaign_id: int, release_id: str) -> list[int]:
    """Vehicles of the campaign with a crash report (naming the release, or none) after their report.

    Two small queries compared in Python, not a join: crash reports are rare, and right after a
    campaign ran the planner's statistics on ``update_reports`` are stale, so a join (or a correlated
    EXISTS per row) became a nested loop over every report — 2 s for a page of 10,000 on PostgreSQL.
    """
    crashes = session.execute(
        select(TelemetryEvent.vehicle_id, TelemetryEvent.at)
        .where(TelemetryEvent.kind == "crash",
               or_(TelemetryEvent.release_id.is_(None), TelemetryEvent.release_id == release_id))).all()
    if not crashes:
        return []
    latest: dict[int, datetime] = {}
    for vehicle, at in crashes:
        latest[int(vehicle)] = max(at, latest.get(int(vehicle), at))
    reported: dict[int, datetime] = {}
    ids = sorted(latest)
    for start in range(0, len(ids), CHUNK):
        reported.update(session.execute(
            select(UpdateReport.vehicle_id, UpdateReport.at)
            .where(UpdateReport.campaign_id == campaign_id, UpdateReport.vehicle_id.in_(ids[start:start + CHUNK]))
        ).tuples().all())
    return sorted(v for v, at in reported.items() if latest[v] >= at)


def _status(crashed: list[int], stale_before: datetime) -> ColumnElement[str]:
    return case(
        (CampaignVehicle.state == "succeeded",
         case((CampaignVehicle.vehicle_id.in_(crashed), "crashed"), else_="installed") if crashed else "installed"),
        (CampaignVehicle.state == "pending", case((CampaignVehicle.attempts > 0, "postponed"), else_="pending")),
        (CampaignVehicle.state == "offered",
         case((CampaignVehicle.offered_at <= stale_before, "offline"), else_="downloading")),
        else_=CampaignVehicle.state,
    )


def _release_of(session: Session, campaign_id: int) -> str:
    found = session.get(Campaign, campaign_id)
    if found is None:
        raise NotFoundError("campaign", campaign_id)
    return found.release_id


def _base(campaign_id: int, wave: int | None) -> list[ColumnElement[bool]]:
    return [CampaignVehicle.campaign_id == campaign_id,
            *([CampaignVehicle.wave == wave] if wave is not None else [])]


def _filter(status: str | None, crashed: list[int], stale_before: datetime) -> list[ColumnElement[bool]]:
    """The status filter on the stored columns (as ``_status`` derives the status), not on the derived
    status itself: the database then reads the campaign's rows by ``state`` instead of computing a
    ``CASE`` for each of a million targets."""
    if status is None:
        return []
    state, attempts, offered = CampaignVehicle.state, CampaignVehicle.attempts, CampaignVehicle.offered_at
    ids = CampaignVehicle.vehicle_id
    where: dict[str, list[ColumnElement[bool]]] = {
        "excluded": [CampaignVehicle.excluded.is_(True)],
        "pending": [state == "pending", attempts <= 0],
        "postponed": [state == "pending", attempts > 0],
        "downloading": [state == "offered", or_(offered.is_(None), offered > stale_before)],
        "offline": [state == "offered", offered <= stale_before],
        "installed": [state == "succeeded", *([ids.not_in(crashed)] if crashed else [])],
        "crashed": [state == "succeeded", ids.in_(crashed) if crashed else false()],
    }
    return where.get(status, [state == status])


def _counts(session: Session, campaign_id: int, wave: int | None, crashed: list[int],
            stale_before: datetime) -> tuple[dict[str, int], int]:
    """Vehicles per status and how many were excluded, grouped on the stored columns (the crashed among
    the succeeded counted apart: a handful, looked up by key)."""
    counts: dict[str, int] = {}
    excluded_n = 0
    offline = case((CampaignVehicle.offered_at <= stale_before, True), else_=False)
    postponed = case((CampaignVehicle.attempts > 0, True), else_=False)
    for state, excluded, later, stale, n in session.execute(
            select(CampaignVehicle.state, CampaignVehicle.excluded, postponed, offline, func.count())
            .where(*_base(campaign_id, wave)).group_by(CampaignVehicle.state, CampaignVehicle.excluded, postponed,
                                                       offline)):
        name = {"succeeded": "installed", "pending": "postponed" if later else "pending",
                "offered": "offline" if stale else "downloading"}.get(str(state), str(state))
        counts[name] = counts.get(name, 0) + int(n)
        excluded_n += int(n) if excluded else 0
    if crashed:
        found = int(session.scalar(select(func.count()).select_from(CampaignVehicle).where(
            *_base(campaign_id, wave), *_filter("crashed", crashed, stale_before))) or 0)
        counts["installed"] = counts.get("installed", 0) - found
        counts["crashed"] = found
    return counts, excluded_n


def roster_page(store: Store, campaign_id: int, *, wave: int | None, status: str | None, offset: int, limit: int,
                stale_before: datetime, after: int | None = None) -> RosterPage:
    """One page of the campaign's vehicles in registration order (the primary key's: a first page stops
    after its rows) with the totals.

    ``after`` (a vehicle id, the previous page's ``next_after``) is a keyset cursor: the page starts
    past it with an index probe on ``(campaign_id, vehicle_id)`` and ``offset`` is not used, so page
    20,000 of a million-vehicle campaign costs what page 1 does; an OFFSET walks every row it skips.
    The page's reports (time, detail) are fetched by key for its rows only.
    """
    with store.session() as session:
        crashed = _crashed_ids(session, campaign_id, _release_of(session, campaign_id))
        status_of = _status(crashed, stale_before)
        where = [*_base(campaign_id, wave), *_filter(status, crashed, stale_before)]
        if after is not None:
            where.append(CampaignVehicle.vehicle_id > after)
            offset = 0
        # The page's keys first, from campaign_vehicles alone; the vehicles are joined for those rows
        # only (joined before the OFFSET, a deep page read a vehicle for every row it skipped).
        page = (select(CampaignVehicle.vehicle_id).where(*where).order_by(CampaignVehicle.vehicle_id)
                .offset(offset).limit(limit + 1).subquery("page"))  # one more: is there a next page?
        rows_query = (select(Vehicle.vin, Vehicle.model, Vehicle.trim, Vehicle.market, CampaignVehicle.wave,
                             CampaignVehicle.cohort, status_of, CampaignVehicle.excluded, CampaignVehicle.attempts,
                             CampaignVehicle.offered_at, CampaignVehicle.vehicle_id)
                      .select_from(page)
                      .join(CampaignVehicle, (CampaignVehicle.campaign_id == campaign_id)
                            & (CampaignVehicle.vehicle_id == page.c.vehicle_id))
                      .join(Vehicle, Vehicle.id == CampaignVehicle.vehicle_id)
                      .order_by(CampaignVehicle.vehicle_id))
        found = session.execute(rows_query).all()
        more = len(found) > limit
        found = found[:limit]
        reports = dict(((int(v), (at, detail)) for v, at, detail in session.execute(
            select(UpdateReport.vehicle_id, UpdateReport.at, UpdateReport.detail)
            .where(UpdateReport.campaign_id == campaign_id,
                   UpdateReport.vehicle_id.in_([int(r[10]) for r in found])))) if found else {})
        counts, counts_excluded = _counts(session, campaign_id, wave, crashed, stale_before)
    rows = [_row(r, *reports.get(int(r[10]), (None, ""))) for r in found]
    everyone = sum(counts.values())
    counts = {s: counts.get(s, 0) for s in STATUSES} | {"excluded": counts_excluded}
    total = everyone if status is None else counts[status]
    next_after = int(found[-1][10]) if more else None
    return RosterPage(rows, total, counts, next_after)


def roster_rows(store: Store, campaign_id: int, *, wave: int | None, status: str | None, stale_before: datetime,
                chunk: int = 5000) -> Iterator[RosterRow]:
    """Every matching vehicle, ``chunk`` at a time (the CSV export: memory stays flat on a big fleet),
    each chunk after the last one's key rather than at an OFFSET."""
    after: int | None = None
    while True:
        page = roster_page(store, campaign_id, wave=wave, status=status, offset=0, limit=chunk,
                           stale_before=stale_before, after=after)
        yield from page.rows
        if page.next_after is None:
            return
        after = page.next_after


def _row(r: Any, reported_at: datetime | None, detail: str | None) -> RosterRow:
    return RosterRow(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), str(r[5]), str(r[6]), bool(r[7]),
                     int(r[8]), r[9], reported_at, str(detail or ""))


def markets(store: Store, campaign_id: int) -> list[str]:
    """The markets of the campaign's vehicles (what an operator may exclude by market)."""
    query = (select(Vehicle.market).join(CampaignVehicle, CampaignVehicle.vehicle_id == Vehicle.id)
             .where(CampaignVehicle.campaign_id == campaign_id).distinct().order_by(Vehicle.market))
    with store.session() as session:
        return [str(m) for m in session.scalars(query)]
