"""Watching a campaign and recovering it after a halt: acknowledge, exclude a cohort, retry, next wave.

Every decision names who took it and why, checked against the transition table
(``fleet.campaign_states``) first, and is written with its history row and audit row in one
transaction by the store. The read side gives the release manager what the decision needs: the
history, the vehicles by status with their reported detail (paged), and each wave's cohorts.

Typical recovery of a halt caused by one trim (the gate's reason names the cohort)::

    acknowledge(store, cid, actor="rita", comment="su7/max image fails verification")
    exclude(store, cid, Cohort(model="su7", trim="max"), actor="rita", reason="bad image for max")
    resume_campaign(store, cid, actor="rita")
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from evplatform.errors import FleetError
from evplatform.fleet import campaign_states
from evplatform.fleet.campaign_states import Action, TransitionRefused
from evplatform.fleet.campaigns import REOFFER_AFTER, resume_campaign, wave_counts
from evplatform.store import Store
from evplatform.store import campaign_history as hdb
from evplatform.store import campaign_recovery as rdb
from evplatform.store import campaign_roster as roster
from evplatform.store import campaigns as cdb
from evplatform.store.campaign_recovery import Cohort

__all__ = ["MAX_PAGE_SIZE", "MAX_REASON", "STATUSES", "Cohort", "VehicleQuery", "acknowledge", "checked_reason",
           "cohort_table", "exclude", "history", "open_next_wave", "retry_failed", "vehicle_rows", "vehicles"]

#: The longest reason or comment kept (the history's column is text; this keeps a page readable).
MAX_REASON = 500
MAX_PAGE_SIZE = 500
STATUSES = roster.STATUSES


def checked_reason(text: str | None, what: str) -> str:
    """A decision without a reason is refused: the next person must be able to read why."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise CampaignReasonError(f"{what}: a reason is required (who decided, and why, is the record)")
    if len(cleaned) > MAX_REASON:
        raise CampaignReasonError(f"{what}: the reason is {len(cleaned):,} characters, at most {MAX_REASON} are kept")
    return cleaned


class CampaignReasonError(FleetError):
    """A decision asked for without its reason (or one too long): the caller's mistake, HTTP 422."""

    http_status = 422


def _checked(store: Store, campaign_id: int, action: Action) -> str:
    """The campaign's state, or ``TransitionRefused`` (409 naming the allowed actions)."""
    state = cdb.campaign(store, campaign_id).state
    campaign_states.check(campaign_id, state, action)
    return state


def _raced(store: Store, campaign_id: int, action: Action) -> TransitionRefused:
    return TransitionRefused(campaign_id, action.value, cdb.campaign(store, campaign_id).state)


def acknowledge(store: Store, campaign_id: int, *, actor: str, comment: str, now: datetime | None = None) -> None:
    """The halt was read and is being dealt with: ``halted`` → ``acknowledged``; resume is allowed after."""
    text = checked_reason(comment, "acknowledge")
    to = campaign_states.check(campaign_id, _checked(store, campaign_id, Action.ACK), Action.ACK)
    if not cdb.transition(store, campaign_id, allowed_from=campaign_states.states_allowing(Action.ACK), to=to,
                          actor=actor, at=now or store.now(), reason=text, action=Action.ACK.value):
        raise _raced(store, campaign_id, Action.ACK)


def exclude(store: Store, campaign_id: int, cohort: Cohort, *, actor: str, reason: str, resume: bool = False,
            now: datetime | None = None) -> int:
    """Leave a model, a model/trim or a market out of the campaign; how many vehicles it excluded.

    ``resume``: then resume it when its state allows (paused or acknowledged; a running one runs on),
    a second history row with the same reason.
    """
    text = checked_reason(reason, "exclude")
    if cohort.trim and not cohort.model:
        raise CampaignReasonError("exclude: a trim needs its model (model/trim)")
    _checked(store, campaign_id, Action.EXCLUDE)
    count = rdb.exclude(store, campaign_id, cohort, allowed_from=campaign_states.states_allowing(Action.EXCLUDE),
                        actor=actor, reason=text)
    if count is None:
        raise _raced(store, campaign_id, Action.EXCLUDE)
    if resume and cdb.campaign(store, campaign_id).state in campaign_states.states_allowing(Action.RESUME):
        resume_campaign(store, campaign_id, actor=actor, reason=text, now=now)
    return count


def retry_failed(store: Store, campaign_id: int, *, actor: str, reason: str, wave: int | None = None) -> int:
    """Offer the release again to the failed and rolled-back vehicles (of ``wave``, 0-based, or every open one)."""
    text = checked_reason(reason, "retry")
    _checked(store, campaign_id, Action.RETRY)
    count = rdb.retry_failed(store, campaign_id, wave=wave, allowed_from=campaign_states.states_allowing(Action.RETRY),
                             actor=actor, reason=text)
    if count is None:
        raise _raced(store, campaign_id, Action.RETRY)
    return count


def open_next_wave(store: Store, campaign_id: int, *, actor: str, reason: str, now: datetime | None = None) -> int:
    """Open the next wave now, before its gate passes; the index (0-based) of the wave opened."""
    text = checked_reason(reason, "next-wave")
    _checked(store, campaign_id, Action.NEXT_WAVE)
    opened = rdb.open_next_wave(store, campaign_id, allowed_from=campaign_states.states_allowing(Action.NEXT_WAVE),
                                actor=actor, reason=text, at=now or store.now())
    if opened is None:
        raise _raced(store, campaign_id, Action.NEXT_WAVE)
    return opened


# --- reading ----------------------------------------------------------------------------------------


