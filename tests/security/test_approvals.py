"""Issue 14 item 15: separation of duties and approval validity.

One release manager could register a release, approve it for a market ``XX-NOPE`` dated 1990 or
2999, and start a campaign to the whole fleet; a 2999-dated approval satisfied the UN R156 check;
the audit entry left out ``approved_at``. Now an approval names a market of the workspace, is dated
no later than the server's clock (``fleet.approvals.CLOCK_TOLERANCE``) and not before the release,
comes from someone other than the release's creator, and the audit log records all of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from evplatform.api import create_app
from evplatform.clock import FixedClock
from evplatform.errors import FleetError
from evplatform.fleet import VehicleSpec, create_campaign, register_vehicles, start_campaign
from evplatform.fleet.approvals import CLOCK_TOLERANCE, approvals_in_force
from evplatform.store import audit_log, create_account, issue_token, open_store
from evplatform.store import releases as rdb
from evplatform.store import vehicles as vdb
from evplatform.store.migrate import downgrade, upgrade
from evplatform.workspace import load_workspace

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # the server's clock in these tests
RELEASE = {"id": "hub-os-1.9.0", "component": "hub-os", "version": "1.9.0"}
APPROVAL = {"market": "CN", "authority": "MIIT", "reference": "GB44496-2026-042"}


@dataclass
class Server:
    client: TestClient
    url: str
    rita: dict[str, str]  # a release manager: registers the release
    otto: dict[str, str]  # a second release manager: may approve it
    clock: FixedClock  # the server's


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A fleet of Chinese vehicles (China demands an update approval), two release managers, rita's release."""
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    ws = load_workspace(None)
    trims = ws.sold_in("CN")
    store = open_store(url)
    try:
        register_vehicles(store, ws, [VehicleSpec(f"LMDAPPRVL{i:08d}", t.model_id, t.id, "CN")
                                      for i, t in enumerate(trims * 3)], at=NOW - timedelta(days=30))
        assert vdb.markets(store)["CN"].approval_required
        tokens = {}
        for name in ("rita", "otto"):
            create_account(store, name, "release_manager")
            tokens[name] = {"Authorization": f"Bearer {issue_token(store, name)}"}
    finally:
        store.dispose()
    clock = FixedClock(NOW)
    with TestClient(create_app(None, url, clock=clock)) as client:
        assert client.post("/api/releases", json=RELEASE, headers=tokens["rita"]).status_code == 201
        yield Server(client, url, tokens["rita"], tokens["otto"], clock)


def _approve(server: Server, headers: dict[str, str], **changes: Any) -> httpx.Response:
    return server.client.post(f"/api/releases/{RELEASE['id']}/approvals", json={**APPROVAL, **changes},
                              headers=headers)


def _error(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    assert error["status"] == response.status_code
    return error["status"], error["type"], error["message"]


def _approvals(server: Server) -> list[rdb.ApprovalRecord]:
    store = open_store(server.url)
    try:
        return rdb.approvals(store, str(RELEASE["id"]))
    finally:
        store.dispose()


def test_one_release_manager_cannot_register_approve_and_start_alone(server: Server) -> None:
    status, kind, message = _error(_approve(server, server.rita))
    assert (status, kind) == (403, "SeparationOfDutiesError")
    assert "rita" in message and "second person" in message
    campaign = {"name": "hub-os 1.9.0 China", "release_id": RELEASE["id"], "target": {"markets": ["CN"]},
                "start": True}
    started = server.client.post("/api/campaigns", json=campaign, headers=server.rita)
    assert started.status_code == 409 and "no approval record for market(s) CN" in _error(started)[2]
    assert _approvals(server) == []


def test_a_second_person_approves_and_the_audit_records_every_field(server: Server) -> None:
    now = server.clock.advance(timedelta(days=2))  # the authority answered the next day, recorded a day later
    approved_at = now - timedelta(days=1)
    response = _approve(server, server.otto, approved_at=approved_at.isoformat())
    assert response.status_code == 201, response.text
    store = open_store(server.url)
    try:
        entry = next(e for e in audit_log(store, subject=f"release:{RELEASE['id']}") if e.action == "approval.record")
    finally:
        store.dispose()
    assert entry.actor == "otto"
    assert entry.detail == {**APPROVAL, "approved_by": "otto", "approved_at": approved_at.isoformat()}
    campaign = {"name": "hub-os 1.9.0 China", "release_id": RELEASE["id"], "target": {"markets": ["CN"]},
                "start": True}
    assert server.client.post("/api/campaigns", json=campaign, headers=server.rita).status_code == 201


@pytest.mark.parametrize(("changes", "says"), [
    ({"market": "XX-NOPE"}, "not a market of the workspace"),
    ({"approved_at": "2999-01-01T00:00:00Z"}, "is in the future"),
    ({"approved_at": (NOW + CLOCK_TOLERANCE + timedelta(minutes=1)).isoformat()}, "is in the future"),
    ({"approved_at": "1990-01-01T00:00:00Z"}, "before the release was registered"),
])
def test_an_approval_names_a_real_market_and_a_possible_date(server: Server, changes: dict[str, str],
                                                             says: str) -> None:
    status, kind, message = _error(_approve(server, server.otto, **changes))
    assert (status, kind) == (422, "ApprovalError") and says in message
    assert _approvals(server) == []


def test_within_the_clock_tolerance_is_accepted(server: Server) -> None:
    at = NOW + CLOCK_TOLERANCE - timedelta(seconds=1)
    assert _approve(server, server.otto, approved_at=at.isoformat()).status_code == 201


def test_a_future_dated_approval_does_not_satisfy_the_r156_check(server: Server) -> None:
    """An approval dated 2999 stored by an older version must not open a campaign (UN R156 §7.1.1)."""
    store = open_store(server.url)
    try:
        rdb.save_approval(store, rdb.ApprovalRecord(str(RELEASE["id"]), "CN", "MIIT", "forged", "otto",
                                                    datetime(2999, 1, 1, tzinfo=UTC)))
        cid = create_campaign(store, name="forged", release_id=str(RELEASE["id"]), actor="rita", now=NOW)
        with pytest.raises(FleetError, match=r"no approval record for market\(s\) CN"):
            start_campaign(store, cid, actor="rita", now=NOW)
        assert approvals_in_force(rdb.approvals(store, str(RELEASE["id"])), datetime(2999, 1, 1, tzinfo=UTC)) == ["CN"]
    finally:
        store.dispose()


def test_migration_0005_takes_each_release_creator_from_the_audit_log(tmp_path: Path) -> None:
    """Releases registered before 0005 keep their creator (the audit log's actor), so four-eyes holds for them."""
    store = open_store(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        rdb.save_release(store, rdb.ReleaseRecord("hub-os-1.0.0", "hub-os", "hub", "hub-hw-2", "1.0.0", "true"),
                         actor="rita")
        downgrade(store, "0004")
        upgrade(store)
        found = rdb.release(store, "hub-os-1.0.0")
        assert found is not None and found.created_by == "rita"
    finally:
        store.dispose()
