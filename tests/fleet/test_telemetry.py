"""Telemetry ingestion: checked before storing, stored all at once, consent respected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evplatform.clock import FixedClock
from evplatform.fleet.registry import VehicleSpec, register_vehicles
from evplatform.fleet.reported_time import ReportedTimeError
from evplatform.fleet.telemetry import TelemetryError, TelemetryEvent, ingest
from evplatform.store import Store
from evplatform.store import vehicles as vdb
from evplatform.workspace import Workspace
from fleet_support import FLEET_NOW, T0

VIN = "LMDAB100000000001"
PRIVATE = "LMDAB100000000002"


@pytest.fixture
def two(store: Store, demo: Workspace) -> Store:
    store.clock = FixedClock(FLEET_NOW)
    register_vehicles(
        store,
        demo,
        [VehicleSpec(VIN, "su7", "max", "CN"), VehicleSpec(PRIVATE, "su7", "pro", "CN", consent_telemetry=False)],
        at=T0,
    )
    return store


def test_events_of_every_kind_are_stored(two: Store) -> None:
    events = [
        TelemetryEvent(VIN, "soc", T0, 81.5),
        TelemetryEvent(VIN, "odometer", T0, 12_345.0),
        TelemetryEvent(VIN, "health", T0, detail={"status": "ok"}),
        TelemetryEvent(VIN, "crash", T0 + timedelta(hours=1), release_id="hub-os-1.7.0", detail={"ecu": "adas"}),
    ]
    assert ingest(two, events) == 4
    newest = vdb.telemetry(two, limit=10)
    assert newest[0].kind == "crash" and newest[0].detail == {"ecu": "adas"}
    assert {e.kind for e in newest} == {"soc", "odometer", "health", "crash"}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (TelemetryEvent(VIN, "mood", T0), "unknown kind 'mood'"),
        (TelemetryEvent(VIN, "soc", T0, 101.0), "state of charge must be within 0–100 %"),
        (TelemetryEvent(VIN, "soc", T0), "state of charge must be within"),
        (TelemetryEvent(VIN, "odometer", T0, -1.0), "odometer must be ≥ 0 km"),
        (TelemetryEvent(VIN, "soc", datetime(2026, 11, 2), 50.0), "has no time zone"),
        (TelemetryEvent("LMDAB100000000999", "soc", T0, 50.0), "unknown vehicle"),
        (TelemetryEvent(PRIVATE, "soc", T0, 50.0), "no telemetry consent for 'soc'"),
    ],
)
def test_bad_events_are_refused_and_nothing_is_stored(two: Store, event: TelemetryEvent, message: str) -> None:
    with pytest.raises(TelemetryError, match=message):
        ingest(two, [TelemetryEvent(VIN, "soc", T0, 50.0), event])
    assert vdb.telemetry(two) == []


def test_safety_events_need_no_consent(two: Store) -> None:
    assert ingest(two, [TelemetryEvent(PRIVATE, "crash", T0), TelemetryEvent(PRIVATE, "health", T0)]) == 2


@pytest.mark.parametrize(("offset", "message"), [(timedelta(hours=100), "ahead of the server's clock"),
                                                  (timedelta(minutes=6), "ahead of the server's clock"),
                                                  (-timedelta(days=91), "more than 90 days before")])
def test_an_event_dated_outside_the_window_around_the_servers_clock_is_refused(
        two: Store, offset: timedelta, message: str) -> None:
    """A crash dated 100 h ahead once opened the next wave of every running campaign at once."""
    with pytest.raises(ReportedTimeError, match=message):
        ingest(two, [TelemetryEvent(VIN, "soc", FLEET_NOW, 50.0), TelemetryEvent(VIN, "crash", FLEET_NOW + offset)])
    assert vdb.telemetry(two) == []  # all or none


def test_an_event_within_the_window_is_stored_as_the_vehicle_dated_it(two: Store) -> None:
    at = FLEET_NOW + timedelta(minutes=4)  # a vehicle clock slightly ahead is evidence, kept as sent
    assert ingest(two, [TelemetryEvent(VIN, "crash", at)]) == 1
    assert vdb.telemetry(two)[0].at.replace(tzinfo=UTC) == at
