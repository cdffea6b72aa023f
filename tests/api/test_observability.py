"""Issue 18 §4: /metrics (Prometheus), /healthz, /readyz, request ids and one JSON access line per request."""

from __future__ import annotations

import io
import json
import logging
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.support import KeyedVehicle, bearer, error_of
from evplatform.api import create_app
from evplatform.api.auth import sign_request
from evplatform.clock import system_clock
from evplatform.logs import JsonLinesFormatter, configure_logging
from evplatform.ota.keys import KeyRing
from evplatform.ota.service import OtaService
from evplatform.store import Store
from evplatform.store import campaigns as cdb

VEHICLE_ROUTE = "/api/fleet/vehicles/{vin}"


def samples(client: TestClient, token: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The scraped samples by (name, sorted labels)."""
    response = client.get("/metrics", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def requests_of(scraped: dict[tuple[str, tuple[tuple[str, str], ...]], float], route: str) -> dict[str, float]:
    """``evplatform_http_requests_total`` of one route template, by status."""
    found = {}
    for (name, labels), value in scraped.items():
        as_dict = dict(labels)
        if name == "evplatform_http_requests_total" and as_dict["route"] == route:
            found[as_dict["status"]] = value
    return found


def test_requests_are_counted_by_route_template_with_a_latency_histogram(
        client: TestClient, tokens: dict[str, str]) -> None:
    vins = [v["vin"] for v in client.get("/api/fleet/vehicles?limit=25").json()["vehicles"]]
    assert len(vins) == 25
    for vin in vins:
        assert client.get(f"/api/fleet/vehicles/{vin}").status_code == 200
    for n in range(5):
        assert client.get(f"/api/fleet/vehicles/LNOSUCHVIN{n:07d}").status_code == 404
    scraped = samples(client, tokens["viewer"])
    assert requests_of(scraped, VEHICLE_ROUTE) == {"200": 25.0, "404": 5.0}
    routes = {dict(labels)["route"] for name, labels in scraped if name == "evplatform_http_requests_total"}
    assert not [r for r in routes if any(vin in r for vin in vins)], "a raw path became a label"
    count = scraped[("evplatform_http_request_duration_seconds_count", (("method", "GET"), ("route", VEHICLE_ROUTE)))]
    assert count == 30.0
    buckets = [labels for name, labels in scraped if name == "evplatform_http_request_duration_seconds_bucket"
               and dict(labels)["route"] == VEHICLE_ROUTE]
    assert len(buckets) > 5


def test_unmatched_paths_and_static_files_share_bounded_labels(client: TestClient, tokens: dict[str, str]) -> None:
    for n in range(10):
        client.get(f"/no/such/path/{n}")
    client.get("/static/nothing-here.css")
    scraped = samples(client, tokens["viewer"])
    assert requests_of(scraped, "unmatched") == {"404": 10.0}
    assert requests_of(scraped, "/static/{path}") == {"404": 1.0}


def test_campaign_state_gauges_equal_the_stores_campaigns(
        client: TestClient, store: Store, tokens: dict[str, str]) -> None:
    expected = Counter(c.state for c in cdb.list_campaigns(store))
    assert sum(expected.values()) >= 2  # the demo: a completed and a halted campaign
    scraped = samples(client, tokens["viewer"])
    gauges = {dict(labels)["state"]: value for (name, labels), value in scraped.items()
              if name == "evplatform_campaigns"}
    assert {state: int(v) for state, v in gauges.items() if v} == dict(expected)
    assert set(gauges) >= {"draft", "running", "paused", "halted", "cancelled", "completed"}
    assert scraped[("evplatform_database_up", ())] == 1.0
    assert scraped[("evplatform_db_pool_size", ())] >= 1.0
    assert ("evplatform_db_pool_checked_out", ()) in scraped


def test_update_check_outcomes_are_counted(client: TestClient, tokens: dict[str, str],
                                           keyed_vehicle: KeyedVehicle) -> None:
    path = "/api/vehicle/update-check"
    headers = sign_request(keyed_vehicle.key, keyed_vehicle.vin, "POST", path, b"")
    assert client.post(path, content=b"", headers=headers).json()["update"] is None
    assert client.post(path, content=b"", headers=headers).status_code == 401  # replayed nonce: refused
    assert client.post(path).status_code == 401  # unsigned: refused
    scraped = samples(client, tokens["viewer"])
    outcomes = {dict(labels)["outcome"]: value for (name, labels), value in scraped.items()
                if name == "evplatform_update_checks_total"}
    assert outcomes == {"offer": 0.0, "nothing_new": 1.0, "not_modified": 0.0, "refused": 2.0}


def test_metrics_need_a_viewer_token(client: TestClient) -> None:
    assert error_of(client.get("/metrics"))[:2] == (401, "Unauthenticated")
    assert error_of(client.get("/metrics", headers=bearer("not-a-token")))[0] == 401


def test_each_app_has_its_own_registry(db_url: str, tokens: dict[str, str]) -> None:
    with TestClient(create_app(None, db_url)) as first, TestClient(create_app(None, db_url)) as second:
        first.get("/healthz")
        first.get("/healthz")
        assert requests_of(samples(first, tokens["viewer"]), "/healthz") == {"200": 2.0}
        assert requests_of(samples(second, tokens["viewer"]), "/healthz") == {}


def test_manifest_verification_failures_are_counted_by_error_class(
        tmp_path: Path, db_url: str, tokens: dict[str, str]) -> None:
    root = tmp_path / "ota"
    OtaService.initialise(root, system_clock, KeyRing.init(root / "keys", insecure_demo_keys=True))
    with TestClient(create_app(None, db_url, ota_root=root)) as client:
        for _ in range(2):
            assert error_of(client.post("/uptane/director/LMDNOBODY00000001/manifest", content=b"not json"))[:2] \
                == (400, "OtaError")
        scraped = samples(client, tokens["viewer"])
    failures = {dict(labels)["error"]: value for (name, labels), value in scraped.items()
                if name == "evplatform_uptane_verification_failures_total"}
    assert failures == {"OtaError": 2.0}


def test_healthz_answers_without_the_database() -> None:
    with TestClient(create_app(None, "postgresql+psycopg://nobody@127.0.0.1:1/none")) as client:
        response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_checks_the_database_and_the_ota_folder(client: TestClient, tmp_path: Path, db_url: str) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "ota_repository": "not configured"}}
    with TestClient(create_app(None, db_url, ota_root=tmp_path / "missing")) as missing:
        status, kind, message = error_of(missing.get("/readyz"))
        assert (status, kind) == (503, "NotReady") and "ota_repository" in message
        assert missing.get("/readyz").json()["error"]["checks"] == {"database": "ok", "ota_repository": "failed"}
    (tmp_path / "ota").mkdir()
    with TestClient(create_app(None, db_url, ota_root=tmp_path / "ota")) as present:
        assert present.get("/readyz").json()["checks"]["ota_repository"] == "ok"


@pytest.mark.parametrize("url", ["postgresql+psycopg://nobody@127.0.0.1:1/none", "sqlite:///{tmp}/gone/db"])
def test_readyz_is_503_naming_the_database_when_it_is_down(url: str, tmp_path: Path) -> None:
    if url.startswith("sqlite"):
        (tmp_path / "gone").write_text("a file where the database's folder should be")
        url = url.format(tmp=tmp_path)
    with TestClient(create_app(None, url)) as client:
        response = client.get("/readyz")
    status, kind, message = error_of(response)
    assert (status, kind) == (503, "NotReady")
    assert message == "not ready: database check failed"
    assert "127.0.0.1" not in response.text and str(tmp_path) not in response.text  # reasons stay in the log


def test_readyz_turns_503_when_an_open_database_goes_away(tmp_path: Path, demo_db_file: Path) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    target = folder / "demo.db"
    target.write_bytes(demo_db_file.read_bytes())
    with TestClient(create_app(None, f"sqlite:///{target}")) as client:
        assert client.get("/readyz").status_code == 200
        client.app.state.context.close()  # type: ignore[attr-defined]
        target.unlink()
        folder.rmdir()
        (tmp_path / "db").write_text("not a folder")
        assert error_of(client.get("/readyz"))[:2] == (503, "NotReady")


def test_request_id_is_made_kept_or_replaced(client: TestClient) -> None:
    made = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", made)
    assert client.get("/healthz").headers["x-request-id"] != made
    assert client.get("/healthz", headers={"X-Request-ID": "edge-42-abc"}).headers["x-request-id"] == "edge-42-abc"
    for bad in ("x" * 65, "has space", "semi;colon", "under_score", "ünï", ""):
        raw = {b"X-Request-ID": bad.encode("latin-1")}
        echoed = client.get("/healthz", headers=raw).headers["x-request-id"]
        assert echoed != bad and re.fullmatch(r"[0-9a-f-]{36}", echoed)
    # the guards' own answers carry it too
    assert "x-request-id" in client.get("/api/fleet/vehicles?x=%00").headers


def test_one_json_access_line_per_request(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="evplatform.access"):
        response = client.get("/api/fleet/vehicles/LNOSUCHVIN0000001", headers={"X-Request-ID": "trace-1"})
    lines = [r for r in caplog.records if r.name == "evplatform.access"]
    assert len(lines) == 1
    entry = json.loads(JsonLinesFormatter().format(lines[0]))
    assert entry["level"] == "info" and entry["event"] == "http_request"
    assert {k: entry[k] for k in ("method", "route", "status", "request_id", "client")} == {
        "method": "GET", "route": VEHICLE_ROUTE, "status": 404, "request_id": "trace-1", "client": "testclient"}
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert response.headers["x-request-id"] == "trace-1"


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Restore the root logger after a test that configures logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield None
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_lines_logged_inside_a_request_carry_its_id(client: TestClient) -> None:
    stream = io.StringIO()
    configure_logging("info", "json", stream)
    client.post("/api/releases", json={}, headers={"Authorization": "Bearer nope", "X-Request-ID": "trace-2"})
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    refused = [e for e in entries if e.get("event") == "auth_failed"]
    access = [e for e in entries if e.get("event") == "http_request"]
    assert [e["request_id"] for e in refused + access] == ["trace-2", "trace-2"]
    assert access[0]["logger"] == "evplatform.access" and access[0]["status"] == 401



@pytest.mark.postgres
def test_on_postgresql_the_probes_and_pool_figures_answer(postgres_url: str) -> None:
    from evplatform.store import create_account, issue_token, open_store

    with open_store(postgres_url) as store:
        create_account(store, "scraper", "viewer")
        token = issue_token(store, "scraper")
    with TestClient(create_app(None, postgres_url)) as client:
        assert client.get("/readyz").json()["checks"]["database"] == "ok"
        scraped = samples(client, token)
    assert scraped[("evplatform_database_up", ())] == 1.0
    assert scraped[("evplatform_db_pool_size", ())] == 5.0  # SQLAlchemy's default QueuePool
    assert scraped[("evplatform_db_pool_checked_out", ())] >= 0.0
