"""One vehicle in detail: its update history (every campaign step), last contact and telemetry with units.

The history is what an auditor or a service desk asks first — "what did we send this car, when, and
how did it end?" — so it lists each campaign that targeted the vehicle as up to three events:

* ``targeted``: the campaign assigned the vehicle to a wave (at the campaign's start);
* ``offered``: the update was offered to the vehicle (``campaign_vehicles.offered_at``: the last
  offer; a re-offer after no answer says "offer N");
* ``reported``: the vehicle's final outcome (succeeded, failed, rolled back), with whether UN R156 /
  GB 44496 evidence was captured at the offer (``update_evidence``).

A vehicle still waiting shows its targeted (and offered) events with its current state, so an open
campaign is visible too. Events are in time order; events without a time (a draft's assignment)
come first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from evplatform.errors import NotFoundError
from evplatform.store import Store
from evplatform.store import details as ddb
from evplatform.store import vehicles as vdb

#: Units of the telemetry values (``fleet.telemetry``: state of charge in %, odometer in km).
TELEMETRY_UNITS = {"soc": "%", "odometer": "km"}
#: Human names of the telemetry kinds.
TELEMETRY_NAMES = {"soc": "state of charge", "odometer": "odometer", "health": "health", "crash": "crash"}
#: Readings per kind in a vehicle's small series.
SERIES_LENGTH = 20
_ORDER = {"targeted": 0, "offered": 1, "reported": 2}
_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    at: datetime | None
    action: str  # targeted | offered | reported
    campaign_id: int
    campaign: str
    release_id: str
    version: str
    wave: int  # 1-based, as pages say it
    state: str  # the vehicle's state in the campaign now
    outcome: str | None  # reported events only
    detail: str
    forced: bool
    evidence: bool  # evidence recorded at the offer (reported events)

    def to_dict(self) -> dict[str, Any]:
        return {"at": None if self.at is None else self.at.isoformat(), "action": self.action,
                "campaign_id": self.campaign_id, "campaign": self.campaign, "release_id": self.release_id,
                "version": self.version, "wave": self.wave, "state": self.state, "outcome": self.outcome,
                "detail": self.detail, "forced": self.forced, "evidence": self.evidence}


def history_of(steps: list[ddb.CampaignStep]) -> list[HistoryEvent]:
    """The events of a vehicle's campaign steps, in time order (see the module docstring)."""
    events = []
    for s in steps:
        def event(at: datetime | None, action: str, outcome: str | None = None, detail: str = "",
                  evidence: bool = False, s: ddb.CampaignStep = s) -> HistoryEvent:
            return HistoryEvent(at, action, s.campaign_id, s.campaign, s.release_id, s.version, s.wave + 1, s.state,
                                outcome, detail, s.forced, evidence)

        events.append(event(s.started_at, "targeted"))
        if s.offered_at is not None:
            # one row per (campaign, vehicle) keeps the last offer's time and how many offers there were
            events.append(event(s.offered_at, "offered", detail=f"offer {s.attempts}" if s.attempts > 1 else ""))
        if s.outcome is not None:
            events.append(event(s.reported_at, "reported", s.outcome, s.detail, s.evidence_at is not None))
    return sorted(events, key=lambda e: (e.at or _EARLIEST, e.campaign_id, _ORDER[e.action]))


def vehicle_history(store: Store, vin: str) -> list[HistoryEvent]:
    """Every campaign step of the vehicle ``vin``; NotFoundError for an unknown VIN."""
    found = vdb.vehicle_by_vin(store, vin)
    if found is None:
        raise NotFoundError("vehicle", vin)
    return history_of(ddb.vehicle_campaign_steps(store, found.id))


def last_seen(history: list[HistoryEvent], telemetry_at: datetime | None) -> datetime | None:
    """The vehicle's last contact: its newest telemetry, offer or report (the server hears from it then)."""
    moments = [e.at for e in history if e.action in ("offered", "reported") and e.at is not None]
    if telemetry_at is not None:
        moments.append(telemetry_at)
    return max(moments, default=None)


def telemetry_summary(store: Store, vehicle_id: int) -> list[dict[str, Any]]:
    """Per telemetry kind the vehicle sent: name, unit, latest value and time, and a small series (oldest first)."""
    out = []
    for kind in vdb.TELEMETRY_KINDS:
        events = vdb.telemetry(store, vehicle_id=vehicle_id, kind=kind, limit=SERIES_LENGTH)
        if not events:
            continue
        latest = events[0]
        out.append({
            "kind": kind, "name": TELEMETRY_NAMES.get(kind, kind), "unit": TELEMETRY_UNITS.get(kind),
            "latest": latest.value, "latest_at": latest.at.isoformat(), "detail": latest.detail,
            "series": [{"at": e.at.isoformat(), "value": e.value} for e in reversed(events)],
        })
    return out


def vehicle_detail(store: Store, vin: str) -> dict[str, Any]:
    """The vehicle page's data: the registry record, history, last seen and telemetry (JSON-ready, no view keys)."""
    found = vdb.vehicle_by_vin(store, vin)
    if found is None:
        raise NotFoundError("vehicle", vin)
    history = history_of(ddb.vehicle_campaign_steps(store, found.id))
    seen = last_seen(history, ddb.last_telemetry_at(store, found.id))
    return {"history": [e.to_dict() for e in history], "last_seen": None if seen is None else seen.isoformat(),
            "telemetry_series": telemetry_summary(store, found.id)}
