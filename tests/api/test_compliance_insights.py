"""Compliance and insights routes return the payloads of `evplatform comply` and `evplatform insights`."""

from __future__ import annotations

import json
from datetime import date

from fastapi.testclient import TestClient

from api.support import error_of
from evplatform.insights import business_report, risks_report, scenarios_report
from evplatform.markets import compliance_report
from evplatform.workspace import load_workspace


def _json(data: object) -> object:
    return json.loads(json.dumps(data, default=str))


def test_compliance_is_the_markets_payload(client: TestClient) -> None:
    ws = load_workspace(None)
    data = client.get("/api/compliance", params={"market": "DE", "date": "2026-12-01"}).json()
    assert data == _json(compliance_report(ws, "DE", date(2026, 12, 1), mode="new_types"))
    assert {v["status"] for v in data["verdicts"]} <= {"compliant", "non-compliant", "not-applicable"}
    every = client.get("/api/compliance", params={"market": "DE", "date": "2026-12-01", "mode": "all"}).json()
    assert every == _json(compliance_report(ws, "DE", date(2026, 12, 1), mode="all"))


def test_compliance_bad_input(client: TestClient) -> None:
    status, _, message = error_of(client.get("/api/compliance", params={"market": "DE", "date": "2026-13-01"}))
    assert status == 422 and "query.date" in message
    status, kind, message = error_of(client.get("/api/compliance", params={"market": "XX", "date": "2026-12-01"}))
    assert (status, kind) == (400, "MarketsError") and "unknown market 'XX'" in message
    status, _, message = error_of(client.get("/api/compliance", params={"market": "DE", "date": "2026-12-01",
                                                                         "mode": "some"}))
    assert status == 422 and "query.mode" in message


def test_risks_and_business_are_the_insights_payloads(client: TestClient) -> None:
    assert client.get("/api/insights/risks").json() == _json(risks_report(load_workspace(None)))
    assert client.get("/api/insights/business").json() == _json(business_report(None))


def test_scenarios_are_seeded_and_bounded(client: TestClient) -> None:
    params = {"draws": 50, "seed": 3, "sobol_samples": 16}
    data = client.get("/api/insights/scenarios", params=params).json()
    assert data == _json(scenarios_report(load_workspace(None), 50, 3, None, sobol_samples=16))
    assert error_of(client.get("/api/insights/scenarios", params={"draws": 10**6}))[0] == 422


def test_roadmap_is_the_markets_payload(client: TestClient) -> None:
    from evplatform.markets import roadmap_report

    data = client.get("/api/compliance/roadmap").json()
    assert data == _json(roadmap_report(load_workspace(None)))
    assert {entry["market"] for entry in data["roadmap"]} <= set(load_workspace(None).markets)
