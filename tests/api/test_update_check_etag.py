"""The update check's ETag (fleet.generations): 304 with nothing new, a new one for a new assignment
only; public keys cached and invalidated on rotation; the Director's publish moves the number."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from api.support import KeyedVehicle, bearer, error_of, new_campaign
from api.test_telemetry import AT, post_signed
from evplatform.api.auth import public_key_text, sign_request
from evplatform.ota.client.requests import UpdateChecker
from evplatform.store import Store
from evplatform.store import vehicles as vdb
from evplatform.store.generations import generation
from evplatform.store.key_cache import key_cache
from fleet.test_polling import counted_writes

PATH = "/api/vehicle/update-check"


def check(client: TestClient, vehicle: KeyedVehicle, etag: str | None = None,
          key: SigningKey | None = None) -> httpx.Response:
    headers = sign_request(key or vehicle.key, vehicle.vin, "POST", PATH)
    if etag is not None:
        headers["If-None-Match"] = etag
    return client.post(PATH, headers=headers)


#: Tables every signed vehicle request writes, whatever it asks (store.replay, the shared rate limits).
REQUEST_GUARDS = ("seen_signatures", "rate_counters")


def only_request_guards(writes: list[str]) -> bool:
    """True when every statement wrote a request guard's table, and the replay guard was among them."""
    tables = [next((t for t in REQUEST_GUARDS if f"INTO {t}" in w or f"UPDATE {t}" in w), None) for w in writes]
    return None not in tables and "seen_signatures" in tables


def app_store(client: TestClient) -> Store:
    store: Store = client.app.state.context.store()  # type: ignore[attr-defined]
    return store


def test_nothing_new_is_304_with_only_the_replay_guard_written(client: TestClient, keyed_vehicle: KeyedVehicle) -> None:
    first = check(client, keyed_vehicle)
    etag = first.headers["etag"]
    assert first.status_code == 200 and first.json()["update"] is None
    with counted_writes(app_store(client)) as writes:
        again = check(client, keyed_vehicle, etag)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["retry-after"] == "3600"
    assert only_request_guards(writes)  # the replay guard (and the rate limit): nothing else written
    assert check(client, keyed_vehicle, f'"stale", W/{etag}').status_code == 304  # a list, a weak tag
    assert check(client, keyed_vehicle, '"g999.3600.0"').status_code == 200  # another generation
    assert check(client, keyed_vehicle, "not a tag list").status_code == 200  # unparsable: the full answer


def test_only_a_new_assignment_changes_the_etag(client: TestClient, keyed_vehicle: KeyedVehicle,
                                                tokens: dict[str, str]) -> None:
    etag = check(client, keyed_vehicle).headers["etag"]
    health = [{"vin": keyed_vehicle.vin, "kind": "health", "at": AT}]
    assert post_signed(client, keyed_vehicle, health).status_code == 201  # its telemetry
    germany = _campaign_elsewhere(client, tokens)  # another vehicle's campaign (Germany; this one is Chinese)
    assert client.get(f"/api/campaigns/{germany}").json()["state"] == "running"
    assert check(client, keyed_vehicle, etag).status_code == 304
    assert client.post(f"/api/campaigns/{germany}/cancel", json={"reason": "wrong build"},
                       headers=bearer(tokens["release_manager"])).status_code == 200  # one campaign per ECU
    other = vdb.list_vehicles(app_store(client), market="CN", limit=2)[1].vin
    vdb.set_public_key(app_store(client), other, public_key_text(SigningKey.generate()))  # another vehicle's key
    assert check(client, keyed_vehicle, etag).status_code == 304  # none of that concerns this vehicle

    cid = new_campaign(client, tokens["release_manager"], tokens["admin"])["id"]  # a campaign for it
    offered = check(client, keyed_vehicle, etag)
    assert offered.status_code == 200 and offered.json()["update"]["campaign_id"] == cid
    assert offered.headers["etag"] != etag and offered.headers["retry-after"] == "300"
    held = check(client, keyed_vehicle, offered.headers["etag"])
    assert held.status_code == 304 and held.headers["retry-after"] == "300"  # it has the offer already
    body = {"campaign_id": cid, "outcome": "succeeded"}
    data = json.dumps(body).encode()
    headers = {**sign_request(keyed_vehicle.key, keyed_vehicle.vin, "POST", "/api/vehicle/report", data),
               "Content-Type": "application/json"}
    assert client.post("/api/vehicle/report", content=data, headers=headers).status_code == 200
    done = check(client, keyed_vehicle, offered.headers["etag"])  # its own report: the answer changed
    assert done.status_code == 200 and done.json()["update"] is None


