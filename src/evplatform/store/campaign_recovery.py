"""The release manager's recovery moves on a campaign's vehicles and waves: exclude, retry, next wave.

Each is one transaction that first claims the campaign row in one of the states the domain allows
(``UPDATE … SET state = state WHERE state IN …``: on PostgreSQL the row stays locked until the
commit, so the controller cannot halt or advance the campaign half-way through), then moves the
vehicles or waves, then writes the history row and the audit row. ``None`` means the campaign
was not in an allowed state: the caller names the allowed actions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from evplatform.errors import FleetError
from evplatform.store._sql import audit
from evplatform.store.campaign_history import add_event
from evplatform.store.database import Store
from evplatform.store.schema import Campaign, CampaignVehicle, SupersededReport, UpdateReport, Vehicle, Wave

__all__ = ["Cohort", "exclude", "open_next_wave", "retry_failed"]

#: Outcomes a retry offers the release again after.
RETRIED_OUTCOMES = ("failed", "rolled_back")


@dataclass(frozen=True, slots=True)
class Cohort:
    """Vehicles to leave out: a model, a model and trim, or a market (each part optional, one needed)."""

    model: str | None = None
    trim: str | None = None
    market: str | None = None

    def text(self) -> str:
        parts = [f"{self.model}/{self.trim}" if self.trim else self.model, f"market {self.market}" if self.market
                 else None]
        return " in ".join(p for p in parts if p) or "everyone"

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("model", self.model), ("trim", self.trim), ("market", self.market)) if v}


def _claim(session: Session, campaign_id: int, allowed_from: Sequence[str]) -> str | None:
    """Lock the campaign row if its state is allowed; its state, or None."""
    claimed = session.execute(
        update(Campaign).where(Campaign.id == campaign_id, Campaign.state.in_(allowed_from))
        .values(state=Campaign.state).execution_options(synchronize_session=False))
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return None
    return session.scalar(select(Campaign.state).where(Campaign.id == campaign_id))


def _record(session: Session, store: Store, campaign_id: int, state: str, action: str, actor: str, reason: str,
            detail: dict[str, Any]) -> None:
    add_event(session, campaign_id, at=store.now(), actor=actor, action=action, from_state=state, to_state=state,
              reason=reason, detail=detail)
    audit(session, store.now(), actor, f"campaign.{action}", f"campaign:{campaign_id}", {"reason": reason, **detail})


def exclude(store: Store, campaign_id: int, cohort: Cohort, *, allowed_from: Sequence[str], actor: str,
            reason: str) -> int | None:
    """Leave the cohort's vehicles out of the campaign; how many were newly excluded (None: state refused).

    A pending vehicle becomes ``excluded`` and is never offered; an offered one may still be installing
    and may still report, but is not offered again; every excluded vehicle, whatever its outcome, no
    longer counts for the gate (its failures stay on record as evidence).
    """
    conditions: list[ColumnElement[bool]] = []
    if cohort.model:
        conditions.append(Vehicle.model == cohort.model)
    if cohort.trim:
        conditions.append(Vehicle.trim == cohort.trim)
    if cohort.market:
        conditions.append(Vehicle.market == cohort.market)
    if not conditions:
        raise FleetError("exclude: name a model, a model/trim or a market")
    with store.session() as session:
        state = _claim(session, campaign_id, allowed_from)
        if state is None:
            return None
        result = session.execute(
            update(CampaignVehicle)
            .where(CampaignVehicle.campaign_id == campaign_id, CampaignVehicle.excluded.is_(False),
                   CampaignVehicle.vehicle_id.in_(select(Vehicle.id).where(and_(*conditions))))
            .values(excluded=True,
                    state=case((CampaignVehicle.state == "pending", "excluded"), else_=CampaignVehicle.state))
            .execution_options(synchronize_session=False))
        count = int(result.rowcount)  # type: ignore[attr-defined]
        if count == 0:  # rolls the claim back: nothing happened, nothing is recorded
            raise FleetError(f"campaign {campaign_id} has no vehicle of {cohort.text()} left to exclude")
        _record(session, store, campaign_id, state, "exclude", actor, reason,
                {"cohort": cohort.to_dict(), "vehicles": count})
        return count


def retry_failed(store: Store, campaign_id: int, *, wave: int | None, allowed_from: Sequence[str], actor: str,
                 reason: str) -> int | None:
    """Offer the release again to the failed and rolled-back vehicles of the opened waves (or of ``wave``).

    Their reports move to ``superseded_reports`` (the report key allows one per campaign and vehicle,
    and the evidence must survive); they become pending with no attempts. Excluded vehicles stay out.
    """
    with store.session() as session:
        state = _claim(session, campaign_id, allowed_from)
        if state is None:
            return None
        current = session.scalar(select(Campaign.current_wave).where(Campaign.id == campaign_id))
        chosen = and_(CampaignVehicle.campaign_id == campaign_id, CampaignVehicle.state.in_(RETRIED_OUTCOMES),
                      CampaignVehicle.excluded.is_(False), CampaignVehicle.wave <= (current or 0),
                      *([CampaignVehicle.wave == wave] if wave is not None else []))
        ids = select(CampaignVehicle.vehicle_id).where(chosen)
        now = store.now()
        session.execute(insert(SupersededReport).from_select(
            ["campaign_id", "vehicle_id", "release_id", "outcome", "at", "detail", "superseded_at"],
            select(UpdateReport.campaign_id, UpdateReport.vehicle_id, UpdateReport.release_id, UpdateReport.outcome,
                   UpdateReport.at, UpdateReport.detail, _literal_time(now))
            .where(UpdateReport.campaign_id == campaign_id, UpdateReport.vehicle_id.in_(ids))))
        session.execute(delete(UpdateReport).where(UpdateReport.campaign_id == campaign_id,
                                                   UpdateReport.vehicle_id.in_(ids))
                        .execution_options(synchronize_session=False))
        result = session.execute(update(CampaignVehicle).where(chosen)
                                 .values(state="pending", attempts=0, offered_at=None)
                                 .execution_options(synchronize_session=False))
        count = int(result.rowcount)  # type: ignore[attr-defined]
        _record(session, store, campaign_id, state, "retry", actor, reason,
                {"vehicles": count, **({"wave": wave + 1} if wave is not None else {})})
        return count


def _literal_time(at: datetime) -> Any:
    return literal(at, SupersededReport.superseded_at.type)


def open_next_wave(store: Store, campaign_id: int, *, allowed_from: Sequence[str], actor: str, reason: str,
                   at: datetime) -> int | None:
    """Open the wave after the current one now, whatever the gate says (hawkBit's "trigger next group").

    The current wave is closed as ``done`` (a halted one stays ``halted``: the evidence); returns the
    index of the wave opened, None when the state refused. FleetError (409) on the last wave.
    """
    with store.session() as session:
        state = _claim(session, campaign_id, allowed_from)
        if state is None:
            return None
        current = int(session.scalar(select(Campaign.current_wave).where(Campaign.id == campaign_id)) or 0)
        waves = int(session.scalar(select(Wave.index).where(Wave.campaign_id == campaign_id)
                                   .order_by(Wave.index.desc()).limit(1)) or 0) + 1
        if current + 1 >= waves:
            raise FleetError(f"campaign {campaign_id} is at its last wave ({current + 1} of {waves}); "
                             "there is no next wave to open")
        session.execute(update(Wave).where(Wave.campaign_id == campaign_id, Wave.index == current,
                                           or_(Wave.state == "active", Wave.state == "pending"))
                        .values(state="done", finished_at=at))
        session.execute(update(Wave).where(Wave.campaign_id == campaign_id, Wave.index == current + 1)
                        .values(state="active", started_at=at, finished_at=None))
        session.execute(update(Campaign).where(Campaign.id == campaign_id).values(current_wave=current + 1))
        _record(session, store, campaign_id, state, "next-wave", actor, reason, {"wave": current + 2})
        return current + 1
