"""Update checks: what a vehicle polling the backend should install now, if anything.

This is the campaign side of the vehicle-facing API (the Uptane Director decides *what* to sign
for the vehicle; this decides *whether* the vehicle is due): the vehicle must be a target of a
running campaign whose open wave includes it (or of a completed one, for stragglers), not have
answered yet, and — for a campaign with a maintenance window — be inside that window in its own
local time.
"""

from __future__ import annotations

from datetime import datetime

from evplatform.fleet.gates import MaintenanceWindow, zone
from evplatform.store import Store
from evplatform.store.offers import OpenOffer, mark_offered, open_offers


def update_check(store: Store, vin: str, now: datetime) -> OpenOffer | None:
    """The release the vehicle should install now (the oldest due campaign first), or None.

    Answering marks the vehicle as offered, so the controller's counts and re-offer timer see it.
    """
    for offer in open_offers(store, vin):
        if offer.window_start and offer.window_end:
            window = MaintenanceWindow.parse(offer.window_start, offer.window_end)
            if not window.is_open(now.astimezone(zone(offer.timezone)).time()):
                continue
        if mark_offered(store, offer.campaign_id, vin, now):
            return offer
    return None
