"""Every JSON route declares its response schema, and declaring it changed no payload.

Clients are generated from ``/openapi.json``: a JSON route without a response schema is a route
they cannot type. The payloads are built by ``evplatform.service``; the response models only
describe them, so each route must still return exactly the service's payload (keys may be added
by a domain and pass through, never dropped or renamed).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from evplatform.api import create_app
from evplatform.service import presenters, views
from evplatform.service.context import AppContext
from evplatform.store import Store

#: Routes whose success response is not a JSON document of ours, by (method, path), with the reason.
NOT_JSON = {
    ("GET", "/uptane/image/{file}"): "TUF metadata served byte for byte as signed; its schema is the TUF spec's",
    ("GET", "/uptane/director/{vin}/{file}"): "Uptane Director metadata served byte for byte as signed",
    ("GET", "/uptane/images/{sha256}"): "an image file (application/octet-stream, HTTP Range)",
    ("GET", "/metrics"): "Prometheus text exposition format for a scraper",
    ("GET", "/api/owner/vehicles/{vin}/export.csv"): "an owner's data export as CSV (the JSON export has a model)",
}


def _json(data: object) -> Any:
    return json.loads(json.dumps(data, default=str))


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in spec["paths"].items() for method, op in item.items()]


def _success(op: dict[str, Any]) -> dict[str, Any]:
    codes = [code for code in op["responses"] if code.startswith("2")]
    assert len(codes) == 1, codes
    response: dict[str, Any] = op["responses"][codes[0]]
    return response


def test_every_json_route_has_a_named_response_schema(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    components = spec["components"]["schemas"]
    missing = []
    for method, path, op in _operations(spec):
        if (method, path) in NOT_JSON:
            continue
        schema = _success(op).get("content", {}).get("application/json", {}).get("schema", {})
        ref = schema.get("$ref", "")
        name = ref.rsplit("/", 1)[-1]
        if not ref or not components.get(name, {}).get("properties"):
            missing.append(f"{method} {path}")
    assert missing == [], "JSON routes without a response model (add one in api/responses)"


def test_the_excluded_routes_document_their_bytes(client: TestClient) -> None:
    """Not a model of ours, but a client still learns the media type and what the bytes are."""
    spec = client.get("/openapi.json").json()
    for (method, path) in NOT_JSON:
        response = _success(spec["paths"][path][method.lower()])
        assert response["description"] != "Successful Response", path
        (media, body), = response["content"].items()
        assert body["schema"], path
        media_types = {"/metrics": "text/plain", "/api/owner/vehicles/{vin}/export.csv": "text/csv"}
        expected = media_types.get(path, "application/octet-stream" if path.startswith("/uptane/images/")
                                   else "application/json")
        assert media == expected, path


def test_the_exclusions_name_real_routes() -> None:
    served = {(method, route.path) for route in create_app().routes if isinstance(route, APIRoute)
              for method in route.methods}
    assert set(NOT_JSON) <= served, "an excluded route no longer exists: drop it from NOT_JSON"


def test_every_api_route_declares_a_response_model() -> None:
    undeclared = [f"{sorted(route.methods)} {route.path}" for route in create_app().routes
                  if isinstance(route, APIRoute) and route.include_in_schema and route.response_model is None
                  and not any((m, route.path) in NOT_JSON for m in route.methods)]
    assert undeclared == []


def _properties(spec: dict[str, Any], name: str) -> set[str]:
    return set(spec["components"]["schemas"][name]["properties"])


def test_the_design_shapes_are_in_the_schemas(client: TestClient) -> None:
    """DESIGN.md's JSON contracts (kpi, comply, simulate, campaigns) are declared key by key."""
    spec = client.get("/openapi.json").json()
    assert {"models", "reuse", "commonality"} <= _properties(spec, "KpiOut")
    assert {"part_share", "spend_share"} <= _properties(spec, "ReuseOut")
    assert {"dci", "tcci", "ci", "ci_c"} <= _properties(spec, "CommonalityOut")
    assert {"id", "bom_cost", "unit_cost"} <= _properties(spec, "TrimCostOut")
    assert {"market", "date", "verdicts"} <= _properties(spec, "ComplianceOut")
    assert {"model", "trim", "status", "reasons"} <= _properties(spec, "VerdictOut")
    assert {"regulation", "missing", "violating"} <= _properties(spec, "ReasonOut")
    assert spec["components"]["schemas"]["VerdictOut"]["properties"]["status"]["enum"] == [
        "compliant", "non-compliant", "not-applicable"]
    assert {"vehicle", "cycle", "consumption_kwh_per_100km", "range_km", "charge_10_80_min", "accel_0_100_s",
            "top_speed_kmh", "trace_miss"} <= _properties(spec, "SimulationRowOut")
    assert {"battery", "plug"} <= _properties(spec, "ConsumptionOut")
    assert {"seconds", "max_speed_error_kmh"} <= _properties(spec, "TraceMissOut")
    assert {"release", "state", "waves", "halt_reason"} <= _properties(spec, "CampaignOut")
    assert {"size", "succeeded", "failed", "rolled_back"} <= _properties(spec, "WaveOut")


