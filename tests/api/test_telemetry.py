"""Telemetry ingestion: a vehicle signs its own events, a gateway needs an engineer's token."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

from api.support import KeyedVehicle, bearer, error_of
from evplatform.api.auth import sign_request
from evplatform.store import Store
from evplatform.store import vehicles as vdb

AT = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0).isoformat()  # recent, on any day


def post_signed(client: TestClient, vehicle: KeyedVehicle, events: list[dict]) -> httpx.Response:
    body = json.dumps({"events": events}).encode()
    headers = {**sign_request(vehicle.key, vehicle.vin, "POST", "/api/telemetry", body),
               "Content-Type": "application/json"}
    return client.post("/api/telemetry", content=body, headers=headers)


def test_vehicle_posts_its_own_events(client: TestClient, store: Store, keyed_vehicle: KeyedVehicle) -> None:
    events: list[dict[str, Any]] = [{"vin": keyed_vehicle.vin, "kind": "health", "at": AT, "detail": {"status": "ok"}},
              {"vin": keyed_vehicle.vin, "kind": "crash", "at": AT, "release_id": "hub-os-1.7.0"}]
    response = post_signed(client, keyed_vehicle, events)
    assert response.status_code == 201 and response.json() == {"stored": 2}
    vehicle = vdb.vehicle_by_vin(store, keyed_vehicle.vin)
    assert vehicle is not None
    kinds = [e.kind for e in vdb.telemetry(store, vehicle_id=vehicle.id, limit=5) if e.at.isoformat() == AT]
    assert sorted(kinds) == ["crash", "health"]


def test_vehicle_cannot_post_for_another(client: TestClient, store: Store, keyed_vehicle: KeyedVehicle) -> None:
    other = vdb.list_vehicles(store, limit=1, offset=7)[0].vin
    response = post_signed(client, keyed_vehicle, [{"vin": other, "kind": "health", "at": AT}])
    status, kind, message = error_of(response)
    assert (status, kind) == (403, "Forbidden") and other in message


def test_gateway_needs_engineer(client: TestClient, store: Store, tokens: dict[str, str]) -> None:
    vin = vdb.list_vehicles(store, limit=1)[0].vin
    body = {"events": [{"vin": vin, "kind": "health", "at": AT}]}
    assert client.post("/api/telemetry", json=body).status_code == 401
    assert client.post("/api/telemetry", json=body, headers=bearer(tokens["viewer"])).status_code == 403
    assert client.post("/api/telemetry", json=body, headers=bearer(tokens["engineer"])).json() == {"stored": 1}


def test_bad_events_are_422_and_nothing_is_stored(client: TestClient, store: Store, tokens: dict[str, str]) -> None:
    vin = vdb.list_vehicles(store, limit=1)[0].vin
    before = len(vdb.telemetry(store, limit=10_000))
    headers = bearer(tokens["engineer"])
    wrong_kind = client.post("/api/telemetry", headers=headers,
                             json={"events": [{"vin": vin, "kind": "mood", "at": AT}]})
    assert error_of(wrong_kind)[0] == 422 and "body.events.0.kind" in error_of(wrong_kind)[2]
    naive = client.post("/api/telemetry", headers=headers,
                        json={"events": [{"vin": vin, "kind": "health", "at": "2026-12-01T09:00:00"}]})
    assert error_of(naive)[0] == 422 and "timezone" in error_of(naive)[2]
    soc = client.post("/api/telemetry", headers=headers, json={"events": [
        {"vin": vin, "kind": "health", "at": AT}, {"vin": vin, "kind": "soc", "at": AT, "value": 140}]})
    assert error_of(soc) == (
        422, "TelemetryError", f"event 1 ({vin}): state of charge must be within 0–100 %, got 140.0"
    )
    unknown = client.post("/api/telemetry", headers=headers,
                          json={"events": [{"vin": "NOPE", "kind": "health", "at": AT}]})
    assert error_of(unknown) == (422, "TelemetryError", "unknown vehicle(s): NOPE")
    empty = client.post("/api/telemetry", headers=headers, json={"events": []})
    assert error_of(empty)[0] == 422
    assert len(vdb.telemetry(store, limit=10_000)) == before
