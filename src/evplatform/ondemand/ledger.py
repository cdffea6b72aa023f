"""Selling and cancelling paid features per VIN: the entitlement ledger's rules.

A sale is refused before anything is written when the VIN is unknown, the feature is not in the
catalogue, the channel is not one of the workspace's, the term is out of bounds, the car's
hardware cannot run it (with the reason), or the car already holds it. An accepted sale writes
the entitlement and its audit row in one transaction, then ``activation.sync`` records the change
the vehicle must receive. Prices come from the catalogue at the time of sale and are kept on the
row, so a later price change never rewrites revenue already booked.
"""

from __future__ import annotations

import calendar
from datetime import datetime
from typing import Any

from evplatform.errors import ConflictError, NotFoundError
from evplatform.ondemand.activation import SyncResult, sync
from evplatform.ondemand.catalogue import OnDemandError, paid_feature, require_eligible
from evplatform.store import Store
from evplatform.store import entitlements as edb
from evplatform.store import vehicles as vdb
from evplatform.workspace.model import Workspace

#: A fixed-term purchase lasts 1 to 120 months (a track-day pass to a ten-year package).
MAX_MONTHS = 120


def add_months(start: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months later (the 31st becomes the month's last day)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))


def buy(store: Store, ws: Workspace, vin: str, feature_id: str, *, channel: str, actor: str,
        months: int | None = None, now: datetime | None = None) -> tuple[edb.EntitlementRecord, SyncResult]:
    """Sell ``feature_id`` to ``vin`` from ``now`` (server clock) for ``months`` (None: open-ended).

    Open-ended means for ever for a one-off feature and renewing monthly until cancelled for a
    subscription. Returns the entitlement and the activation recorded for it.
    """
    now = now or store.now()
    feature = paid_feature(ws, feature_id)
    if channel not in ws.on_demand.channels:
        raise OnDemandError(f"channel {channel!r} is not one of {', '.join(ws.on_demand.channels)}")
    if months is not None and not 1 <= months <= MAX_MONTHS:
        raise OnDemandError(f"months must be between 1 and {MAX_MONTHS}, not {months}")
    vehicle = vdb.vehicle_by_vin(store, vin)
    if vehicle is None:
        raise NotFoundError("vehicle", vin)
    require_eligible(feature, vehicle.configuration, f"{vin} ({vehicle.trim_key} in {vehicle.market})")
    row = {"vehicle_id": vehicle.id, "feature": feature.id, "valid_from": now,
           "valid_to": add_months(now, months) if months is not None else None, "price": feature.price,
           "billing": feature.billing, "currency": ws.platform.currency, "channel": channel, "basis": "recorded",
           "created_by": actor}
    note = edb.AuditNote(actor, "fod.buy", f"vehicle:{vin}",
                         {"feature": feature.id, "price": feature.price, "billing": feature.billing,
                          "currency": ws.platform.currency, "channel": channel, "months": months})
    entitlement_id = edb.add_entitlement(store, row, note)
    return edb.entitlement(store, entitlement_id), sync(store, ws, vin, actor=actor, now=now)


def cancel(store: Store, ws: Workspace, vin: str, feature_id: str, *, actor: str,
           now: datetime | None = None) -> tuple[edb.EntitlementRecord, SyncResult]:
    """End the vehicle's active entitlement to ``feature_id`` now; the deactivation follows at once."""
    now = now or store.now()
    if vdb.vehicle_by_vin(store, vin) is None:
        raise NotFoundError("vehicle", vin)
    active = [r for r in edb.entitlements(store, vin=vin, feature=feature_id) if r.active_at(now)]
    if not active:
        raise ConflictError(f"{vin} holds no active entitlement to {feature_id}")
    for record in active:
        edb.cancel_entitlement(store, record.id, now, edb.AuditNote(
            actor, "fod.cancel", f"vehicle:{vin}", {"feature": feature_id, "entitlement": record.id}))
    return edb.entitlement(store, active[-1].id), sync(store, ws, vin, actor=actor, now=now)


def entitlement_view(record: edb.EntitlementRecord, now: datetime) -> dict[str, Any]:
    """One ledger row for JSON and tables, with whether it is active at the server clock."""
    return {"id": record.id, "vin": record.vin, "model": record.model, "trim": record.trim, "market": record.market,
            "feature": record.feature, "valid_from": record.valid_from.isoformat(),
            "valid_to": record.valid_to.isoformat() if record.valid_to else None, "price": record.price,
            "billing": record.billing, "currency": record.currency, "channel": record.channel, "basis": record.basis,
            "created_by": record.created_by,
            "cancelled_at": record.cancelled_at.isoformat() if record.cancelled_at else None,
            "active": record.active_at(now)}


def listing(store: Store, *, vin: str | None = None, feature: str | None = None, now: datetime | None = None,
            limit: int = 1000) -> list[dict[str, Any]]:
    """Ledger rows (of a vehicle and/or a feature), oldest first, at most ``limit``."""
    now = now or store.now()
    if vin is not None and vdb.vehicle_by_vin(store, vin) is None:
        raise NotFoundError("vehicle", vin)
    return [entitlement_view(r, now) for r in edb.entitlements(store, vin=vin, feature=feature, limit=limit)]