def _campaign_elsewhere(client: TestClient, tokens: dict[str, str]) -> int:
    headers = bearer(tokens["release_manager"])
    release: dict[str, Any] = {"id": "hub-os-1.9.0", "component": "hub-os", "version": "1.9.0"}
    assert client.post("/api/releases", json=release, headers=headers).status_code == 201
    approval = {"market": "EU", "authority": "KBA", "reference": "R156-2026-9"}
    assert client.post("/api/releases/hub-os-1.9.0/approvals", json=approval,
                       headers=bearer(tokens["admin"])).status_code == 201
    response = client.post("/api/campaigns", headers=headers, json={
        "name": "Germany", "release_id": "hub-os-1.9.0", "target": {"markets": ["DE"]}, "waves": [{"fraction": 1.0}],
        "start": True})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_a_rotated_key_is_used_at_once(client: TestClient, keyed_vehicle: KeyedVehicle,
                                       tokens: dict[str, str]) -> None:
    """The key cache is invalidated on rotation: without it the old key would pass for 30 s."""
    assert check(client, keyed_vehicle).status_code == 200  # the old key, now cached
    assert key_cache(app_store(client)).get(keyed_vehicle.vin) == public_key_text(keyed_vehicle.key)
    new = SigningKey.generate()
    rotated = client.put(f"/api/fleet/vehicles/{keyed_vehicle.vin}/key",
                         json={"public_key": public_key_text(new)}, headers=bearer(tokens["admin"]))
    assert rotated.status_code == 200, rotated.text
    status, kind, message = error_of(check(client, keyed_vehicle))  # signed with the old key
    assert (status, kind) == (401, "Unauthenticated") and "bad signature" in message
    assert check(client, keyed_vehicle, key=new).status_code == 200


def test_a_key_rotated_by_another_process_is_taken_on_a_failed_signature(
        client: TestClient, keyed_vehicle: KeyedVehicle, store: Store) -> None:
    assert check(client, keyed_vehicle).status_code == 200  # cached in the server's store
    new = SigningKey.generate()
    vdb.set_public_key(store, keyed_vehicle.vin, public_key_text(new))  # another Store: the server's cache is stale
    assert key_cache(app_store(client)).get(keyed_vehicle.vin) == public_key_text(keyed_vehicle.key)
    assert check(client, keyed_vehicle, key=new).status_code == 200  # re-read once, then cached
    assert key_cache(app_store(client)).get(keyed_vehicle.vin) == public_key_text(new)


def test_the_directors_publish_moves_the_generation(client: TestClient, keyed_vehicle: KeyedVehicle) -> None:
    context = client.app.state.context  # type: ignore[attr-defined]
    before = generation(app_store(client), keyed_vehicle.vin)
    context._director_published(keyed_vehicle.vin)  # what OtaService.on_publish calls
    assert generation(app_store(client), keyed_vehicle.vin) == (before or 0) + 1


def test_the_vehicle_client_polls_with_if_none_match(client: TestClient, keyed_vehicle: KeyedVehicle,
                                                     tokens: dict[str, str]) -> None:
    checker = UpdateChecker("http://testserver", keyed_vehicle.vin, keyed_vehicle.key, client=client)
    first = checker.check()
    assert (first.update, first.poll_after_s, first.not_modified) == (None, 3_600, False)
    with counted_writes(app_store(client)) as writes:
        again = checker.check()
    assert (again.update, again.poll_after_s, again.not_modified) == (None, 3_600, True)
    assert only_request_guards(writes)  # the server answered 304
    cid = new_campaign(client, tokens["release_manager"], tokens["admin"])["id"]
    offered = checker.check()
    assert not offered.not_modified and offered.update is not None and offered.update["campaign_id"] == cid
    kept = checker.check()
    assert kept.not_modified and kept.update == offered.update and kept.poll_after_s == 300
