"""Read-only progress of a campaign: counts by wave, cohort and state; crashes; report totals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import and_, func, or_, select

from evplatform.errors import NotFoundError
from evplatform.store.database import Store, id_clauses
from evplatform.store.schema import Campaign, CampaignVehicle, TelemetryEvent, UpdateReport


def vehicle_states(store: Store, campaign_id: int, vehicle_ids: Sequence[int]) -> dict[int, str]:
    """Campaign state of each given vehicle (vehicles not targeted are absent)."""
    out: dict[int, str] = {}
    with store.session() as session:
        for clause in id_clauses(session, CampaignVehicle.vehicle_id, np.asarray(vehicle_ids, dtype=np.int64)):
            query = select(CampaignVehicle.vehicle_id, CampaignVehicle.state).where(
                CampaignVehicle.campaign_id == campaign_id, clause
            )
            out.update(session.execute(query).tuples().all())
    return out


def progress_counts(store: Store, campaign_id: int, *, counted_only: bool = False) -> list[tuple[int, str, str, int]]:
    """``(wave, cohort, state, vehicles)`` for every combination present in the campaign.

    ``counted_only``: leave out the vehicles an operator excluded (what the gate counts).
    """
    query = (
        select(CampaignVehicle.wave, CampaignVehicle.cohort, CampaignVehicle.state, func.count())
        .where(CampaignVehicle.campaign_id == campaign_id,
               *([CampaignVehicle.excluded.is_(False)] if counted_only else []))
        .group_by(CampaignVehicle.wave, CampaignVehicle.cohort, CampaignVehicle.state)
    )
    with store.session() as session:
        return [(int(w), str(c), str(s), int(n)) for w, c, s, n in session.execute(query)]


def crashes_after_success(store: Store, campaign_id: int, *, counted_only: bool = False
                          ) -> list[tuple[int, str, int]]:
    """``(wave, cohort, vehicles)`` that reported success and then a crash of this campaign's release.

    A crash report naming another release does not count; one naming none does (the vehicle ran
    the release when it crashed). Crash reports are rare, so the join starts from them.
    """
    with store.session() as session:
        found = session.get(Campaign, campaign_id)
        if found is None:
            raise NotFoundError("campaign", campaign_id)
        query = (
            select(CampaignVehicle.wave, CampaignVehicle.cohort, func.count(func.distinct(TelemetryEvent.vehicle_id)))
            .select_from(TelemetryEvent)
            .join(CampaignVehicle, and_(CampaignVehicle.campaign_id == campaign_id,
                                        CampaignVehicle.vehicle_id == TelemetryEvent.vehicle_id))
            .join(UpdateReport, and_(UpdateReport.campaign_id == campaign_id,
                                     UpdateReport.vehicle_id == TelemetryEvent.vehicle_id))
            .where(TelemetryEvent.kind == "crash", CampaignVehicle.state == "succeeded",
                   *([CampaignVehicle.excluded.is_(False)] if counted_only else []),
                   TelemetryEvent.at >= UpdateReport.at,
                   or_(TelemetryEvent.release_id.is_(None), TelemetryEvent.release_id == found.release_id))
            .group_by(CampaignVehicle.wave, CampaignVehicle.cohort)
        )
        return [(int(w), str(c), int(n)) for w, c, n in session.execute(query)]


def report_counts(store: Store, campaign_id: int) -> dict[str, int]:
    """Reports per outcome (each vehicle at most once, by the table's key)."""
    query = (
        select(UpdateReport.outcome, func.count())
        .where(UpdateReport.campaign_id == campaign_id)
        .group_by(UpdateReport.outcome)
    )
    with store.session() as session:
        return {str(o): int(n) for o, n in session.execute(query)}


def excluded_counts(store: Store, campaign_id: int) -> dict[int, int]:
    """Vehicles an operator excluded, per wave."""
    query = (select(CampaignVehicle.wave, func.count())
             .where(CampaignVehicle.campaign_id == campaign_id, CampaignVehicle.excluded.is_(True))
             .group_by(CampaignVehicle.wave))
    with store.session() as session:
        return {int(w): int(n) for w, n in session.execute(query)}
