"""Aggregates behind the stability KPIs: report outcomes, crashes after installation, updates by month."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, extract, func, or_, select

from evplatform.store.database import Store
from evplatform.store.schema import CampaignVehicle, TelemetryEvent, UpdateReport, Vehicle


def outcomes_by_release(store: Store) -> dict[str, dict[str, int]]:
    """release -> outcome -> vehicles (each vehicle once per campaign, by the report key)."""
    query = select(UpdateReport.release_id, UpdateReport.outcome, func.count()).group_by(
        UpdateReport.release_id, UpdateReport.outcome
    )
    out: dict[str, dict[str, int]] = {}
    with store.session() as session:
        for release_id, outcome, n in session.execute(query):
            out.setdefault(str(release_id), {})[str(outcome)] = int(n)
    return out


def crashes_after_install(store: Store, release_id: str) -> list[tuple[int, datetime, datetime]]:
    """(vehicle, installed at, crash at) for every crash report after a vehicle installed the release.

    Installed means the vehicle ran the new software: it succeeded, or it rolled back after
    running it; a crash report naming another release is not counted. Crashes are rare, so the
    7-day window is applied by the caller.
    """
    query = (
        select(UpdateReport.vehicle_id, UpdateReport.at, TelemetryEvent.at)
        .join(TelemetryEvent, and_(TelemetryEvent.vehicle_id == UpdateReport.vehicle_id,
                                   TelemetryEvent.kind == "crash", TelemetryEvent.at >= UpdateReport.at,
                                   or_(TelemetryEvent.release_id.is_(None), TelemetryEvent.release_id == release_id)))
        .where(UpdateReport.release_id == release_id, UpdateReport.outcome.in_(("succeeded", "rolled_back")))
    )
    with store.session() as session:
        return [(int(v), a, c) for v, a, c in session.execute(query)]


def successful_updates_by_month(store: Store) -> dict[tuple[int, int], int]:
    """(year, month) -> successful updates."""
    year = extract("year", UpdateReport.at)
    month = extract("month", UpdateReport.at)
    query = select(year, month, func.count()).where(UpdateReport.outcome == "succeeded").group_by(year, month)
    with store.session() as session:
        return {(int(y), int(m)): int(n) for y, m, n in session.execute(query)}


def vehicles_registered_before(store: Store, moment: datetime) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).where(Vehicle.registered_at < moment)) or 0)


def report_timeline(store: Store, campaign_id: int) -> list[tuple[datetime, int, str, int]]:
    """(time, wave, outcome, vehicles) of a campaign's reports, in time order: its progress curve."""
    query = (
        select(UpdateReport.at, CampaignVehicle.wave, UpdateReport.outcome, func.count())
        .join(CampaignVehicle, and_(CampaignVehicle.campaign_id == UpdateReport.campaign_id,
                                    CampaignVehicle.vehicle_id == UpdateReport.vehicle_id))
        .where(UpdateReport.campaign_id == campaign_id)
        .group_by(UpdateReport.at, CampaignVehicle.wave, UpdateReport.outcome)
        .order_by(UpdateReport.at)
    )
    with store.session() as session:
        return [(at, int(w), str(o), int(n)) for at, w, o, n in session.execute(query)]
