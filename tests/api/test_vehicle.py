"""Vehicle-facing routes: signed update check and report; replayed, stale, unsigned or forged requests refused."""

from __future__ import annotations

import json
import time

import httpx
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from api.support import KeyedVehicle, error_of, new_campaign
from evplatform.api.auth import sign_request
from evplatform.store import Store
from evplatform.store.progress import report_counts


def signed_post(client: TestClient, vehicle: KeyedVehicle, path: str, body: dict | None = None,
                **kw: float) -> httpx.Response:
    data = b"" if body is None else json.dumps(body).encode()
    headers = sign_request(vehicle.key, vehicle.vin, "POST", path, data, **kw)
    headers["Content-Type"] = "application/json"
    return client.post(path, content=data, headers=headers)


def test_update_check_offers_the_release_once(
    client: TestClient, keyed_vehicle: KeyedVehicle, tokens: dict[str, str]
) -> None:
    assert signed_post(client, keyed_vehicle, "/api/vehicle/update-check").json()["update"] is None
    cid = new_campaign(client, tokens["release_manager"], tokens["admin"])["id"]
    offer = signed_post(client, keyed_vehicle, "/api/vehicle/update-check").json()
    assert offer["update"]["campaign_id"] == cid
    assert offer["update"]["release_id"] == "hub-os-1.8.0" and offer["update"]["version"] == "1.8.0"
    again = signed_post(client, keyed_vehicle, "/api/vehicle/update-check").json()
    assert again["update"]["campaign_id"] == cid  # offered, not answered yet: still due


def test_report_counts_once(client: TestClient, store: Store, keyed_vehicle: KeyedVehicle,
                            tokens: dict[str, str]) -> None:
    cid = new_campaign(client, tokens["release_manager"], tokens["admin"])["id"]
    signed_post(client, keyed_vehicle, "/api/vehicle/update-check")
    body = {"campaign_id": cid, "outcome": "succeeded"}
    first = signed_post(client, keyed_vehicle, "/api/vehicle/report", body).json()
    second = signed_post(client, keyed_vehicle, "/api/vehicle/report", body).json()
    assert first["counted"] is True and second["counted"] is False
    assert report_counts(store, cid) == {"succeeded": 1}
    assert signed_post(client, keyed_vehicle, "/api/vehicle/update-check").json()["update"] is None


def test_report_for_another_campaign_is_refused(client: TestClient, keyed_vehicle: KeyedVehicle) -> None:
    response = signed_post(client, keyed_vehicle, "/api/vehicle/report", {"campaign_id": 2, "outcome": "failed"})
    status, kind, _ = error_of(response)
    assert (status, kind) == (409, "FleetError")


def test_unsigned_request_is_401(client: TestClient) -> None:
    status, kind, message = error_of(client.post("/api/vehicle/update-check"))
    assert (status, kind) == (401, "Unauthenticated") and "X-Vehicle-Signature" in message


def test_replayed_request_is_refused(client: TestClient, keyed_vehicle: KeyedVehicle) -> None:
    headers = sign_request(keyed_vehicle.key, keyed_vehicle.vin, "POST", "/api/vehicle/update-check")
    assert client.post("/api/vehicle/update-check", headers=headers).status_code == 200
    replay = client.post("/api/vehicle/update-check", headers=headers)
    assert error_of(replay) == (401, "Unauthenticated", "this signed request was already used (replay)")


def test_stale_timestamp_is_refused(client: TestClient, keyed_vehicle: KeyedVehicle) -> None:
    response = signed_post(client, keyed_vehicle, "/api/vehicle/update-check", timestamp=time.time() - 3600)
    status, _, message = error_of(response)
    assert status == 401 and "from the server clock" in message


def test_signature_of_another_key_is_refused(client: TestClient, keyed_vehicle: KeyedVehicle) -> None:
    forged = KeyedVehicle(keyed_vehicle.vin, SigningKey.generate(), keyed_vehicle.market)
    response = signed_post(client, forged, "/api/vehicle/update-check")
    assert error_of(response) == (401, "Unauthenticated", f"bad signature for vehicle {keyed_vehicle.vin}")


def test_body_changed_after_signing_is_refused(client: TestClient, keyed_vehicle: KeyedVehicle) -> None:
    signed = json.dumps({"campaign_id": 1, "outcome": "succeeded"}).encode()
    headers = sign_request(keyed_vehicle.key, keyed_vehicle.vin, "POST", "/api/vehicle/report", signed)
    tampered = json.dumps({"campaign_id": 1, "outcome": "failed"}).encode()
    headers["Content-Type"] = "application/json"
    response = client.post("/api/vehicle/report", content=tampered, headers=headers)
    assert error_of(response)[0] == 401


def test_vehicle_without_a_key_is_refused(client: TestClient, store: Store) -> None:
    from evplatform.store import vehicles as vdb

    vin = vdb.list_vehicles(store, limit=1, offset=5)[0].vin
    key = SigningKey.generate()
    headers = sign_request(key, vin, "POST", "/api/vehicle/update-check")
    response = client.post("/api/vehicle/update-check", headers=headers)
    assert error_of(response) == (401, "Unauthenticated", f"vehicle {vin} is unknown or has no provisioned key")


def test_update_check_carries_the_poll_hint(client: TestClient, keyed_vehicle: KeyedVehicle,
                                             tokens: dict[str, str]) -> None:
    idle = signed_post(client, keyed_vehicle, "/api/vehicle/update-check")
    assert idle.json() == {"vin": keyed_vehicle.vin, "update": None, "poll_after_s": 3_600}
    assert idle.headers["retry-after"] == "3600" and idle.headers["etag"].endswith('.3600.0"')  # fleet.generations
    new_campaign(client, tokens["release_manager"], tokens["admin"])
    offered = signed_post(client, keyed_vehicle, "/api/vehicle/update-check")
    assert offered.json()["update"] is not None and offered.json()["poll_after_s"] == 300
    assert offered.headers["retry-after"] == "300"