def history(store: Store, campaign_id: int) -> list[dict[str, Any]]:
    """The campaign's changes, oldest first, as plain data (times as datetimes)."""
    cdb.campaign(store, campaign_id)  # NotFoundError for an unknown campaign
    return [{"at": h.at, "actor": h.actor, "action": h.action, "from": h.from_state, "to": h.to_state,
             "reason": h.reason, "detail": dict(h.detail)} for h in hdb.history(store, campaign_id)]


@dataclass(frozen=True, slots=True)
class VehicleQuery:
    """Which vehicles to list: a wave (0-based) or all, a status or all, a page (1-based) of ``size``.

    ``after`` (a previous page's ``next_after``) pages by key instead of by number: a deep page of a
    very large campaign is then an index probe, not an OFFSET walk; ``page`` is not used with it.
    """

    wave: int | None = None
    status: str | None = None
    page: int = 1
    size: int = 50
    after: int | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise CampaignReasonError(f"status: {self.status!r} is not one of {', '.join(STATUSES)}")
        if not 1 <= self.size <= MAX_PAGE_SIZE:
            raise CampaignReasonError(f"size: a page holds 1 to {MAX_PAGE_SIZE} vehicles, not {self.size}")
        if self.page < 1:
            raise CampaignReasonError(f"page: pages are numbered from 1, not {self.page}")
        if self.after is not None and self.after < 0:
            raise CampaignReasonError(f"after: a cursor is a previous page's next_after (0 or more), not {self.after}")


def _failure_reason(status: str, detail: str) -> str | None:
    if status == "crashed":
        return "new software crashed after it was installed"
    if status in ("failed", "rolled_back"):
        return detail.splitlines()[0] if detail else status.replace("_", " ")
    return None


def vehicles(store: Store, campaign_id: int, query: VehicleQuery) -> dict[str, Any]:
    """A page of the campaign's vehicles with the totals; a page past the end says so (``past_end``).

    "Offline" is an offer unanswered for longer than the controller waits before offering again
    (``REOFFER_AFTER``), on the campaign's own clock (its controller's last tick, which is simulated time
    for a simulated campaign), else the server's.
    """
    campaign = cdb.campaign(store, campaign_id)
    if query.wave is not None and not 0 <= query.wave < len(campaign.waves):
        raise CampaignReasonError(f"wave: campaign {campaign_id} has waves 1 to {len(campaign.waves)}, "
                                  f"not {query.wave + 1}")
    clock = campaign.last_tick_at or store.now()
    found = roster.roster_page(store, campaign_id, wave=query.wave, status=query.status,
                               offset=(query.page - 1) * query.size, limit=query.size,
                               stale_before=clock - REOFFER_AFTER, after=query.after)
    pages = max(1, math.ceil(found.total / query.size))
    if query.after is None:
        past_end = query.page > pages
        message = (f"page {query.page} is past the end: {found.total:,} vehicles make {pages:,} page(s) of "
                   f"{query.size}") if past_end else None
    else:
        past_end = not found.rows and found.total > 0
        message = f"no vehicle after {query.after}: the list has ended" if past_end else None
    return {
        "campaign": campaign_id, "wave": query.wave, "status": query.status, "page": query.page,
        "size": query.size, "total": found.total, "pages": pages, "counts": found.counts, "past_end": past_end,
        "message": message, "after": query.after, "next_after": found.next_after,
        "vehicles": [
            {"vin": r.vin, "model": r.model, "trim": r.trim, "market": r.market, "wave": r.wave, "cohort": r.cohort,
             "status": r.status, "excluded": r.excluded, "attempts": r.attempts, "offered_at": r.offered_at,
             "reported_at": r.reported_at, "failure_reason": _failure_reason(r.status, r.detail),
             "log": [line for line in r.detail.splitlines() if line.strip()]}
            for r in found.rows
        ],
    }


def vehicle_rows(store: Store, campaign_id: int, *, wave: int | None, status: str | None) -> Any:
    """Every matching vehicle as rows for a CSV export (an iterator; memory stays flat)."""
    VehicleQuery(wave=wave, status=status)  # the same checks as a page
    campaign = cdb.campaign(store, campaign_id)
    clock = campaign.last_tick_at or store.now()
    for r in roster.roster_rows(store, campaign_id, wave=wave, status=status, stale_before=clock - REOFFER_AFTER):
        yield {"vin": r.vin, "model": r.model, "trim": r.trim, "market": r.market, "wave": r.wave + 1,
               "cohort": r.cohort, "status": r.status, "excluded": r.excluded, "attempts": r.attempts,
               "offered_at": r.offered_at, "reported_at": r.reported_at,
               "failure_reason": _failure_reason(r.status, r.detail) or "", "detail": r.detail}


def cohort_table(store: Store, campaign_id: int) -> list[dict[str, Any]]:
    """Per wave and cohort (model/trim): size, outcomes, error rate, excluded — the table a halt is read from."""
    _, by_cohort = wave_counts(store, campaign_id)
    _, counted = wave_counts(store, campaign_id, counted_only=True)
    rows = []
    for wave in sorted(by_cohort):
        for cohort, c in sorted(by_cohort[wave].items()):
            kept = counted.get(wave, {}).get(cohort)
            rows.append({"wave": wave, "cohort": cohort, "size": c.size, "succeeded": c.succeeded,
                         "failed": c.failed, "rolled_back": c.rolled_back, "crashed": c.crashed,
                         "error_rate": c.error_rate if c.reports else None,
                         "excluded": c.size - (kept.size if kept else 0)})
    return rows
