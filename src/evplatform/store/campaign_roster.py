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

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select

from evplatform.errors import NotFoundError
from evplatform.store.database import Store
from evplatform.store.schema import Campaign, CampaignVehicle, TelemetryEvent, UpdateReport, Vehicle

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


def _status(release_id: str, stale_before: datetime) -> ColumnElement[str]:
    crashed = exists().where(
        TelemetryEvent.vehicle_id == CampaignVehicle.vehicle_id, TelemetryEvent.kind == "crash",
        TelemetryEvent.at >= UpdateReport.at,
        or_(TelemetryEvent.release_id.is_(None), TelemetryEvent.release_id == release_id))
    return case(
        (CampaignVehicle.state == "succeeded", case((crashed, "crashed"), else_="installed")),
        (CampaignVehicle.state == "pending", case((CampaignVehicle.attempts > 0, "postponed"), else_="pending")),
        (CampaignVehicle.state == "offered",
         case((CampaignVehicle.offered_at <= stale_before, "offline"), else_="downloading")),
        else_=CampaignVehicle.state,
    )


def _release_of(store: Store, campaign_id: int) -> str:
    with store.session() as session:
        found = session.get(Campaign, campaign_id)
        if found is None:
            raise NotFoundError("campaign", campaign_id)
        return found.release_id


def _base(campaign_id: int, wave: int | None) -> list[ColumnElement[bool]]:
    return [CampaignVehicle.campaign_id == campaign_id,
            *([CampaignVehicle.wave == wave] if wave is not None else [])]


def _joined(query: Any, campaign_id: int) -> Any:
    return (query.select_from(CampaignVehicle)
            .join(Vehicle, Vehicle.id == CampaignVehicle.vehicle_id)
            .outerjoin(UpdateReport, and_(UpdateReport.campaign_id == campaign_id,
                                          UpdateReport.vehicle_id == CampaignVehicle.vehicle_id)))


def _filter(status: str | None, status_of: ColumnElement[str]) -> list[ColumnElement[bool]]:
    if status is None:
        return []
    if status == "excluded":
        return [CampaignVehicle.excluded.is_(True)]
    return [status_of == status]


def roster_page(store: Store, campaign_id: int, *, wave: int | None, status: str | None, offset: int, limit: int,
                stale_before: datetime) -> RosterPage:
    """One page of the campaign's vehicles (by wave, then registration order) with the totals."""
    status_of = _status(_release_of(store, campaign_id), stale_before)
    where = [*_base(campaign_id, wave), *_filter(status, status_of)]
    rows_query = _joined(select(Vehicle.vin, Vehicle.model, Vehicle.trim, Vehicle.market, CampaignVehicle.wave,
                                CampaignVehicle.cohort, status_of, CampaignVehicle.excluded,
                                CampaignVehicle.attempts, CampaignVehicle.offered_at, UpdateReport.at,
                                UpdateReport.detail), campaign_id).where(*where)
    rows_query = rows_query.order_by(CampaignVehicle.wave, CampaignVehicle.vehicle_id).offset(offset).limit(limit)
    counts_query = _joined(select(status_of, func.count()), campaign_id).where(*_base(campaign_id, wave)) \
        .group_by(status_of)
    excluded_query = select(func.count()).select_from(CampaignVehicle).where(
        *_base(campaign_id, wave), CampaignVehicle.excluded.is_(True))
    with store.session() as session:
        rows = [_row(r) for r in session.execute(rows_query)]
        counts = {str(s): int(n) for s, n in session.execute(counts_query)}
        counts_excluded = int(session.scalar(excluded_query) or 0)
    everyone = sum(counts.values())
    counts = {s: counts.get(s, 0) for s in STATUSES} | {"excluded": counts_excluded}
    total = everyone if status is None else counts[status]
    return RosterPage(rows, total, counts)


def roster_rows(store: Store, campaign_id: int, *, wave: int | None, status: str | None, stale_before: datetime,
                chunk: int = 5000) -> Iterator[RosterRow]:
    """Every matching vehicle, ``chunk`` at a time (the CSV export: memory stays flat on a big fleet)."""
    offset = 0
    while True:
        page = roster_page(store, campaign_id, wave=wave, status=status, offset=offset, limit=chunk,
                           stale_before=stale_before)
        yield from page.rows
        if len(page.rows) < chunk:
            return
        offset += chunk


def _row(r: Any) -> RosterRow:
    return RosterRow(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), str(r[5]), str(r[6]), bool(r[7]),
                     int(r[8]), r[9], r[10], str(r[11] or ""))


def markets(store: Store, campaign_id: int) -> list[str]:
    """The markets of the campaign's vehicles (what an operator may exclude by market)."""
    query = (select(Vehicle.market).join(CampaignVehicle, CampaignVehicle.vehicle_id == Vehicle.id)
             .where(CampaignVehicle.campaign_id == campaign_id).distinct().order_by(Vehicle.market))
    with store.session() as session:
        return [str(m) for m in session.scalars(query)]
