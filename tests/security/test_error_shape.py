"""Issue 14 item 16: hostile values in every parameter of every route answer a 4xx in the one error shape.

The sweep walks every route of the application (the OpenAPI's paths and the dashboard's pages)
and puts, one at a time, into each path and query parameter and into each field of each JSON
body: integers of 2^63, 2^40 and -1, a 10,000-character string and a string holding a NUL
character. Every answer must be below 500; a JSON answer of 400 or more must be the one error
shape. It runs on SQLite and on PostgreSQL (where over-long strings, a 2^40 seed in a 32-bit
column and a NUL byte once answered 503 "StoreError", and integers of 2^63 a plain-text 500).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.utils import get_flat_dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from nacl.signing import SigningKey
from sqlalchemy import text

from evplatform.api import create_app
from evplatform.api.auth import public_key_text, sign_request
from evplatform.clock import system_clock
from evplatform.errors import InvalidValueError
from evplatform.fleet import VehicleSpec, register_vehicles
from evplatform.ota.keys import KeyRing, generate_private_key, signer_of
from evplatform.ota.service import OtaService
from evplatform.service.rate_limits import RateLimits
from evplatform.store import campaigns as cdb
from evplatform.store import create_account, issue_token, open_store
from evplatform.store import releases as rdb
from evplatform.store import vehicles as vdb
from evplatform.store.schema import Base
from evplatform.workspace import load_workspace
from store_fixtures import postgres_url  # noqa: F401

HOSTILE_INTS: tuple[int, ...] = (2**63, 2**40, -1)
HOSTILE_STRINGS: tuple[str, ...] = ("x" * 10_000, "nul\x00byte", "9" * 5_000)
HOSTILE: tuple[int | str, ...] = HOSTILE_INTS + HOSTILE_STRINGS
VIN = "LMDSWEEP000000001"
RELEASE = "hub-os-9.9.9"
#: Benign values of the path and required query parameters, so the hostile one is what a route judges.
BENIGN_PARAMS = {"campaign_id": "1", "release_id": RELEASE, "vin": VIN, "file": "root.json", "sha256": "0" * 64,
                 "market": "CN", "date": "2026-01-01", "trim": "", "subject": "release:x",
                 "session_id": "no-such-session", "filename": "model.uvl", "token_id": "1",
                 "regulation_id": "UN-R155", "table": "approvals",
                 "grant_id": "1", "category": "driving",
                 "name": "nobody"}  # an account that does not exist: the sweep never demotes ada
#: A valid body of every JSON-body operation: the sweep replaces one field at a time.
BENIGN_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PUT", "/api/fleet/vehicles/{vin}/key"): {"public_key": "00" * 32},
    ("POST", "/api/telemetry"): {"events": [{"vin": VIN, "kind": "soc", "at": "2026-11-30T00:00:00Z", "value": 50.0,
                                             "release_id": RELEASE, "detail": {"note": "ok"}}]},
    ("POST", "/api/releases"): {"id": "sweep-1.0", "component": "hub-os", "version": "1.0", "notes": "n"},
    ("POST", "/api/releases/{release_id}/approvals"): {"market": "CN", "authority": "MIIT", "reference": "R-1"},
    ("POST", "/api/campaigns"): {"name": "sweep", "release_id": RELEASE, "seed": 1, "window": ["01:00", "05:00"],
                                 "target": {"models": ["su7"], "trims": [], "markets": ["CN"], "expression": "Hub",
                                            "current_versions": ["1.0"]},
                                 "waves": [{"fraction": 1.0, "soak_hours": 1.0}]},
    ("POST", "/api/campaigns/{campaign_id}/cancel"): {"reason": "sweep"},
    ("POST", "/api/campaigns/{campaign_id}/ack"): {"comment": "sweep"},
    ("POST", "/api/campaigns/{campaign_id}/exclude"): {"model": "su7", "trim": "max", "market": "CN",
                                                       "reason": "sweep", "resume": False},
    ("POST", "/api/campaigns/{campaign_id}/next-wave"): {"reason": "sweep"},
    ("POST", "/api/campaigns/{campaign_id}/retry"): {"reason": "sweep", "wave": 1},
    ("POST", "/api/campaigns/preview"): {"release_id": RELEASE, "target": {
        "models": ["su7"], "trims": [], "markets": ["CN"], "expression": "Hub", "current_versions": ["1.0"]}},
    ("POST", "/api/campaigns/dry-run"): {"name": "sweep", "release_id": RELEASE, "seed": 1,
                                         "window": ["01:00", "05:00"],
                                         "target": {"models": ["su7"], "markets": ["CN"], "expression": "Hub"},
                                         "waves": [{"fraction": 1.0, "soak_hours": 1.0}]},
    ("POST", "/api/vehicle/report"): {"campaign_id": 1, "outcome": "failed", "detail": "d"},
    ("POST", "/api/fm/sessions"): {"trim": "su7/max", "market": "CN"},
    ("POST", "/api/fleet/groups"): {"name": "sweep-group", "query": "market in (CN)", "description": "d"},
    ("POST", "/api/fm/sessions/{session_id}/decisions"): {"select": ["AirSuspension"], "deselect": ["LHD"],
                                                          "retract": ["ELKS"]},
    ("POST", "/api/fm/sessions/{session_id}/completion"): {"attribute": "cost"},
    ("POST", "/api/accounts"): {"name": "sweep-new", "role": "viewer"},
    ("PUT", "/api/accounts/{name}/role"): {"role": "viewer"},
    ("POST", "/api/accounts/{name}/tokens"): {"label": "sweep", "days": 1},
    ("POST", "/api/fm/sessions/{session_id}/closest"): {"market": "EU", "date": "2028-06-01"},
    ("POST", "/api/fod/entitlements"): {"vin": VIN, "feature": "track-mode", "channel": "app", "months": 1},
    ("POST", "/api/fod/entitlements/cancel"): {"vin": VIN, "feature": "track-mode"},
    ("POST", "/api/owner/grants"): {"vin": VIN, "recipient": "sweep", "categories": ["driving"], "days": 1},
    ("POST", "/api/data/webhooks"): {"url": "http://127.0.0.1:9/hook"},
    ("POST", "/api/data/recipients"): {"client_id": "sweep-client", "name": "Sweep"},
    ("POST", "/api/fleet/vehicles/{vin}/commands"): {"action": "lock", "ttl_s": 60},
}
#: Bodies that are not JSON (a multipart upload, a signed manifest): parameters only.
NON_JSON_BODIES = {("POST", "/api/releases/publish"), ("POST", "/uptane/director/{vin}/manifest")}


@dataclass
class Target:
    client: TestClient
    token: str  # ada, an admin: every request of the sweep
    key: SigningKey  # the vehicle's
    app: FastAPI
    url: str


def _setup(url: str) -> tuple[str, str, SigningKey]:
    """Two accounts and a vehicle with a key; the admin's token, the release manager's and the key."""
    ws = load_workspace(None)
    trim = ws.sold_in("CN")[0]
    store = open_store(url)
    try:
        create_account(store, "ada", "admin")
        create_account(store, "rita", "release_manager")
        token, manager = issue_token(store, "ada"), issue_token(store, "rita")
        register_vehicles(store, ws, [VehicleSpec(VIN, trim.model_id, trim.id, "CN")])
        key = SigningKey.generate()
        vdb.set_public_key(store, VIN, public_key_text(key))
        BENIGN_PARAMS["trim"] = trim.key
    finally:
        store.dispose()
    return token, manager, key


def _truncate(url: str) -> None:
    store = open_store(url)
    try:
        with store.engine.begin() as connection:
            names = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        store.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sweep') / 'sweep.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    token, manager, key = _setup(url)
    ota_root = tmp_path_factory.mktemp("sweep-ota")
    service = OtaService.initialise(ota_root, system_clock, KeyRing.init(ota_root / "keys", insecure_demo_keys=True))
    service.register_vehicle(VIN, "hub-1", {"hub-1": ("hub-hw-2", signer_of(generate_private_key()).public_key)})
    # the sweep sends thousands of requests with one token: rate limits (tested on their own) are off
    app = create_app(None, url, ota_root=ota_root, rate_limits=RateLimits.off())
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            release = {"id": RELEASE, "component": "hub-os", "version": "9.9.9"}  # rita's: ada may approve it
            assert client.post("/api/releases", json=release, headers=_bearer(manager)).status_code == 201
            yield Target(client, token, key, app, url)
    finally:
        if request.param == "postgresql":
            _truncate(url)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """(method, path, route) of every route: the OpenAPI's and the dashboard's (not in the schema)."""
    found: list[tuple[str, str, APIRoute]] = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            found.extend((method, route.path, route) for method in sorted(route.methods - {"HEAD"}))
    return found


def _parameters(route: APIRoute) -> tuple[list[str], list[str]]:
    """Names (as sent) of the route's path and query parameters."""
    flat = get_flat_dependant(route.dependant)
    return [p.alias for p in flat.path_params], [p.alias for p in flat.query_params]


