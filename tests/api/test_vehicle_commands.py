"""`POST/GET /api/fleet/vehicles/{vin}/commands`: recorded, audited, expiring on the server clock."""

from __future__ import annotations

import socket

from fastapi.testclient import TestClient

from api.support import bearer
from evplatform.store import Store
from evplatform.store import vehicles as vdb
from evplatform.store.accounts import audit_log


def test_an_engineer_sends_a_command_and_it_is_listed_and_audited(client: TestClient, store: Store,
                                                                   tokens: dict[str, str]) -> None:
    vin = vdb.list_vehicles(store, limit=1)[0].vin
    sent = client.post(f"/api/fleet/vehicles/{vin}/commands", json={"action": "lock", "ttl_s": 60},
                       headers=bearer(tokens["engineer"]))
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert (body["vin"], body["action"], body["state"], body["published"]) == (vin, "lock", "pending", False)
    listed = client.get(f"/api/fleet/vehicles/{vin}/commands", headers=bearer(tokens["viewer"])).json()
    assert [c["id"] for c in listed["commands"]] == [body["id"]]
    assert any(e.action == "vehicle.command" and e.subject == body["id"] for e in audit_log(store, limit=10))


def test_a_viewer_cannot_send_and_bad_commands_are_4xx(client: TestClient, store: Store,
                                                       tokens: dict[str, str]) -> None:
    vin = vdb.list_vehicles(store, limit=1)[0].vin
    path = f"/api/fleet/vehicles/{vin}/commands"
    assert client.post(path, json={"action": "lock"}, headers=bearer(tokens["viewer"])).status_code == 403
    assert client.post(path, json={"action": "open_sunroof"}, headers=bearer(tokens["engineer"])).status_code == 422
    assert client.post(path, json={"action": "lock", "ttl_s": 10**9},
                       headers=bearer(tokens["engineer"])).status_code == 422
    assert client.post("/api/fleet/vehicles/NOPE/commands", json={"action": "lock"},
                       headers=bearer(tokens["engineer"])).status_code == 404
    assert client.get(path, headers=bearer(tokens["viewer"])).json() == {"commands": []}


def test_the_commands_export_as_csv_for_a_viewer_only(client: TestClient, store: Store,
                                                      tokens: dict[str, str]) -> None:
    vin = vdb.list_vehicles(store, limit=1)[0].vin
    path = f"/api/fleet/vehicles/{vin}/commands"
    sent = client.post(path, json={"action": "upload_logs"}, headers=bearer(tokens["engineer"])).json()
    assert client.get(path + "?format=csv").status_code == 401  # the gate holds for the CSV too
    response = client.get(path + "?format=csv", headers=bearer(tokens["viewer"]))
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="commands-{vin}.csv"' in response.headers["content-disposition"]
    header, row = response.text.splitlines()
    header = header.replace("\"", "")
    assert header.startswith("id,action,state,issued by,issued at (server clock, ISO 8601)")
    assert row.split(",")[:4] == [sent["id"], "upload_logs", "pending", sent["issued_by"]]
    assert sent["expires_at"] in row


def test_an_unreachable_broker_is_a_503_in_the_error_shape_and_the_command_stays_recorded(
        client: TestClient, store: Store, tokens: dict[str, str]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client.app.state.mqtt_url = f"mqtt://127.0.0.1:{port}"  # type: ignore[attr-defined]
    vin = vdb.list_vehicles(store, limit=1)[0].vin
    sent = client.post(f"/api/fleet/vehicles/{vin}/commands", json={"action": "lock", "ttl_s": 60},
                       headers=bearer(tokens["engineer"]))
    assert sent.status_code == 503, sent.text
    error = sent.json()["error"]
    assert (error["status"], error["type"]) == (503, "BrokerUnreachable")
    assert f"127.0.0.1:{port}" in error["message"] and "pending" in error["message"]
    listed = client.get(f"/api/fleet/vehicles/{vin}/commands", headers=bearer(tokens["viewer"])).json()
    assert [c["state"] for c in listed["commands"]] == ["pending"]
