"""Auth before work (issue 18 §3): every route refuses a caller before reading a byte of the body,
and bodies are cut with 413 while they stream — chunked, declared, or with a lying Content-Length.

The app is driven straight through ASGI here: ``receive`` is the network, so counting what it
handed out is counting what the server read.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.support import KeyedVehicle, bearer, error_of
from evplatform.api import create_app
from evplatform.api.auth import sign_request
from evplatform.api.body_limits import ANONYMOUS_BODIES, DEFAULT_LIMIT, limit_for

CHUNK = 64 * 1024
FIFTY_MB = 50 * 1024**2
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ROLES = ("viewer", "engineer", "release_manager", "admin")


@dataclass
class Wire:
    """What one request did on the wire: the status, the error body, the bytes the app pulled."""

    status: int = 0
    body: bytes = b""
    pulled: int = 0
    messages: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    def error(self) -> tuple[str, str]:
        payload = json.loads(self.body)
        assert set(payload) == {"error"} and payload["error"]["status"] == self.status, payload
        return payload["error"]["type"], payload["error"]["message"]


def send_raw(app: FastAPI, method: str, path: str, headers: dict[str, str], size: int,
             declared: int | None = None) -> Wire:
    """Send ``size`` bytes in 64 KiB chunks (``declared``: the Content-Length claimed, None: chunked)."""
    wire = Wire()
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if declared is not None:
        raw.append((b"content-length", str(declared).encode()))
    else:
        raw.append((b"transfer-encoding", b"chunked"))
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *raw],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }

    async def receive() -> MutableMapping[str, Any]:
        wire.messages += 1
        if wire.pulled >= size:
            await asyncio.sleep(3600)  # a client that has sent everything waits for the answer
        chunk = min(CHUNK, size - wire.pulled)
        wire.pulled += chunk
        return {"type": "http.request", "body": b"x" * chunk, "more_body": wire.pulled < size}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            wire.status = message["status"]
            wire.headers = {k.decode(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            wire.body += message.get("body", b"")

    async def run() -> None:
        await asyncio.wait_for(app(scope, receive, send), timeout=30)

    asyncio.run(run())
    return wire


@pytest.fixture
def app(db_url: str) -> Iterator[FastAPI]:
    application = create_app(None, db_url)
    with TestClient(application):  # lifespan: the context opens and closes as under a server
        yield application


def _body_routes(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    """(method, concrete path, names of its dependencies) of every API route that takes a method with a body."""
    found = []
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        names: list[str] = []
        stack = list(route.dependant.dependencies)
        while stack:
            sub = stack.pop()
            names.append(getattr(sub.call, "__name__", ""))
            stack.extend(sub.dependencies)
        path = re.sub(r"\{(\w+)\}", _sample_value, str(route.path))
        found += [(method, path, names) for method in sorted(route.methods & BODY_METHODS)]
    return found


def _sample_value(parameter: re.Match[str]) -> str:
    return "1" if parameter.group(1).endswith("id") else "LMDSAMPLE00000001"


def test_every_route_refuses_a_stranger_before_reading_the_body(app: FastAPI) -> None:
    routes = _body_routes(app)
    assert len(routes) > 25  # every writing route of the API, not a sample
    for method, path, _names in routes:
        wire = send_raw(app, method, path, {}, 4096, declared=4096)
        if path.startswith(ANONYMOUS_BODIES):
            continue  # the manifest authenticates itself: its body is the signature
        assert (wire.status, wire.pulled) == (401, 0), (method, path, wire.status, wire.body[:200])
        assert wire.error()[0] == "Unauthenticated" and wire.headers.get("www-authenticate") == "Bearer"


def test_every_role_is_checked_before_the_body(app: FastAPI, tokens: dict[str, str]) -> None:
    checked = 0
    for method, path, names in _body_routes(app):
        needed = [n.removeprefix("require_") for n in names if n.startswith("require_")]
        if not needed or needed[0] == "viewer":
            continue
        below = ROLES[ROLES.index(needed[0]) - 1]
        wire = send_raw(app, method, path, bearer(tokens[below]), 4096, declared=4096)
        assert (wire.status, wire.pulled) == (403, 0), (method, path, below, wire.status, wire.body[:200])
        assert wire.error()[0] == "Forbidden"
        wrong = send_raw(app, method, path, bearer("not-a-token"), 4096, declared=4096)
        assert (wrong.status, wrong.pulled) == (401, 0), (method, path)
        checked += 1
    assert checked >= 15


def test_a_vehicle_is_judged_by_its_headers_before_its_body(app: FastAPI, keyed_vehicle: KeyedVehicle) -> None:
    for path in ("/api/vehicle/report", "/api/vehicle/update-check", "/api/telemetry"):
        stale = sign_request(keyed_vehicle.key, keyed_vehicle.vin, "POST", path, b"{}", timestamp=time.time() - 3600)
        wire = send_raw(app, "POST", path, stale, 4096, declared=4096)
        assert (wire.status, wire.pulled) == (401, 0) and "from the server clock" in wire.error()[1], path
        unknown = sign_request(keyed_vehicle.key, "LMDNOSUCHVIN00001", "POST", path, b"{}")
        wire = send_raw(app, "POST", path, unknown, 4096, declared=4096)
        assert (wire.status, wire.pulled) == (401, 0) and "unknown or has no provisioned key" in wire.error()[1]


def test_an_unauthenticated_malformed_telemetry_post_is_401_not_422(client: TestClient,
                                                                  tokens: dict[str, str]) -> None:
    malformed = {"content": b'{"events": [{"vin": 1', "headers": {"Content-Type": "application/json"}}
    status, kind, _ = error_of(client.post("/api/telemetry", **malformed))  # type: ignore[arg-type]
    assert (status, kind) == (401, "Unauthenticated")
    headers = {"Content-Type": "application/json", **bearer("expired-or-made-up")}
    status, kind, _ = error_of(client.post("/api/telemetry", content=b"[1, 2", headers=headers))
    assert (status, kind) == (401, "Unauthenticated")  # a token the server does not know: 401 too, not 422
    headers = {"Content-Type": "application/json", **bearer(tokens["viewer"])}
    status, kind, _ = error_of(client.post("/api/telemetry", content=b"[1, 2", headers=headers))
    assert (status, kind) == (403, "Forbidden")  # telemetry needs engineer
    headers = {"Content-Type": "application/json", **bearer(tokens["engineer"])}
    status, kind, _ = error_of(client.post("/api/telemetry", content=b"[1, 2", headers=headers))
    assert (status, kind) == (422, "ValidationError")  # the body is judged only for a caller allowed to send it


@pytest.mark.parametrize("declared", [None, 1000, DEFAULT_LIMIT], ids=["chunked", "lying", "lying-at-limit"])
def test_fifty_megabytes_are_refused_after_the_limit_not_read(app: FastAPI, tokens: dict[str, str],
                                                              declared: int | None) -> None:
    wire = send_raw(app, "POST", "/api/telemetry", bearer(tokens["engineer"]), FIFTY_MB, declared=declared)
    assert wire.status == 413 and wire.error()[0] == "PayloadTooLarge"
    bound = DEFAULT_LIMIT if declared is None else declared
    assert bound < wire.pulled <= bound + CHUNK  # read up to the bound and one chunk past it: then cut
    if declared == 1000:
        assert "longer than its Content-Length" in wire.error()[1]


def test_a_declared_length_over_the_limit_is_refused_before_any_byte(app: FastAPI, tokens: dict[str, str]) -> None:
    wire = send_raw(app, "POST", "/api/telemetry", bearer(tokens["engineer"]), FIFTY_MB, declared=FIFTY_MB)
    assert (wire.status, wire.pulled) == (413, 0)
    vehicle = limit_for("/api/vehicle/report")
    assert vehicle < DEFAULT_LIMIT
    wire = send_raw(app, "POST", "/api/vehicle/report", {}, FIFTY_MB, declared=vehicle + 1)
    assert (wire.status, wire.pulled) == (413, 0)


def test_a_body_within_the_limit_still_reaches_the_route(app: FastAPI, tokens: dict[str, str]) -> None:
    wire = send_raw(app, "POST", "/api/telemetry", bearer(tokens["engineer"]), 3 * CHUNK, declared=None)
    assert wire.status == 422 and wire.pulled == 3 * CHUNK  # read whole, then judged by the schema ("xxx…")