def _send(target: Target, method: str, path: str, params: dict[str, str], body: Any) -> httpx.Response:
    data = b"" if body is None else json.dumps(body).encode()
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
    full = path + (f"?{query}" if query else "")
    headers = {"Content-Type": "application/json"}
    if path.startswith("/api/vehicle/"):
        headers |= sign_request(target.key, VIN, method, full, data)
    else:
        headers |= _bearer(target.token)
    return target.client.request(method, full, content=data, headers=headers)


def _fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", quote(value, safe=""))
    return template


def _check(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        assert set(body) == {"error"}, f"{what}: {body}"
        assert {"status", "type", "message"} <= set(body["error"]), f"{what}: {body}"
        assert body["error"]["status"] == response.status_code, what


def _requests(target: Target) -> Iterator[tuple[str, str, str, dict[str, str], Any]]:
    """(what, method, path, query, body) of every hostile request of the sweep."""
    for method, template, route in _routes(target.app):
        path_names, query_names = _parameters(route)
        benign_path = {n: BENIGN_PARAMS[n] for n in path_names}
        body = BENIGN_BODIES.get((method, template))
        required_query = {p.alias: BENIGN_PARAMS[p.alias] for p in get_flat_dependant(route.dependant).query_params
                          if p.required}
        for name in path_names:
            for value in HOSTILE:
                path = _fill(template, {**benign_path, name: str(value)})
                yield f"{method} {template} path {name}={str(value)[:20]!r}", method, path, required_query, body
        for name in query_names:
            for value in HOSTILE:
                query = {**required_query, name: str(value)}
                yield (f"{method} {template} query {name}={str(value)[:20]!r}", method, _fill(template, benign_path),
                       query, body)
        for field, variant in _body_variants(body):
            yield f"{method} {template} body {field}", method, _fill(template, benign_path), required_query, variant


def _body_variants(body: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """``body`` with one leaf (a string or an integer, in objects and lists) replaced by each hostile value."""
    if isinstance(body, dict):
        for key, value in body.items():
            for field, inner in _body_variants(value, f"{where}.{key}"):
                yield field, {**body, key: inner}
    elif isinstance(body, list) and body:
        for field, inner in _body_variants(body[0], f"{where}[0]"):
            yield field, [inner, *body[1:]]
    elif isinstance(body, str | int | float) and not isinstance(body, bool):
        for value in HOSTILE:
            yield f"{where}={str(value)[:20]!r}", value


def test_every_json_body_route_has_a_benign_body(target: Target) -> None:
    """The sweep covers bodies too: a new JSON-body route must add its valid body to BENIGN_BODIES."""
    for method, path, route in _routes(target.app):
        if route.body_field is not None and (method, path) not in NON_JSON_BODIES:
            assert (method, path) in BENIGN_BODIES, f"{method} {path}: add a valid body to BENIGN_BODIES"


def test_hostile_values_in_every_parameter_answer_4xx_in_the_shape(target: Target) -> None:
    failures = []
    count = 0
    for what, method, path, query, body in _requests(target):
        count += 1
        try:
            _check(_send(target, method, path, query, body), what)
        except AssertionError as error:
            failures.append(str(error).splitlines()[0])
    assert count > 300  # the sweep reached the routes
    assert not failures, f"{len(failures)} of {count} requests:\n" + "\n".join(failures[:40])


def test_duplicate_release_and_approval_are_409_conflicts(target: Target) -> None:
    client, headers = target.client, _bearer(target.token)
    again = client.post("/api/releases", json={"id": RELEASE, "component": "hub-os", "version": "9.9.9"},
                        headers=headers)
    assert (again.status_code, again.json()["error"]["type"]) == (409, "Conflict")
    approval = {"market": "DE", "authority": "KBA", "reference": "e1*156"}
    first = client.post(f"/api/releases/{RELEASE}/approvals", json=approval, headers=headers)
    assert first.status_code == 201, first.text  # ada approves the release rita registered
    second = client.post(f"/api/releases/{RELEASE}/approvals", json=approval, headers=headers)
    assert (second.status_code, second.json()["error"]["type"]) == (409, "Conflict")


def test_unknown_simulation_market_is_404_naming_it(target: Target) -> None:
    response = target.client.get("/api/simulation", params={"market": "ZZ"})
    body = response.json()
    assert (response.status_code, body["error"]["type"]) == (404, "NotFound")
    assert "'ZZ'" in body["error"]["message"]


def test_a_value_the_database_cannot_hold_is_422_not_503(target: Target) -> None:
    """The store's backstop behind the edge checks: a value the driver cannot hold is the request's fault."""
    store = open_store(target.url)
    try:
        if store.dialect == "postgresql":  # varchar(128): value too long
            too_long = rdb.ReleaseRecord("x" * 300, "hub-os", "hub", "hw", "1", "true")
            with pytest.raises(InvalidValueError, match="cannot hold"):
                rdb.save_release(store, too_long)
        else:  # SQLite binds at most 64-bit integers
            with pytest.raises(InvalidValueError, match="cannot hold"):
                cdb.campaign(store, 2**63)
    finally:
        store.dispose()
