"""A campaign's history: one row per change, written in the transaction of the change itself.

The campaign row holds only the present (its state, the halt reason of the last halt); what happened
before — the gate's halt with its evidence, who acknowledged it and why, which cohort was excluded,
the cancellation and its reason — is here and is never overwritten, so a cancel keeps the halt's
evidence readable beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from evplatform.store.database import Store
from evplatform.store.schema import CampaignHistory

__all__ = ["HistoryRecord", "add_event", "history", "last_reasons"]


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    at: datetime
    actor: str
    action: str
    from_state: str
    to_state: str
    reason: str
    detail: Mapping[str, Any] = field(default_factory=dict)


def add_event(session: Session, campaign_id: int, *, at: datetime, actor: str, action: str, from_state: str,
              to_state: str, reason: str | None = None, detail: Mapping[str, Any] | None = None) -> None:
    """Append one change in the caller's transaction (so the change and its record stand or fall together)."""
    session.add(CampaignHistory(campaign_id=campaign_id, at=at, actor=actor, action=action, from_state=from_state,
                                to_state=to_state, reason=reason or "", detail=dict(detail or {})))


def history(store: Store, campaign_id: int, *, limit: int = 1000) -> list[HistoryRecord]:
    """The campaign's changes, oldest first (the last ``limit`` of them)."""
    query = (select(CampaignHistory).where(CampaignHistory.campaign_id == campaign_id)
             .order_by(CampaignHistory.id.desc()).limit(limit))
    with store.session() as session:
        rows = [HistoryRecord(h.at, h.actor, h.action, h.from_state, h.to_state, h.reason, dict(h.detail or {}))
                for h in session.scalars(query)]
    return rows[::-1]


def last_reasons(store: Store, campaign_id: int, actions: tuple[str, ...]) -> dict[str, str]:
    """The reason of the latest change of each of ``actions`` (absent: never happened)."""
    query = (select(CampaignHistory.action, CampaignHistory.reason)
             .where(CampaignHistory.campaign_id == campaign_id, CampaignHistory.action.in_(actions))
             .order_by(CampaignHistory.id))
    with store.session() as session:
        return {str(a): str(r) for a, r in session.execute(query)}
