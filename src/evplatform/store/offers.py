"""The vehicle-facing side of campaigns: which open campaign has something for one vehicle.

A vehicle polls (Uptane: the Director answers its manifest); these queries touch one vehicle's rows
through the (campaign, vehicle) primary key, so an update check costs a couple of index lookups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select, update

from evplatform.store.database import Store
from evplatform.store.reports import OPEN_STATES
from evplatform.store.schema import Campaign, CampaignVehicle, Release, Vehicle


@dataclass(frozen=True, slots=True)
class OpenOffer:
    campaign_id: int
    release_id: str
    component: str
    ecu: str
    hardware_id: str
    version: str
    forced: bool
    window_start: str | None
    window_end: str | None
    timezone: str
    state: str  # pending | offered


def open_offers(store: Store, vin: str) -> list[OpenOffer]:
    """Running (or completed) campaigns whose open wave includes this vehicle, not yet answered."""
    query = (
        select(Campaign, Release, CampaignVehicle.state, Vehicle.timezone)
        .join(CampaignVehicle, CampaignVehicle.campaign_id == Campaign.id)
        .join(Vehicle, Vehicle.id == CampaignVehicle.vehicle_id)
        .join(Release, Release.id == Campaign.release_id)
        .where(
            Vehicle.vin == vin,
            Campaign.state.in_(("running", "completed")),  # completed: stragglers still get it
            CampaignVehicle.wave <= Campaign.current_wave,
            CampaignVehicle.state.in_(OPEN_STATES),
            CampaignVehicle.excluded.is_(False),
        )
        .order_by(Campaign.id)
    )
    with store.session() as session:
        return [
            OpenOffer(c.id, r.id, r.component, r.ecu, r.hardware_id, r.version, c.forced, c.window_start,
                      c.window_end, tz, state)
            for c, r, state, tz in session.execute(query).tuples()
        ]


def waiting_in_running(store: Store, vin: str) -> bool:
    """True when a running campaign targets this vehicle and it has not answered (any wave, open or not).

    Read-only, one indexed ``EXISTS``: the poll-interval hint of an update check with nothing to offer.
    """
    query = select(exists().where(
        Vehicle.vin == vin,
        CampaignVehicle.vehicle_id == Vehicle.id,
        Campaign.id == CampaignVehicle.campaign_id,
        Campaign.state == "running",
        CampaignVehicle.state.in_(OPEN_STATES),
        CampaignVehicle.excluded.is_(False),
    ))
    with store.session() as session:
        return bool(session.execute(query).scalar())


def mark_offered(store: Store, campaign_id: int, vin: str, now: datetime) -> bool:
    """Record that the vehicle was offered the campaign's release (False if it was not open)."""
    vehicle = select(Vehicle.id).where(Vehicle.vin == vin).scalar_subquery()
    with store.session() as session:
        result = session.execute(
            update(CampaignVehicle)
            .where(CampaignVehicle.campaign_id == campaign_id, CampaignVehicle.vehicle_id == vehicle,
                   CampaignVehicle.state.in_(OPEN_STATES))
            .values(state="offered", attempts=CampaignVehicle.attempts + 1, offered_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class OfferStanding:
    """Where one vehicle stands in one campaign: what a report from it is checked against."""

    vehicle_id: int
    state: str  # pending | offered | succeeded | failed | rolled_back | cancelled
    wave: int
    campaign_state: str
    current_wave: int


def offer_standing(store: Store, campaign_id: int, vehicle_id: int) -> OfferStanding | None:
    """The vehicle's row in the campaign with the campaign's state (None: not a target); one key lookup."""
    query = (
        select(CampaignVehicle.state, CampaignVehicle.wave, Campaign.state, Campaign.current_wave)
        .join(Campaign, Campaign.id == CampaignVehicle.campaign_id)
        .where(CampaignVehicle.campaign_id == campaign_id, CampaignVehicle.vehicle_id == vehicle_id)
    )
    with store.session() as session:
        row = session.execute(query).first()
    if row is None:
        return None
    state, wave, campaign_state, current_wave = row
    return OfferStanding(vehicle_id, str(state), int(wave), str(campaign_state), int(current_wave))
