"""Update checks from one vehicle: due only in a running campaign's open wave and its local window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from evplatform.fleet import campaigns as fc
from evplatform.fleet.gates import MaintenanceWindow, WavePolicy
from evplatform.fleet.offers import update_check
from evplatform.store import Store
from evplatform.store import progress as pdb
from evplatform.store import vehicles as vdb
from fleet_support import T0, approve


def test_update_check_follows_waves_windows_and_answers(fleet: Store) -> None:
    approve(fleet, "hub-os-1.7.0", "CN", "EU")
    cid = fc.create_campaign(fleet, name="poll", release_id="hub-os-1.7.0", waves=(WavePolicy(0.5), WavePolicy(1.0)),
                             window=MaintenanceWindow.parse("02:00", "04:00"), now=T0)
    shanghai = [v for v in vdb.list_vehicles(fleet, market="CN", limit=600)]
    assert update_check(fleet, shanghai[0].vin, T0) is None  # a draft offers nothing
    fc.start_campaign(fleet, cid, now=T0)
    states = pdb.vehicle_states(fleet, cid, [v.id for v in shanghai])
    first = next(v for v in shanghai if states[v.id] == "pending" and _wave(fleet, cid, v.id) == 0)
    later = next(v for v in shanghai if _wave(fleet, cid, v.id) == 1)
    night = datetime(2026, 11, 3, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai
    noon = datetime(2026, 11, 3, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    assert update_check(fleet, first.vin, noon) is None  # outside its local window
    offer = update_check(fleet, first.vin, night)
    assert offer is not None and offer.release_id == "hub-os-1.7.0" and offer.ecu == "central-compute"
    assert pdb.vehicle_states(fleet, cid, [first.id])[first.id] == "offered"
    assert update_check(fleet, later.vin, night) is None  # its wave is not open yet
    fc.report(fleet, cid, first.vin, "succeeded", at=night + timedelta(minutes=20))
    assert update_check(fleet, first.vin, night + timedelta(hours=1)) is None  # answered: never again
    fc.pause_campaign(fleet, cid)
    other = next(v for v in shanghai if states[v.id] == "pending" and _wave(fleet, cid, v.id) == 0 and v != first)
    assert update_check(fleet, other.vin, night) is None  # paused campaigns offer nothing


def _wave(store: Store, cid: int, vehicle_id: int) -> int:
    from sqlalchemy import select

    from evplatform.store.schema import CampaignVehicle

    with store.session() as session:
        return int(session.scalar(select(CampaignVehicle.wave).where(
            CampaignVehicle.campaign_id == cid, CampaignVehicle.vehicle_id == vehicle_id)) or 0)
