"""EU Data Act: an owner grants a recipient driving data, the recipient reads it through OAuth 2.0
client credentials, the owner revokes and the next read is refused; the log shows all of it.

Every consent check must reach the database: the revocation below is committed by a *second*
store on the same database (another server process), so any cache of consents in the serving
application — even one invalidated by its own revoke route — fails ``test_revocation_*``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from evplatform.api import create_app
from evplatform.apps.manifest import load_apps
from evplatform.clock import FixedClock
from evplatform.dataact.categories import categories
from evplatform.fleet import TelemetryEvent, ingest
from evplatform.store import Store, open_store
from evplatform.store import dataact as db
from evplatform.store import vehicles as vdb
from evplatform.workspace import load_workspace

NOW = datetime.now(UTC).replace(microsecond=0)


def _consent_app() -> tuple[str, str]:
    """The workspace's app collecting a consent category with stored telemetry (the demo's insurance
    app and its driving data), and that category."""
    catalogue = load_apps(load_workspace(None))
    stored = {c.id for c in categories(catalogue).values() if c.consent and "odometer" in c.kinds}
    app = next(a for a in sorted(catalogue.apps.values(), key=lambda a: a.id) if stored & set(a.data_categories))
    return app.id, sorted(stored & set(app.data_categories))[0]


APP, DRIVING = _consent_app()
#: Another category of the store policy (one the owner never grants in these tests).
OTHER = next(c for c in sorted(load_apps(load_workspace(None)).policy.data_categories)  # type: ignore[union-attr]
             if c != DRIVING)


@dataclass
class Portal:
    client: TestClient
    clock: FixedClock
    db_url: str
    vin: str
    owner: str
    owner_token: str
    client_id: str
    client_secret: str

    def owner_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.owner_token}"}

    def token(self, scope: str = DRIVING) -> str:
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        answer = self.client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": scope},
                                  headers={"Authorization": f"Basic {basic}"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["token_type"].lower() == "bearer"
        return str(answer.json()["access_token"])

    def read(self, token: str, category: str = DRIVING, vin: str | None = None) -> tuple[int, dict[str, object]]:
        answer = self.client.get(f"/api/data/vehicles/{vin or self.vin}/{category}",
                                 headers={"Authorization": f"Bearer {token}"})
        return answer.status_code, answer.json()

    def grant(self, categories: list[str], days: int = 30) -> int:
        answer = self.client.post("/api/owner/grants", headers=self.owner_headers(),
                                  json={"vin": self.vin, "recipient": self.client_id, "categories": categories,
                                        "days": days})
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])


def _consenting_vin(store: Store) -> str:
    vins = [v.vin for v in vdb.list_vehicles(store, limit=50)]
    consent = vdb.telemetry_consent(store, vins)
    return next(vin for vin in vins if consent[vin])


@pytest.fixture
def portal(db_url: str, tokens: dict[str, str]) -> Iterator[Portal]:
    clock = FixedClock(NOW)
    store = open_store(db_url, clock=clock)
    try:
        vin = _consenting_vin(store)
        ingest(store, [TelemetryEvent(vin, "odometer", NOW - timedelta(minutes=5), 12_345.5),
                       TelemetryEvent(vin, "soc", NOW - timedelta(minutes=5), 81.0)])
        db.create_owner(store, "owner-1")
        db.assign_vehicle(store, "owner-1", vin)
        owner_token = db.issue_owner_token(store, "owner-1")
    finally:
        store.dispose()
    with TestClient(create_app(None, db_url, clock=clock), base_url="https://testserver") as client:
        answer = client.post("/api/data/recipients", headers={"Authorization": f"Bearer {tokens['admin']}"},
                             json={"client_id": APP, "name": f"the {APP} app's publisher"})
        assert answer.status_code == 201, answer.text
        yield Portal(client, clock, db_url, vin, "owner-1", owner_token, APP, answer.json()["client_secret"])


def test_grant_read_revoke_refuse_end_to_end(portal: Portal) -> None:
    vehicle = portal.client.get(f"/api/owner/vehicles/{portal.vin}", headers=portal.owner_headers()).json()
    assert DRIVING in {c["id"] for c in vehicle["categories"]}
    token = portal.token()
    assert portal.read(token)[0] == 403  # no consent yet
    grant_id = portal.grant([DRIVING])
    status, body = portal.read(token)
    assert status == 200, body
    values = [(v["kind"], v["value"], v["unit"]) for v in body["values"]]  # type: ignore[attr-defined]
    assert ("odometer", 12_345.5, "km") in values and {kind for kind, _, _ in values} == {"odometer"}
    revoked = portal.client.post(f"/api/owner/grants/{grant_id}/revoke", headers=portal.owner_headers())
    assert revoked.status_code == 200 and revoked.json()["live"] is False
    status, body = portal.read(token)
    assert status == 403 and body["error"]["type"] == "ConsentRefused"  # type: ignore[index]
    log = portal.client.get("/api/owner/log", headers=portal.owner_headers()).json()["entries"]
    assert [e["action"] for e in reversed(log)] == ["refused", "grant", "read", "revoke", "refused"]
    assert {e["actor"] for e in log if e["action"] in ("read", "refused")} == {f"recipient:{APP}"}


def test_revocation_by_another_process_refuses_the_next_read(portal: Portal) -> None:
    grant_id = portal.grant([DRIVING])
    token = portal.token()
    assert portal.read(token)[0] == 200
    other = open_store(portal.db_url, clock=portal.clock)  # another server process on the same database
    try:
        owner_id = db.owner_of(other, portal.vin)
        assert owner_id is not None
        db.revoke_grant(other, owner_id, grant_id)
    finally:
        other.dispose()
    assert portal.read(token)[0] == 403


def test_consent_expires_on_the_server_clock(portal: Portal) -> None:
    portal.grant([DRIVING], days=1)
    token = portal.token()
    assert portal.read(token)[0] == 200
    portal.clock.now += timedelta(days=1, seconds=1)  # the access token is expired too: get a fresh one
    assert portal.read(portal.token())[0] == 403


def test_scope_and_category_beyond_consent_are_refused(portal: Portal) -> None:
    portal.grant([DRIVING])
    other_token = portal.token(OTHER)
    assert portal.read(other_token)[0] == 403  # token lacks the granted category's scope
    both = portal.token(f"{DRIVING} {OTHER}")
    assert portal.read(both, OTHER)[0] == 403  # scope held, consent not given for that category
    other_vin = next(v.vin for v in vdb.list_vehicles(open_store(portal.db_url), limit=5) if v.vin != portal.vin)
    assert portal.read(both, DRIVING, other_vin)[0] == 403  # consent is per vehicle


def test_bad_credentials_and_unknown_scope(portal: Portal) -> None:
    basic = base64.b64encode(f"{portal.client_id}:wrong".encode()).decode()
    answer = portal.client.post("/oauth/token", data={"grant_type": "client_credentials"},
                                headers={"Authorization": f"Basic {basic}"})
    assert answer.status_code == 401 and answer.json()["error"]["oauth_error"] == "invalid_client"
    answer = portal.client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": portal.client_id,
                                                      "client_secret": portal.client_secret})
    assert answer.status_code == 401  # secrets in the form: no body is read before an Authorization header
    basic = base64.b64encode(f"{portal.client_id}:{portal.client_secret}".encode()).decode()
    answer = portal.client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "everything"},
                                headers={"Authorization": f"Basic {basic}"})
    assert answer.status_code == 400 and answer.json()["error"]["oauth_error"] == "invalid_scope", answer.text
    assert portal.read("not-a-token")[0] == 401
    assert portal.client.get(f"/api/data/vehicles/{portal.vin}/{DRIVING}").status_code == 401


def test_owner_and_operator_tokens_are_separate(portal: Portal, tokens: dict[str, str]) -> None:
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    assert portal.client.get("/api/owner/vehicles", headers=admin).status_code == 401
    assert portal.client.get("/api/data/recipients", headers=portal.owner_headers()).status_code == 401
    # authenticated before the body: a malformed grant without a token is 401, not 422
    assert portal.client.post("/api/owner/grants", json={"vin": 1}).status_code == 401


def test_owner_sees_only_own_vehicles_and_exports(portal: Portal) -> None:
    vehicles = portal.client.get("/api/owner/vehicles", headers=portal.owner_headers()).json()["vehicles"]
    assert [v["vin"] for v in vehicles] == [portal.vin]
    other = next(v.vin for v in vdb.list_vehicles(open_store(portal.db_url), limit=5) if v.vin != portal.vin)
    assert portal.client.get(f"/api/owner/vehicles/{other}", headers=portal.owner_headers()).status_code == 404
    exported = portal.client.get(f"/api/owner/vehicles/{portal.vin}/export", headers=portal.owner_headers()).json()
    assert {(v["kind"], v["category"]) for v in exported["values"]} >= {("odometer", DRIVING)}
    csv = portal.client.get(f"/api/owner/vehicles/{portal.vin}/export.csv", headers=portal.owner_headers())
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "vin,category,kind,signal,at,value,unit"
    assert len(csv.text.splitlines()) == 1 + len(exported["values"])
    log = portal.client.get("/api/owner/log", headers=portal.owner_headers()).json()["entries"]
    assert [e["action"] for e in log] == ["export", "export"]


def test_grant_validation_names_the_field(portal: Portal) -> None:
    answer = portal.client.post("/api/owner/grants", headers=portal.owner_headers(),
                                json={"vin": portal.vin, "recipient": portal.client_id, "categories": ["dna"],
                                      "days": 3})
    assert answer.status_code == 422 and "categories" in answer.json()["error"]["message"]
    answer = portal.client.post("/api/owner/grants", headers=portal.owner_headers(),
                                json={"vin": portal.vin, "recipient": portal.client_id, "categories": [DRIVING],
                                      "days": 5000})
    assert answer.status_code == 422 and "days" in answer.json()["error"]["message"]
