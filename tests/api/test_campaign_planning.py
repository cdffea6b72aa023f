"""Issue 16 §1 over HTTP: /api/campaigns/preview, /dry-run and /{id}/plan — roles, bounds, the one error shape."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.support import DEMO_VEHICLES, bearer, error_of
from evplatform.store import Store
from evplatform.store import campaigns as cdb


def _register(client: TestClient, tokens: dict[str, str], release: str = "cockpit-9.0.0") -> str:
    component, version = release.rsplit("-", 1)
    response = client.post("/api/releases", json={"id": release, "component": component, "version": version},
                           headers=bearer(tokens["release_manager"]))
    assert response.status_code == 201, response.text
    return release


def test_preview_needs_a_signed_in_account(client: TestClient, tokens: dict[str, str]) -> None:
    assert error_of(client.post("/api/campaigns/preview", json={}))[0] == 401
    for role in ("viewer", "engineer", "release_manager", "admin"):
        assert client.post("/api/campaigns/preview", json={}, headers=bearer(tokens[role])).status_code == 200
    assert error_of(client.post("/api/campaigns/dry-run", json={"release_id": "hub-os-1.7.0"}))[0] == 401


def test_preview_counts_with_a_breakdown(client: TestClient, tokens: dict[str, str]) -> None:
    viewer = bearer(tokens["viewer"])
    everything = client.post("/api/campaigns/preview", json={}, headers=viewer).json()
    assert everything["fleet"] == everything["vehicles"] == DEMO_VEHICLES
    for key in ("by_model", "by_trim", "by_market"):
        assert sum(everything[key].values()) == DEMO_VEHICLES
    eu = client.post("/api/campaigns/preview", json={"target": {"markets": ["EU"]}}, headers=viewer).json()
    assert 0 < eu["vehicles"] < DEMO_VEHICLES and "CN" not in eu["by_market"]
    assert eu["vehicles"] == sum(n for m, n in everything["by_market"].items() if m != "CN")


def test_preview_bounds_and_errors(client: TestClient, tokens: dict[str, str]) -> None:
    viewer = bearer(tokens["viewer"])
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"target": {"models": ["su7"] * 1001}}, 422, "models"),
        ({"target": {"markets": ["X" * 33]}}, 422, "markets"),
        ({"target": {"expression": "x" * 10_001}}, 422, "expression"),
        ({"target": {"colour": "red"}}, 422, "colour"),
        ({"target": {"markets": ["XX"]}}, 422, "unknown market 'XX'"),
        ({"target": {"expression": "LidarSuite & ("}}, 422, "target filter expression"),
        ({"target": {"current_versions": ["1.0"]}}, 422, "current_versions"),
        ({"release_id": "no-such-1.0"}, 404, "no-such-1.0"),
        ({"release_id": ""}, 422, "release_id"),
    ]
    for body, status, words in cases:
        got = error_of(client.post("/api/campaigns/preview", json=body, headers=viewer))
        assert got[0] == status and words in got[2], (body, got)


def test_dry_run_reasons_waves_and_missing_approvals(client: TestClient, tokens: dict[str, str]) -> None:
    release = _register(client, tokens)
    body = {"release_id": release, "target": {"markets": ["EU"]},
            "waves": [{"fraction": 0.1, "soak_hours": 24}, {"fraction": 1.0}], "window": ["01:00", "05:00"]}
    data = client.post("/api/campaigns/dry-run", json=body, headers=bearer(tokens["viewer"])).json()
    assert data["can_start"] is False and data["approvals"]["missing"] == sorted(data["targets"]["by_market"])
    assert data["approvals"]["missing"] and all(m in " ".join(data["blockers"]) for m in data["approvals"]["missing"])
    assert sum(data["wave_sizes"]) == data["targets"]["vehicles"] > 0
    assert data["matched"] == data["targets"]["vehicles"] + sum(e["vehicles"] for e in data["excluded"])
    assert all(len(e["sample_vins"]) <= 5 and all(len(v) == 17 for v in e["sample_vins"]) for e in data["excluded"])
    assert data["plan"]["waves"][0]["soak_hours"] == 24 and data["plan"]["window"] == ["01:00", "05:00"]
    approval = {"market": "EU", "authority": "KBA", "reference": "R156-1"}
    assert client.post(f"/api/releases/{release}/approvals", json=approval,
                       headers=bearer(tokens["admin"])).status_code == 201
    again = client.post("/api/campaigns/dry-run", json=body, headers=bearer(tokens["viewer"])).json()
    assert again["can_start"] is True and again["approvals"]["missing"] == []


def test_dry_run_bounds(client: TestClient, tokens: dict[str, str]) -> None:
    viewer = bearer(tokens["viewer"])
    base = {"release_id": "hub-os-1.7.0"}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({**base, "waves": [{"fraction": 0.01 * i} for i in range(1, 22)]}, 422, "waves"),
        ({**base, "waves": [{"fraction": 1.0, "soak_hours": 5000}]}, 422, "soak_hours"),
        ({**base, "waves": [{"fraction": 1.5}]}, 422, "fraction"),
        ({**base, "waves": [{"fraction": 0.5}]}, 422, "last wave"),
        ({**base, "waves": []}, 422, "at least one wave"),
        ({**base, "window": ["01:00", "01:00"]}, 422, "empty maintenance window"),
        ({**base, "window": ["1am", "5am"]}, 422, "HH:MM"),
        ({**base, "seed": -1}, 422, "seed"),
        ({**base, "name": "n" * 201}, 422, "name"),
        ({"release_id": "nope-1"}, 404, "nope-1"),
        ({}, 422, "release_id"),
    ]
    for body, status, words in cases:
        got = error_of(client.post("/api/campaigns/dry-run", json=body, headers=viewer))
        assert got[0] == status and words in got[2], (body, got)


def test_plan_is_a_template_for_a_new_campaign(client: TestClient, store: Store, tokens: dict[str, str]) -> None:
    plan = client.get("/api/campaigns/1/plan").json()
    assert plan["template_of"] == 1 and plan["name"].endswith("(copy)")
    assert plan["window"] == [cdb.campaign(store, 1).window_start, cdb.campaign(store, 1).window_end]
    release = _register(client, tokens)
    body = {k: plan[k] for k in ("name", "target", "waves", "forced", "window", "seed")} | {"release_id": release}
    created = client.post("/api/campaigns", json=body, headers=bearer(tokens["release_manager"]))
    assert created.status_code == 201, created.text
    copied = client.get(f"/api/campaigns/{created.json()['id']}/plan").json()
    assert {k: copied[k] for k in ("target", "waves", "forced", "window", "seed")} == \
        {k: plan[k] for k in ("target", "waves", "forced", "window", "seed")}
    assert error_of(client.get("/api/campaigns/999/plan"))[0] == 404
    assert error_of(client.get("/api/campaigns/0/plan"))[0] == 422


def test_refused_create_and_start_leaves_nothing(client: TestClient, store: Store, tokens: dict[str, str]) -> None:
    release = _register(client, tokens)
    before = len(cdb.list_campaigns(store))
    body = {"name": "cockpit EU", "release_id": release, "target": {"markets": ["EU"]}, "start": True}
    assert error_of(client.post("/api/campaigns", json=body, headers=bearer(tokens["viewer"])))[0] == 403
    status, _, message = error_of(client.post("/api/campaigns", json=body, headers=bearer(tokens["release_manager"])))
    assert 400 <= status < 500 and "no approval record for market(s) DE" in message
    assert len(cdb.list_campaigns(store)) == before


def test_the_consent_rule_changes_the_dry_run_and_is_kept(client: TestClient, tokens: dict[str, str]) -> None:
    release = _register(client, tokens)
    viewer = bearer(tokens["viewer"])

    def refused(consent: str, forced: bool) -> tuple[int, int]:
        body = {"release_id": release, "forced": forced, "consent": consent}
        data = client.post("/api/campaigns/dry-run", json=body, headers=viewer).json()
        assert data["plan"]["consent"] == consent and data["plan"]["consent_rule"].startswith(consent)
        return sum(e["vehicles"] for e in data["excluded"] if e["reason"] == "no consent to updates"), \
            data["targets"]["vehicles"]

    required, asked = refused("required", True)
    assert required > 0 and refused("not_required", True) == (0, asked + required)
    assert refused("auto", True)[0] == 0 and refused("auto", False) == (required, asked)
    assert refused("not_required", False) == (0, asked + required)
    got = error_of(client.post("/api/campaigns/dry-run", json={"release_id": release, "consent": "maybe"},
                               headers=viewer))
    assert got[0] == 422 and "consent" in got[2]
    body = {"name": "recall, consent kept", "release_id": release, "forced": True, "consent": "required"}
    created = client.post("/api/campaigns", json=body, headers=bearer(tokens["release_manager"]))
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert created.json()["consent"] == "required"
    assert client.get(f"/api/campaigns/{cid}").json()["consent"] == "required"
    assert client.get(f"/api/campaigns/{cid}/plan").json()["consent"] == "required"
    assert error_of(client.post("/api/campaigns", json={**body, "consent": "sometimes"},
                                headers=bearer(tokens["release_manager"])))[0] == 422
