"""Issue 15 section 2 over HTTP: a session's figures, its closest compliant configuration, the unit-first
answer, and the upload analysis bounded in time."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.support import bearer, error_of
from evplatform.service import upload_worker
from evplatform.vehicle import simulate_trims
from evplatform.workspace import load_workspace


def _open(client: TestClient, token: str, **body: str) -> dict[str, Any]:
    response = client.post("/api/fm/sessions", json=body, headers=bearer(token))
    assert response.status_code == 201, response.text
    state: dict[str, Any] = response.json()
    return state


def test_figures_of_a_trim_session_on_each_markets_cycle(client: TestClient, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["viewer"])
    session = _open(client, tokens["viewer"], trim="yu7/standard", market="EU")
    response = client.get(f"/api/fm/sessions/{session['id']}/figures",
                          params={"markets": "EU,DE", "date": "2028-06-01"}, headers=headers)
    assert response.status_code == 200, response.text
    figures = response.json()
    assert figures["market"] == "EU" and figures["cost"]["unit_delta"] == 0.0 and figures["on"] == "2028-06-01"
    eu = figures["markets"][0]
    expected = {r["vehicle"]: r for r in simulate_trims(load_workspace(None), "yu7", market="EU").results}
    assert eu["cycle"] == "wltc" and eu["range_km"] == expected["yu7/standard"]["range_km"]
    assert eu["verdict"]["status"] == "non-compliant" and "BatteryPassport" in eu["verdict"]["missing"]
    assert [m["market"] for m in figures["markets"]] == ["EU", "DE"]


def test_figures_and_closest_bounds(client: TestClient, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["viewer"])
    session = _open(client, tokens["viewer"])
    base = f"/api/fm/sessions/{session['id']}"
    assert error_of(client.get("/api/fm/sessions/nope/figures", headers=headers))[:2] == (404, "NotFound")
    assert error_of(client.post("/api/fm/sessions/nope/closest", json={"market": "EU"}, headers=headers))[0] == 404
    assert error_of(client.get(base + "/figures", params={"markets": "XX"}, headers=headers))[0] == 404
    assert error_of(client.get(base + "/figures", params={"markets": ",".join(["CN"] * 400)},
                               headers=headers))[0] == 422
    assert error_of(client.get(base + "/figures", params={"markets": ",".join(f"M{i}" for i in range(13))},
                               headers=headers))[0] == 400
    assert error_of(client.get(base + "/figures", params={"date": "2028-13-01"}, headers=headers))[0] == 422
    assert error_of(client.post(base + "/closest", json={"market": "EU", "extra": 1}, headers=headers))[0] == 422
    assert error_of(client.post(base + "/closest", json={"market": "XX"}, headers=headers))[0] in (400, 404)
    assert error_of(client.get(base + "/figures"))[0] == 401


def test_closest_applied_makes_the_session_compliant(client: TestClient, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["viewer"])
    session = _open(client, tokens["viewer"], trim="yu7/standard", market="CN")
    base = f"/api/fm/sessions/{session['id']}"
    assert client.post(base + "/decisions", json={"deselect": ["ADDW"]}, headers=headers).status_code == 200
    found = client.post(base + "/closest", json={"market": "EU", "date": "2028-06-01", "apply": True},
                        headers=headers).json()
    assert found["applied"] and found["after"]["status"] == "compliant" and found["changes"] == 1
    assert {a["feature"] for a in found["added"]} >= {"BatteryPassport"}
    figures = client.get(base + "/figures", params={"markets": "EU", "date": "2028-06-01"}, headers=headers).json()
    assert figures["markets"][0]["verdict"]["status"] == "compliant" and figures["market"] == "EU"


def test_a_unit_answer_first_then_the_complete_one(client: TestClient, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["viewer"])
    session = _open(client, tokens["viewer"], trim="yu7/standard", market="CN")
    base = f"/api/fm/sessions/{session['id']}"
    quick = client.post(base + "/decisions", params={"answer": "unit"}, json={"select": ["ALKS"]}, headers=headers)
    assert quick.status_code == 200 and quick.json()["pending"] is True
    full = client.get(base, headers=headers).json()
    assert full["pending"] is False and "DSSAD" in {r["feature"] for r in full["forced"]}
    assert error_of(client.post(base + "/decisions", params={"answer": "half"}, json={}, headers=headers))[0] == 422


def test_an_upload_past_the_time_limit_is_a_503(client: TestClient, tokens: dict[str, str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A deep tree (14.6 s at 5,001 levels, measured) is stopped at the limit; a small one still answers."""
    headers = bearer(tokens["viewer"])
    monkeypatch.setattr(upload_worker, "TIME_LIMIT_SECONDS", 0.2)
    depth = 3000
    text = ("<featureModel><struct>" + "".join(f'<and name="F{i}">' for i in range(depth)) + '<feature name="leaf"/>'
            + "</and>" * depth + "</struct></featureModel>")
    status, kind, message = error_of(client.post("/api/fm/upload", params={"filename": "deep.xml"},
                                                 content=text.encode(), headers=headers))
    assert (status, kind) == (503, "AnalysisTimeout") and "0.2 s" in message
    monkeypatch.setattr(upload_worker, "TIME_LIMIT_SECONDS", 60.0)
    response = client.post("/api/fm/upload", params={"filename": "m.uvl"}, content=b"features\n    A\n",
                           headers=headers)
    assert response.status_code == 200, response.text
