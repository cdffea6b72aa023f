"""The API on PostgreSQL: the same routes over the demo database built on a real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.support import bearer, error_of, new_campaign
from evplatform.api import create_app
from evplatform.fleet import build_demo_database
from evplatform.store import audit_log, create_account, issue_token, open_store

pytestmark = pytest.mark.postgres
VEHICLES = 300  # as on SQLite: enough su7/max for the bad release to halt


@pytest.fixture(scope="module")
def pg_client(postgres_url: str) -> Iterator[tuple[TestClient, str, str, str]]:
    """The client, rita's token, a second release manager's (approvals need a second person) and the URL."""
    build_demo_database(postgres_url, vehicles=VEHICLES)
    store = open_store(postgres_url)
    try:
        create_account(store, "rita", "release_manager")
        create_account(store, "otto", "release_manager")
        token, approver = issue_token(store, "rita"), issue_token(store, "otto")
    finally:
        store.dispose()
    with TestClient(create_app(None, postgres_url)) as client:
        yield client, token, approver, postgres_url


def test_fleet_and_campaigns_on_postgres(pg_client: tuple[TestClient, str, str, str]) -> None:
    client, _, _, _ = pg_client
    assert client.get("/api/fleet/counts").json()["total"] == VEHICLES
    page = client.get("/api/fleet/vehicles", params={"market": "CN", "limit": 5}).json()
    assert len(page["vehicles"]) == 5 and page["total"] > 5
    campaigns = client.get("/api/campaigns").json()["campaigns"]
    assert [c["state"] for c in campaigns] == ["completed", "halted"]
    timeline = client.get("/api/campaigns/1").json()["timeline"]["overall"]
    assert timeline[-1]["succeeded"] == campaigns[0]["reports"]["succeeded"]


def test_release_manager_controls_on_postgres(pg_client: tuple[TestClient, str, str, str]) -> None:
    client, token, approver, url = pg_client
    cid = new_campaign(client, token, approver)["id"]
    assert client.post(f"/api/campaigns/{cid}/pause").status_code == 401
    assert client.post(f"/api/campaigns/{cid}/pause", headers=bearer(token)).json()["state"] == "paused"
    assert error_of(client.post(f"/api/campaigns/{cid}/pause", headers=bearer(token)))[:2] == (409, "TransitionRefused")
    store = open_store(url)
    try:
        assert audit_log(store, subject=f"campaign:{cid}", limit=1)[0].actor == "rita"
    finally:
        store.dispose()
