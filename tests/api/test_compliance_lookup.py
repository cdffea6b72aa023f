"""`/api/compliance/regulations/{id}` and `/api/compliance/markets/{market}`: the `comply regulation`
and `comply market` payloads, unknown ids as 404 in the one error shape."""

from __future__ import annotations

import json
from datetime import date

from fastapi.testclient import TestClient

from api.support import error_of
from evplatform.markets.lookup import market_view, regulation_view
from evplatform.workspace import load_workspace

ON = date(2026, 12, 1)


def _json(data: object) -> object:
    return json.loads(json.dumps(data, default=str))


def test_regulation_is_the_lookup_payload(client: TestClient) -> None:
    data = client.get("/api/compliance/regulations/CN-DOOR-HANDLE", params={"date": ON.isoformat()}).json()
    assert data == _json(regulation_view(load_workspace(None), "CN-DOOR-HANDLE", ON))
    assert data["applies_from"] == {"new_types": "2028-01-01", "all": "2029-01-01"}


def test_market_is_the_lookup_payload(client: TestClient) -> None:
    data = client.get("/api/compliance/markets/DE", params={"date": ON.isoformat()}).json()
    assert data == _json(market_view(load_workspace(None), "DE", ON))
    assert [line["date"] for line in data["roadmap"]] == sorted(line["date"] for line in data["roadmap"])


def test_unknown_ids_are_404_and_bad_dates_422(client: TestClient) -> None:
    status, kind, _ = error_of(client.get("/api/compliance/regulations/NOPE"))
    assert (status, kind) == (404, "NotFound")
    status, kind, _ = error_of(client.get("/api/compliance/markets/XX"))
    assert (status, kind) == (404, "NotFound")
    status, _, _ = error_of(client.get("/api/compliance/markets/CN", params={"date": "2026-13-01"}))
    assert status == 422
