"""Helpers for the fleet tests: a small demo fleet, a release, approvals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from evplatform.fleet.registry import VehicleSpec
from evplatform.store import Store
from evplatform.store import releases as rdb
from evplatform.workspace import Workspace

T0 = datetime(2026, 11, 2, tzinfo=UTC)
#: The server's clock in the fleet tests: a month after T0, so events dated T0 … T0 + 30 days are
#: recent evidence (fleet.reported_time) whatever day the tests run on.
FLEET_NOW = T0 + timedelta(days=30)


def small_fleet_specs(ws: Workspace, per_cell: int, markets: tuple[str, ...] = ("CN", "DE")) -> list[VehicleSpec]:
    """``per_cell`` vehicles of every trim in every given market it is sold in."""
    specs: list[VehicleSpec] = []
    for trim in ws.trims():
        for market in markets:
            if (trim.key, market) in ws.configurations:
                for _ in range(per_cell):
                    specs.append(VehicleSpec(f"LMDTEST{len(specs):010d}", trim.model_id, trim.id, market))
    return specs


def add_release(store: Store, ws: Workspace, component_id: str, version: str) -> str:
    component = ws.software[component_id]
    release_id = f"{component_id}-{version}"
    rdb.save_release(
        store,
        rdb.ReleaseRecord(release_id, component_id, component.ecu, component.hardware_id, version,
                          component.compatible_text, created_at=T0),
    )
    return release_id


def approve(store: Store, release_id: str, *markets: str) -> None:
    for market in markets:
        rdb.save_approval(store, rdb.ApprovalRecord(release_id, market, "authority", f"REF-{market}", "rita", T0))


def offer_open_waves(store: Store, campaign_id: int, now: datetime = T0) -> None:
    """Offer every vehicle of the campaign's open waves, as a controller tick does before delivering:
    only a vehicle with an open offer may report (issue 14 item 14)."""
    from evplatform.store import campaigns as cdb

    current = cdb.campaign(store, campaign_id).current_wave
    cdb.offer_pending(store, campaign_id, max_wave=current, timezones=None, now=now,
                      reoffer_before=now - timedelta(hours=6))
