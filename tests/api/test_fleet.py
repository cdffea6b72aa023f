"""Fleet routes: paging and filters, counts, one vehicle, key provisioning (admin only)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from api.support import DEMO_VEHICLES, bearer, error_of
from evplatform.api.auth import public_key_text
from evplatform.store import Store, audit_log
from evplatform.store import vehicles as vdb


def test_counts_add_up_to_the_fleet(client: TestClient, store: Store) -> None:
    data = client.get("/api/fleet/counts").json()
    assert data["total"] == DEMO_VEHICLES
    assert sum(c["vehicles"] for c in data["cells"]) == DEMO_VEHICLES
    assert data["cells"] == vdb.fleet_counts(store)


def test_pages_cover_the_fleet_once(client: TestClient) -> None:
    seen: list[str] = []
    offset = 0
    while True:
        page = client.get("/api/fleet/vehicles", params={"limit": 128, "offset": offset}).json()
        assert page["total"] == DEMO_VEHICLES
        seen += [v["vin"] for v in page["vehicles"]]
        if len(page["vehicles"]) < 128:
            break
        offset += 128
    assert len(seen) == len(set(seen)) == DEMO_VEHICLES


def test_filter_by_market_and_model(client: TestClient, store: Store) -> None:
    page = client.get("/api/fleet/vehicles", params={"market": "CN", "model": "su7", "limit": 1000}).json()
    expected = sum(c["vehicles"] for c in vdb.fleet_counts(store) if c["market"] == "CN" and c["model"] == "su7")
    assert page["total"] == expected == len(page["vehicles"])
    assert {(v["market"], v["model"]) for v in page["vehicles"]} == {("CN", "su7")}


def test_one_vehicle_with_configuration_and_telemetry(client: TestClient, store: Store) -> None:
    vin = vdb.list_vehicles(store, limit=1)[0].vin
    data = client.get(f"/api/fleet/vehicles/{vin}").json()
    record = vdb.vehicle_by_vin(store, vin)
    assert record is not None
    assert data["configuration"] == sorted(record.configuration)
    assert data["hardware_ids"] == dict(record.hardware_ids)
    assert {e["kind"] for e in data["telemetry"]} >= {"health"}


def test_unknown_vehicle_is_404(client: TestClient) -> None:
    assert error_of(client.get("/api/fleet/vehicles/NOPE")) == (404, "NotFound", "no vehicle NOPE")


def test_provisioning_a_key_needs_an_admin(client: TestClient, store: Store, tokens: dict[str, str]) -> None:
    vin = vdb.list_vehicles(store, limit=1)[0].vin
    key = public_key_text(SigningKey.generate())
    assert client.put(f"/api/fleet/vehicles/{vin}/key", json={"public_key": key}).status_code == 401
    refused = client.put(f"/api/fleet/vehicles/{vin}/key", json={"public_key": key},
                         headers=bearer(tokens["release_manager"]))
    assert refused.status_code == 403
    assert vdb.public_key(store, vin) is None
    done = client.put(f"/api/fleet/vehicles/{vin}/key", json={"public_key": key}, headers=bearer(tokens["admin"]))
    assert done.status_code == 200
    assert vdb.public_key(store, vin) == key
    assert audit_log(store, limit=1)[0].action == "vehicle.key"


def test_a_key_that_is_not_hex_is_422(client: TestClient, store: Store, tokens: dict[str, str]) -> None:
    vin = vdb.list_vehicles(store, limit=1)[0].vin
    response = client.put(f"/api/fleet/vehicles/{vin}/key", json={"public_key": "xyz"}, headers=bearer(tokens["admin"]))
    status, _, message = error_of(response)
    assert status == 422 and "body.public_key" in message


def test_software_versions_match_the_registry(store: Store) -> None:
    from collections import Counter

    from evplatform.store.dashboard import software_versions

    vehicles = vdb.list_vehicles(store, limit=DEMO_VEHICLES)
    ecus = sorted({ecu for v in vehicles for ecu in v.software})
    counted = software_versions(store, ecus)
    for ecu in ecus:
        expected = Counter(f"{v.software[ecu]['component']} {v.software[ecu]['version']}"
                           for v in vehicles if ecu in v.software)
        missing = sum(1 for v in vehicles if ecu not in v.software)
        assert counted[ecu] == {**expected, **({"none": missing} if missing else {})}
    assert "hub-os 1.7.0" in counted["central-compute"]
