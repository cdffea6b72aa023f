"""Telemetry ingestion: health events, crash reports, state of charge, odometer.

The API hands vehicle messages to ``ingest``; each event is checked (known vehicle, known kind,
a value in range, an aware timestamp) before any is stored, and a batch is stored in one
transaction. Vehicles whose owner withheld telemetry consent still send crash reports and health
events — safety data (UN R157/EDR-like records) — but their state of charge and odometer are
refused (GDPR Art. 6 purpose limitation). A crash report re-applies the gate of every running
campaign, since a crash after a successful installation counts as an error of that campaign.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from evplatform.errors import FleetError
from evplatform.fleet.reported_time import check_reported_time
from evplatform.store import Store
from evplatform.store import vehicles as db

KINDS = ("health", "crash", "soc", "odometer")
SAFETY_KINDS = ("health", "crash")


@dataclass(frozen=True, slots=True)
class TelemetryEvent:
    """One message from a vehicle. ``value``: SOC in %, odometer in km; unused for crash/health."""

    vin: str
    kind: str
    at: datetime
    value: float | None = None
    release_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


class TelemetryError(FleetError):
    """A telemetry event that cannot be accepted (says which event and why)."""

    http_status = 422


def check_event(index: int, event: TelemetryEvent) -> None:
    """Kind, zone and value range of one event (the HTTP and the MQTT paths both check this)."""
    where = f"event {index} ({event.vin})"
    if event.kind not in KINDS:
        raise TelemetryError(f"{where}: unknown kind {event.kind!r} (known: {', '.join(KINDS)})")
    if event.at.tzinfo is None:
        raise TelemetryError(f"{where}: timestamp {event.at.isoformat()} has no time zone")
    if event.kind == "soc" and (event.value is None or not 0.0 <= event.value <= 100.0):
        raise TelemetryError(f"{where}: state of charge must be within 0–100 %, got {event.value!r}")
    if event.kind == "odometer" and (event.value is None or event.value < 0.0):
        raise TelemetryError(f"{where}: odometer must be ≥ 0 km, got {event.value!r}")


def ingest(store: Store, events: Sequence[TelemetryEvent]) -> int:
    """Check and store a batch of events (all or none); returns how many were stored."""
    now = store.now()
    for index, event in enumerate(events):
        check_event(index, event)
        check_reported_time(event.at, now, f"event {index} ({event.vin})")
    ids = db.vehicle_ids(store, sorted({e.vin for e in events}))
    unknown = sorted({e.vin for e in events} - set(ids))
    if unknown:
        raise TelemetryError(f"unknown vehicle(s): {', '.join(unknown[:5])}")
    consent = db.telemetry_consent(store, list(ids))
    rows = []
    for index, event in enumerate(events):
        if event.kind not in SAFETY_KINDS and not consent[event.vin]:
            raise TelemetryError(f"event {index} ({event.vin}): no telemetry consent for {event.kind!r} data")
        rows.append(
            {
                "vehicle_id": ids[event.vin],
                "kind": event.kind,
                "at": event.at,
                "value": event.value,
                "release_id": event.release_id,
                "detail": dict(event.detail) or None,
            }
        )
    stored = db.insert_telemetry(store, rows)
    if any(e.kind == "crash" for e in events):
        _gate_running_campaigns(store, store.now())  # on the server's clock, never a crash event's time
    return stored


def _gate_running_campaigns(store: Store, now: datetime) -> None:
    """A crash after a successful install is an error for the campaign's gate: apply it now."""
    from evplatform.fleet.campaigns import evaluate
    from evplatform.store.campaigns import list_campaigns

    for campaign in list_campaigns(store):
        if campaign.state == "running":
            evaluate(store, campaign.id, now=now)

