"""`POST/GET /api/fleet/vehicles/{vin}/commands`: recorded, audited, expiring on the server clock."""

from __future__ import annotations

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
