"""Update checks: what a vehicle polling the backend should install now, if anything.

This is the campaign side of the vehicle-facing API (the Uptane Director decides *what* to sign
for the vehicle; this decides *whether* the vehicle is due): the vehicle must be a target of a
running campaign whose open wave includes it (or of a completed one, for stragglers), not have
answered yet, and — for a campaign with a maintenance window — be inside that window in its own
local time.

With nothing to offer the check writes nothing and signs nothing (``answer_update_check`` only reads; the
campaign row is updated only when an offer is returned) and says when to ask again
(``fleet.polling``), so a fleet polling an idle backend costs reads only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from evplatform.fleet.gates import MaintenanceWindow, zone
from evplatform.fleet.generations import Lookup, LookupCache, answer_until
from evplatform.fleet.polling import PollState, poll_after_seconds, poll_state
from evplatform.store import Store
from evplatform.store.offers import OpenOffer, mark_offered, open_offers, waiting_in_running


@dataclass(frozen=True, slots=True)
class UpdateAnswer:
    """An update check's answer: the offer (None: nothing to install now) and when to ask again."""

    offer: OpenOffer | None
    state: PollState
    until: int = 0  # unix seconds when a maintenance window may change the answer (0: never)

    @property
    def poll_after_s(self) -> int:
        return poll_after_seconds(self.state)


def answer_update_check(store: Store, vin: str, now: datetime, *, generation: int | None = None,
                        lookups: LookupCache | None = None) -> UpdateAnswer:
    """The offer due now, if any, with the poll-interval hint; writes only when it returns an offer.

    With the vehicle's ``generation`` (read *before* this call) and a ``lookups`` cache, the
    campaign lookup is reused while the generation has not moved (``fleet.generations``).
    """
    lookup = lookups.get(vin, generation) if lookups is not None and generation is not None else None
    if lookup is None:
        offers = open_offers(store, vin)
        waiting = not offers and waiting_in_running(store, vin)  # the EXISTS runs only when it can matter
        lookup = Lookup(-1 if generation is None else generation, offers, waiting)
        if lookups is not None and generation is not None:
            lookups.put(vin, lookup)
    offer = _offer_due(store, lookup.offers, vin, now)
    return UpdateAnswer(offer, poll_state(open_offer=bool(lookup.offers), waiting=lookup.waiting),
                        answer_until(lookup.offers, now))


def update_check(store: Store, vin: str, now: datetime) -> OpenOffer | None:
    """The release the vehicle should install now (the oldest due campaign first), or None.

    Answering marks the vehicle as offered, so the controller's counts and re-offer timer see it.
    """
    return _offer_due(store, open_offers(store, vin), vin, now)


def _offer_due(store: Store, offers: list[OpenOffer], vin: str, now: datetime) -> OpenOffer | None:
    """The first offer whose maintenance window is open, marked offered (the one write of a check)."""
    for offer in offers:
        if offer.window_start and offer.window_end:
            window = MaintenanceWindow.parse(offer.window_start, offer.window_end)
            if not window.is_open(now.astimezone(zone(offer.timezone)).time()):
                continue
        if mark_offered(store, offer.campaign_id, vin, now):
            return offer
    return None