@pytest.fixture
def context(db_url: str) -> AppContext:
    return AppContext(None, db_url)


def test_workspace_routes_return_the_service_payloads(client: TestClient, context: AppContext) -> None:
    ws = context.workspace()
    assert client.get("/api/platform").json() == _json(views.platform_view(ws))
    assert client.get("/api/models").json() == _json(views.models_view(ws))
    assert client.get("/api/features").json() == _json(views.features_view(ws))
    assert client.get("/api/kpi").json() == _json(views.kpi_view(ws))
    assert client.get("/api/bom", params={"trim": "su7/max"}).json() == _json(views.bom_view(ws, "su7/max", None))
    assert client.get("/api/simulation").json() == _json(presenters.simulation_results(context))
    assert client.get("/api/compliance/roadmap").json() == _json(presenters.roadmap(context))
    on = date(2026, 12, 1)
    assert client.get("/api/compliance", params={"market": "CN", "date": on.isoformat()}).json() == _json(
        presenters.compliance(context, "CN", on))
    # scenarios: the Sobol confidence intervals (``*_conf``) are not reproducible run to run, so keys only
    scenarios = client.get("/api/insights/scenarios", params={"draws": 50, "sobol_samples": 16}).json()
    expected = _json(presenters.scenarios(context, 50, 0, 16))
    assert set(scenarios) == set(expected)
    assert [set(s) for s in scenarios["scenarios"]] == [set(s) for s in expected["scenarios"]]
    assert scenarios["comparison"] == expected["comparison"]


def test_fleet_routes_return_the_service_payloads(client: TestClient, store: Store) -> None:
    listed = client.get("/api/campaigns").json()["campaigns"]
    assert listed == [_json(presenters.campaign_progress(store, c["id"], timeline=False)) for c in listed]
    assert all("timeline" not in c for c in listed)  # the model's optional key is not invented
    assert client.get("/api/campaigns/2").json() == _json(presenters.campaign_progress(store, 2))
    releases = client.get("/api/releases").json()["releases"]
    assert releases and all(set(r) == {"id", "component", "ecu", "hardware_id", "version", "compatible", "notes",
                                       "created_at"} for r in releases)
    first = client.get(f"/api/releases/{releases[0]['id']}").json()
    assert {"approvals", "campaigns"} <= set(first)
    vin = client.get("/api/fleet/vehicles", params={"limit": 1}).json()["vehicles"][0]["vin"]
    detail = client.get(f"/api/fleet/vehicles/{vin}").json()
    assert {"configuration", "hardware_ids", "rxswin", "telemetry"} <= set(detail)
