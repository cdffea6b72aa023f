"""Issue 16 §4: the administration routes — roles decide who may use them, the last admin stays,
an issued token works until revoked, every write is audit-logged, the audit log filters and pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.support import bearer, error_of

#: Every admin route with a body that would succeed for an admin.
ADMIN_ROUTES: tuple[tuple[str, str, dict[str, Any] | None], ...] = (
    ("GET", "/api/accounts", None),
    ("POST", "/api/accounts", {"name": "newbie", "role": "viewer"}),
    ("PUT", "/api/accounts/viewer/role", {"role": "engineer"}),
    ("POST", "/api/accounts/viewer/tokens", {"label": "x", "days": 1}),
    ("GET", "/api/tokens", None),
    ("POST", "/api/tokens/1/revoke", None),
)


@pytest.mark.parametrize("role", ["viewer", "engineer", "release_manager"])
def test_only_admins_may_use_the_admin_routes(client: TestClient, tokens: dict[str, str], role: str) -> None:
    for method, path, body in ADMIN_ROUTES:
        response = client.request(method, path, json=body, headers=bearer(tokens[role]))
        status, kind, message = error_of(response)
        assert (status, kind) == (403, "Forbidden"), (method, path, response.text)
        assert "needs admin" in message
        anonymous = client.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
    audit = client.get("/api/audit", params={"action": "account"}, headers=bearer(tokens["viewer"])).json()
    assert "account:newbie" not in {e["subject"] for e in audit["entries"]}  # nothing was done


def test_an_admin_creates_an_account_issues_a_token_and_revokes_it(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    created = client.post("/api/accounts", json={"name": "rita.k", "role": "release_manager"}, headers=admin)
    assert created.status_code == 201 and created.json() == {"name": "rita.k", "role": "release_manager",
                                                             "disabled": False}
    again = client.post("/api/accounts", json={"name": "rita.k", "role": "viewer"}, headers=admin)
    assert error_of(again)[:2] == (409, "Conflict")
    issued = client.post("/api/accounts/rita.k/tokens", json={"label": "laptop", "days": 7}, headers=admin)
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["account"] == "rita.k" and body["label"] == "laptop" and not body["revoked"]
    created_at, expires_at = datetime.fromisoformat(body["created_at"]), datetime.fromisoformat(body["expires_at"])
    assert expires_at - created_at == timedelta(days=7)  # the server's clock decides both
    me = client.get("/api/me", headers=bearer(body["token"]))
    assert me.json() == {"name": "rita.k", "role": "release_manager"}
    listed = client.get("/api/tokens", params={"account": "rita.k"}, headers=admin).json()["tokens"]
    assert [t["id"] for t in listed] == [body["id"]] and "token" not in listed[0]
    revoked = client.post(f"/api/tokens/{body['id']}/revoke", headers=admin)
    assert revoked.json() == {"revoked": [body["id"]]}
    refused = client.get("/api/me", headers=bearer(body["token"]))
    assert error_of(refused)[0] == 401
    log = client.get("/api/audit", params={"who": "admin"}, headers=admin).json()["entries"]
    assert [(e["action"], e["subject"]) for e in log[:3]] == [
        ("token.revoke", f"tokens:{body['id']}"), ("token.issue", "account:rita.k"),
        ("account.create", "account:rita.k")]


def test_a_role_change_applies_at_once_and_the_last_admin_stays(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    last = client.put("/api/accounts/admin/role", json={"role": "viewer"}, headers=admin)
    status, kind, message = error_of(last)
    assert (status, kind) == (409, "Conflict") and "last admin" in message
    assert client.get("/api/me", headers=admin).json()["role"] == "admin"
    promoted = client.put("/api/accounts/engineer/role", json={"role": "admin"}, headers=admin)
    assert promoted.json() == {"name": "engineer", "role": "admin", "disabled": False}
    assert client.get("/api/accounts", headers=bearer(tokens["engineer"])).status_code == 200  # at once
    demoted = client.put("/api/accounts/admin/role", json={"role": "viewer"}, headers=bearer(tokens["engineer"]))
    assert demoted.status_code == 200
    assert client.get("/api/accounts", headers=admin).status_code == 403
    changes = client.get("/api/audit", params={"action": "account.role"}, headers=admin).json()["entries"]
    assert [(e["actor"], e["subject"], e["detail"]) for e in changes] == [
        ("engineer", "account:admin", {"from": "admin", "to": "viewer"}),
        ("admin", "account:engineer", {"from": "engineer", "to": "admin"})]


def test_admin_bodies_are_bounded(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    account_bodies: list[dict[str, object]] = [{"name": "bad name", "role": "viewer"}, {"name": "x" * 129},
                                               {"name": "ok", "role": "root"}, {"name": "ok", "extra": 1}]
    for body in account_bodies:
        assert error_of(client.post("/api/accounts", json=body, headers=admin))[0] == 422, body
    token_bodies: list[dict[str, object]] = [{"days": 0}, {"days": 3651}, {"label": "x" * 201}, {"label": "nul\x00"}]
    for body in token_bodies:
        assert error_of(client.post("/api/accounts/viewer/tokens", json=body, headers=admin))[0] == 422, body
    missing = client.post("/api/accounts/nobody/tokens", json={}, headers=admin)
    assert error_of(missing)[:2] == (404, "NotFound")
    assert error_of(client.put("/api/accounts/nobody/role", json={"role": "viewer"}, headers=admin))[0] == 404


def test_audit_filters_page_and_stay_backward_compatible(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    for name in ("a1", "a2", "a3"):
        client.post("/api/accounts", json={"name": name}, headers=admin)
        client.post(f"/api/accounts/{name}/tokens", json={}, headers=admin)
    old = client.get("/api/audit", params={"limit": 2}, headers=bearer(tokens["viewer"])).json()
    assert len(old["entries"]) == 2 and {"at", "actor", "action", "subject", "detail"} <= set(old["entries"][0])
    tokens_only = client.get("/api/audit", params={"who": "admin", "action": "token"}, headers=admin).json()
    assert tokens_only["total"] == 3 and {e["action"] for e in tokens_only["entries"]} == {"token.issue"}
    page1 = client.get("/api/audit", params={"who": "admin", "limit": 4}, headers=admin).json()
    page2 = client.get("/api/audit", params={"who": "admin", "limit": 4, "offset": 4}, headers=admin).json()
    assert page1["total"] == page2["total"] == 6 and len(page1["entries"]) == 4 and len(page2["entries"]) == 2
    assert not {e["id"] for e in page1["entries"]} & {e["id"] for e in page2["entries"]}
    newest = datetime.fromisoformat(page1["entries"][0]["at"])
    oldest = datetime.fromisoformat(page2["entries"][-1]["at"])
    window = {"who": "admin", "since": oldest.isoformat(), "until": newest.isoformat()}
    assert client.get("/api/audit", params=window, headers=admin).json()["total"] == 5  # until is exclusive
    naive = {"who": "admin", "since": oldest.replace(tzinfo=None).isoformat()}  # no zone: UTC
    assert client.get("/api/audit", params=naive, headers=admin).json()["total"] == 6
    assert error_of(client.get("/api/audit", params={"since": "yesterday"}, headers=admin))[0] == 422
    assert error_of(client.get("/api/audit", params={"offset": -1}, headers=admin))[0] == 422
    assert client.get("/api/audit").status_code == 401


def test_a_token_lifetime_that_rounds_to_zero_is_a_422_not_a_503(client: TestClient, tokens: dict[str, str]) -> None:
    """Issue 18 §5 fuzz finding: days=1e-300 passed ``gt=0`` but became a zero timedelta (503 StoreError)."""
    response = client.post("/api/accounts/viewer/tokens", json={"days": 1e-300}, headers=bearer(tokens["admin"]))
    assert error_of(response)[:2] == (422, "ValidationError")
