"""Campaign routes: progress with timeline, create/start/pause/resume/cancel with roles, audit log."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from api.support import bearer, error_of, new_campaign
from evplatform.fleet import progress
from evplatform.store import Store, audit_log
from evplatform.store.stability import report_timeline


def test_list_shows_the_demo_campaigns(client: TestClient, store: Store) -> None:
    data = client.get("/api/campaigns").json()["campaigns"]
    assert [(c["release"], c["state"]) for c in data] == [("hub-os-1.7.0", "completed"),
                                                           ("adas-high-2.5.0", "halted")]
    assert data[1]["halt_reason"] == progress(store, 2)["halt_reason"]
    assert "cohort su7/max" in data[1]["halt_reason"]


def test_progress_has_waves_and_rates_over_time(client: TestClient, store: Store) -> None:
    data = client.get("/api/campaigns/1").json()
    expected = progress(store, 1)
    assert [w["succeeded"] for w in data["waves"]] == [w["succeeded"] for w in expected["waves"]]
    rows = report_timeline(store, 1)
    last = data["timeline"]["overall"][-1]
    assert last["succeeded"] == sum(n for _, _, outcome, n in rows if outcome == "succeeded")
    assert last["errors"] == sum(n for _, _, outcome, n in rows if outcome != "succeeded")
    assert last["success_rate"] == last["succeeded"] / last["reports"]
    assert set(data["timeline"]["waves"]) == {"0", "1", "2", "3"}
    assert sum(p["reports"] for p in [w[-1] for w in data["timeline"]["waves"].values()]) == last["reports"]


def test_release_manager_creates_starts_pauses_resumes_cancels(
    client: TestClient, store: Store, tokens: dict[str, str]
) -> None:
    created = new_campaign(client, tokens["release_manager"], tokens["admin"])
    cid = created["id"]
    assert created["state"] == "running" and created["targets"] > 0
    headers = bearer(tokens["release_manager"])
    assert client.post(f"/api/campaigns/{cid}/pause", headers=headers).json()["state"] == "paused"
    assert client.post(f"/api/campaigns/{cid}/resume", headers=headers).json()["state"] == "running"
    cancelled = client.post(f"/api/campaigns/{cid}/cancel", json={"reason": "wrong build"}, headers=headers).json()
    assert cancelled["state"] == "cancelled" and cancelled["cancel_reason"] == "wrong build"
    actions = [(e.actor, e.action) for e in audit_log(store, subject=f"campaign:{cid}")]
    assert actions == [("release_manager", "campaign.cancelled"), ("release_manager", "campaign.running"),
                       ("release_manager", "campaign.paused"), ("release_manager", "campaign.start"),
                       ("release_manager", "campaign.create")]


def test_writes_are_refused_without_the_role(client: TestClient, store: Store, tokens: dict[str, str]) -> None:
    cid = new_campaign(client, tokens["admin"], tokens["release_manager"])["id"]
    for action in ("pause", "resume", "cancel", "start"):
        assert client.post(f"/api/campaigns/{cid}/{action}").status_code == 401
        for role in ("viewer", "engineer"):
            assert client.post(f"/api/campaigns/{cid}/{action}", headers=bearer(tokens[role])).status_code == 403
    assert client.post("/api/campaigns", json={"name": "x", "release_id": "hub-os-1.8.0"},
                       headers=bearer(tokens["engineer"])).status_code == 403
    assert client.post("/api/releases", json={"id": "r", "component": "hub-os", "version": "9"},
                       headers=bearer(tokens["viewer"])).status_code == 403
    assert client.get(f"/api/campaigns/{cid}").json()["state"] == "running"
    assert all(e.actor == "admin" for e in audit_log(store, subject=f"campaign:{cid}"))


def test_a_campaign_without_approval_is_refused(client: TestClient, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["release_manager"])
    client.post("/api/releases", json={"id": "hub-os-1.9.0", "component": "hub-os", "version": "1.9.0"},
                headers=headers)
    response = client.post("/api/campaigns", headers=headers, json={
        "name": "no approval", "release_id": "hub-os-1.9.0", "target": {"markets": ["DE"]}, "start": True})
    status, kind, message = error_of(response)
    assert (status, kind) == (409, "FleetError")
    assert "no approval record for market(s) DE" in message


def test_unknown_component_and_bad_expression(client: TestClient, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["release_manager"])
    status, _, message = error_of(client.post("/api/releases", headers=headers,
                                              json={"id": "x-1", "component": "toaster", "version": "1"}))
    assert status == 409 and "unknown software component 'toaster'" in message
    status, _, message = error_of(client.post("/api/campaigns", headers=headers, json={
        "name": "bad", "release_id": "hub-os-1.7.0", "target": {"expression": "Battery &"}}))
    assert status == 422 and message.startswith("target filter expression:")


def test_bad_maintenance_window_is_refused(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post("/api/campaigns", headers=bearer(tokens["release_manager"]), json={
        "name": "w", "release_id": "hub-os-1.7.0", "window": ["25:00", "03:00"]})
    status, _, message = error_of(response)
    assert status == 422 and "25:00" in message


def test_state_changes_and_refused_credentials_are_logged(
    client: TestClient, tokens: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="evplatform")
    cid = new_campaign(client, tokens["release_manager"], tokens["admin"])["id"]
    client.post(f"/api/campaigns/{cid}/pause", headers=bearer(tokens["release_manager"]))
    states = [(r.campaign, r.state, r.actor) for r in caplog.records  # type: ignore[attr-defined]
              if getattr(r, "event", None) == "campaign_state"]
    assert (cid, "paused", "release_manager") in states
    client.post(f"/api/campaigns/{cid}/resume", headers=bearer("not-a-real-token"))
    client.post(f"/api/campaigns/{cid}/resume", headers=bearer(tokens["viewer"]))
    refused = [(r.status, r.path) for r in caplog.records  # type: ignore[attr-defined]
               if getattr(r, "event", None) in ("auth_failed", "forbidden")]
    assert refused == [(401, f"/api/campaigns/{cid}/resume"), (403, f"/api/campaigns/{cid}/resume")]
    assert "not-a-real-token" not in caplog.text and tokens["viewer"] not in caplog.text
