"""Reads behind the vehicle and release detail pages: one vehicle's campaign steps, a release's installs.

Each query touches one vehicle (through the ``campaign_vehicles`` / ``update_reports`` primary keys)
or one release (``ix_update_reports_release_at``), so a detail page stays cheap on a large fleet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from evplatform.store.database import Store
from evplatform.store.schema import Campaign, CampaignVehicle, Release, TelemetryEvent, UpdateReport, Vehicle
from evplatform.store.update_records import UpdateEvidence

#: Outcomes after which the vehicle ran the new software (rolled back: it ran, then went back).
INSTALLED = ("succeeded", "rolled_back")


@dataclass(frozen=True, slots=True)
class CampaignStep:
    """One vehicle in one campaign: its assignment, the offer, the final report and whether evidence exists."""

    campaign_id: int
    campaign: str
    campaign_state: str
    forced: bool
    started_at: datetime | None
    release_id: str
    component: str
    version: str
    wave: int
    state: str  # the vehicle's state in the campaign: pending | offered | succeeded | failed | …
    attempts: int
    offered_at: datetime | None
    outcome: str | None
    reported_at: datetime | None
    detail: str
    evidence_at: datetime | None


def vehicle_campaign_steps(store: Store, vehicle_id: int) -> list[CampaignStep]:
    """Every campaign the vehicle was targeted by, oldest campaign first."""
    query = (
        select(CampaignVehicle.campaign_id, Campaign.name, Campaign.state, Campaign.forced, Campaign.started_at,
               Release.id, Release.component, Release.version, CampaignVehicle.wave, CampaignVehicle.state,
               CampaignVehicle.attempts, CampaignVehicle.offered_at, UpdateReport.outcome, UpdateReport.at,
               UpdateReport.detail, UpdateEvidence.recorded_at)
        .join(Campaign, Campaign.id == CampaignVehicle.campaign_id)
        .join(Release, Release.id == Campaign.release_id)
        .outerjoin(UpdateReport, (UpdateReport.campaign_id == CampaignVehicle.campaign_id)
                   & (UpdateReport.vehicle_id == CampaignVehicle.vehicle_id))
        .outerjoin(UpdateEvidence, (UpdateEvidence.campaign_id == CampaignVehicle.campaign_id)
                   & (UpdateEvidence.vehicle_id == CampaignVehicle.vehicle_id))
        .where(CampaignVehicle.vehicle_id == vehicle_id)
        .order_by(CampaignVehicle.campaign_id)
    )
    with store.session() as session:
        return [
            CampaignStep(int(cid), name, cstate, bool(forced), started, rid, component, version, int(wave), state,
                         int(attempts or 0), offered, outcome, reported, detail or "", evidence)
            for (cid, name, cstate, forced, started, rid, component, version, wave, state, attempts, offered, outcome,
                 reported, detail, evidence) in session.execute(query)
        ]


def last_telemetry_at(store: Store, vehicle_id: int) -> datetime | None:
    """When the vehicle last sent telemetry (any kind)."""
    with store.session() as session:
        found: datetime | None = session.scalar(
            select(func.max(TelemetryEvent.at)).where(TelemetryEvent.vehicle_id == vehicle_id))
        return found


def installed_versions(store: Store, ecu: str, component: str) -> dict[str, int]:
    """Version of ``component`` installed on ``ecu`` -> vehicles, counted by the database."""
    installed_component = Vehicle.software[(ecu, "component")].as_string()
    version = Vehicle.software[(ecu, "version")].as_string()
    query = (select(version, func.count()).where(installed_component == component).group_by(version)
             .order_by(version))
    with store.session() as session:
        return {str(v or ""): int(n) for v, n in session.execute(query)}


def release_reports(store: Store, release_id: str) -> list[tuple[int, datetime, str]]:
    """(vehicle, reported at, outcome) of every final report of a release, in time order."""
    query = (select(UpdateReport.vehicle_id, UpdateReport.at, UpdateReport.outcome)
             .where(UpdateReport.release_id == release_id).order_by(UpdateReport.at))
    with store.session() as session:
        return [(int(v), at, str(o)) for v, at, o in session.execute(query)]


def install_ages(store: Store, cutoff: datetime) -> dict[str, tuple[datetime, int]]:
    """release -> (its first install, installs at or before ``cutoff``): how long the fleet has run it."""
    observed = func.sum(case((UpdateReport.at <= cutoff, 1), else_=0))
    query = (select(UpdateReport.release_id, func.min(UpdateReport.at), observed)
             .where(UpdateReport.outcome.in_(INSTALLED)).group_by(UpdateReport.release_id))
    with store.session() as session:
        return {str(r): (first, int(n or 0)) for r, first, n in session.execute(query)}


def rxswin_changes(store: Store, release_id: str) -> list[tuple[str, str | None, str | None, int]]:
    """(regulation, identification before, after, vehicles) recorded as evidence for the release's
    successful installs: the UN R156 RXSWIN in UNECE markets, the GB 44496 SWIN in China, …

    The identifications are JSON objects keyed by regulation, so they are grouped here rather than
    in SQL (one row per successful install of the release is read).
    """
    query = (
        select(UpdateEvidence.rxswin_before, UpdateEvidence.rxswin_after)
        .join(UpdateReport, (UpdateReport.campaign_id == UpdateEvidence.campaign_id)
              & (UpdateReport.vehicle_id == UpdateEvidence.vehicle_id))
        .where(UpdateReport.release_id == release_id, UpdateReport.outcome == "succeeded")
    )
    counts: dict[tuple[str, str | None, str | None], int] = {}
    with store.session() as session:
        for before, after in session.execute(query):
            before, after = before or {}, after or {}
            for key in sorted(set(before) | set(after)):
                change = (str(key), before.get(key), after.get(key))
                counts[change] = counts.get(change, 0) + 1
    return sorted(((k, b, a, n) for (k, b, a), n in counts.items()), key=lambda row: (-row[3], row[0]))
