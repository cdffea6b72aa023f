"""Workspace views: the same numbers as the CLI's --json and the platform functions."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from evplatform.cli.main import app as cli
from evplatform.platform import bom_of, kpi_report
from evplatform.service import presenters
from evplatform.workspace import load_workspace


def test_kpi_is_the_cli_payload(client: TestClient) -> None:
    result = CliRunner().invoke(cli, ["kpi", "--json"])
    assert result.exit_code == 0, result.output
    assert client.get("/api/kpi").json() == json.loads(result.stdout)


def test_models_matrix_has_every_trim_with_its_cost(client: TestClient) -> None:
    ws = load_workspace(None)
    costs = {c.trim.key: c for c in kpi_report(ws).trims}
    data = client.get("/api/models").json()
    trims = {t["key"]: t for m in data["models"] for t in m["trims"]}
    assert set(trims) == {t.key for t in ws.trims()}
    for key, trim in trims.items():
        assert trim["unit_cost"] == round(costs[key].unit_cost, 2)
        assert trim["markets"] == [m for m in ws.markets if (key, m) in ws.configurations]


def test_feature_tree_holds_every_feature_once(client: TestClient) -> None:
    data = client.get("/api/features").json()
    names: list[str] = []

    def walk(node: dict) -> None:
        names.append(node["name"])
        for group in node["groups"]:
            for child in group["children"]:
                walk(child)

    walk(data["tree"])
    ws = load_workspace(None)
    assert sorted(names) == sorted(ws.feature_model.features)
    assert data["tree"]["name"] == ws.feature_model.root
    assert len(data["constraints"]) == len(ws.feature_model.constraints)


def test_bom_of_a_trim(client: TestClient) -> None:
    ws = load_workspace(None)
    expected = bom_of(ws.parts, ws.configuration(ws.trim("su7/max")))
    data = client.get("/api/bom", params={"trim": "su7/max"}).json()
    assert data["bom_cost"] == round(expected.cost, 2)
    assert [line["part_no"] for line in data["lines"]] == [line.part.part_no for line in expected.lines]


def test_bom_needs_a_trim(client: TestClient) -> None:
    response = client.get("/api/bom")
    assert response.status_code == 422
    assert "query.trim: Field required" in response.json()["error"]["message"]


def test_platform_lists_models_and_markets(client: TestClient) -> None:
    data = client.get("/api/platform").json()
    ws = load_workspace(None)
    assert data["name"] == ws.platform.name
    assert [m["id"] for m in data["models"]] == list(ws.models)
    assert [m["id"] for m in data["markets"]] == list(ws.markets)


def test_simulation_is_cached_per_workspace(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple] = []
    real = presenters.simulate_workspace

    def counting(*args: object) -> list:
        calls.append(args[1:])
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(presenters, "simulate_workspace", counting)
    first = client.get("/api/simulation", params={"cycle": "wltc"}).json()
    second = client.get("/api/simulation", params={"cycle": "WLTC"}).json()
    assert first == second
    assert len(calls) == 1
    assert {r["vehicle"] for r in first["results"]} == {t.key for t in load_workspace(None).trims()}
    assert all(r["range_km"] > 100 for r in first["results"])
    client.get("/api/simulation", params={"cycle": "cltc"})
    assert len(calls) == 2


def test_unknown_cycle_is_a_clear_error(client: TestClient) -> None:
    response = client.get("/api/simulation", params={"cycle": "moon"})
    assert response.status_code == 400
    assert "moon" in response.json()["error"]["message"]
