"""Issue 16 §1 over HTTP: the recovery routes, their roles, the 409 naming the allowed actions, the
vehicles page and the history (the demo's campaign 2 is halted by its su7/max cohort)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.support import bearer, error_of
from evplatform.store import Store, audit_log

HALTED = 2
WRITES = {"ack": {"comment": "c"}, "exclude": {"model": "su7", "reason": "r"}, "next-wave": {"reason": "r"},
          "retry": {"reason": "r"}, "cancel": {"reason": "r"}}


@pytest.mark.parametrize("action", sorted(WRITES))
def test_writes_need_the_release_manager(client: TestClient, tokens: dict[str, str], action: str) -> None:
    url = f"/api/campaigns/{HALTED}/{action}"
    assert client.post(url, json=WRITES[action]).status_code == 401
    for role in ("viewer", "engineer"):
        status, _, message = error_of(client.post(url, json=WRITES[action], headers=bearer(tokens[role])))
        assert status == 403 and "needs release_manager" in message
    assert client.get(f"/api/campaigns/{HALTED}").json()["state"] == "halted"


def test_resume_of_a_halt_is_409_naming_the_allowed_actions(client: TestClient, tokens: dict[str, str]) -> None:
    status, kind, message = error_of(client.post(f"/api/campaigns/{HALTED}/resume",
                                                 headers=bearer(tokens["release_manager"])))
    assert (status, kind) == (409, "TransitionRefused")
    assert message == (f"cannot resume campaign {HALTED}: it is halted; allowed from halted: ack (→ acknowledged), "
                       "cancel (→ cancelled)")
    assert client.get(f"/api/campaigns/{HALTED}").json()["allowed_actions"] == ["ack", "cancel"]


def test_ack_exclude_and_resume_with_the_history(client: TestClient, store: Store, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["release_manager"])
    assert client.post(f"/api/campaigns/{HALTED}/ack", json={"comment": ""}, headers=headers).status_code == 422
    acked = client.post(f"/api/campaigns/{HALTED}/ack", json={"comment": "su7/max crashes on boot"}, headers=headers)
    assert acked.status_code == 200, acked.text
    assert acked.json()["state"] == "acknowledged" and acked.json()["acknowledgement"] == "su7/max crashes on boot"
    done = client.post(f"/api/campaigns/{HALTED}/exclude", headers=headers,
                       json={"model": "su7", "trim": "max", "reason": "fix in 2.5.1", "resume": True}).json()
    assert done["state"] == "running" and done["vehicles_affected"] > 0
    assert sum(w["excluded"] for w in done["waves"]) == done["vehicles_affected"]
    history = client.get(f"/api/campaigns/{HALTED}/history").json()["history"]
    assert [(h["action"], h["from"], h["to"], h["actor"]) for h in history[-3:]] == [
        ("ack", "halted", "acknowledged", "release_manager"), ("exclude", "acknowledged", "acknowledged",
                                                               "release_manager"),
        ("resume", "acknowledged", "running", "release_manager")]
    assert history[-2]["reason"] == "fix in 2.5.1" and history[-2]["detail"]["cohort"] == {"model": "su7",
                                                                                         "trim": "max"}
    audit = [(e.actor, e.action) for e in audit_log(store, subject=f"campaign:{HALTED}", limit=3)]
    assert audit == [("release_manager", "campaign.running"), ("release_manager", "campaign.exclude"),
                     ("release_manager", "campaign.acknowledged")]


def test_cancel_needs_a_reason_and_keeps_the_halt(client: TestClient, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["release_manager"])
    before = client.get(f"/api/campaigns/{HALTED}").json()
    assert client.post(f"/api/campaigns/{HALTED}/cancel", headers=headers).status_code == 422
    after = client.post(f"/api/campaigns/{HALTED}/cancel", json={"reason": "superseded"}, headers=headers).json()
    assert after["state"] == "cancelled" and after["cancel_reason"] == "superseded"
    assert after["halt_reason"] == before["halt_reason"]
    assert [w["state"] for w in after["waves"]] == [w["state"] for w in before["waves"]]


def test_vehicles_are_paged_and_filtered(client: TestClient) -> None:
    page = client.get(f"/api/campaigns/{HALTED}/vehicles?size=10").json()
    assert page["page"] == 1 and len(page["vehicles"]) == 10 and page["pages"] == -(-page["total"] // 10)
    failed = client.get(f"/api/campaigns/{HALTED}/vehicles?status=rolled_back&size=500").json()
    assert failed["total"] == page["counts"]["rolled_back"] > 0
    assert all(v["status"] == "rolled_back" and v["failure_reason"] for v in failed["vehicles"])
    assert failed["vehicles"][0]["log"]
    wave1 = client.get(f"/api/campaigns/{HALTED}/vehicles?wave=1&size=500").json()
    assert wave1["wave"] == 1 and {v["wave"] for v in wave1["vehicles"]} == {1}
    past = client.get(f"/api/campaigns/{HALTED}/vehicles?page=999").json()
    assert past["past_end"] and past["vehicles"] == [] and "past the end" in past["message"]
    assert error_of(client.get(f"/api/campaigns/{HALTED}/vehicles?status=nope"))[0] == 422
    assert error_of(client.get(f"/api/campaigns/{HALTED}/vehicles?size=501"))[0] == 422
    assert error_of(client.get(f"/api/campaigns/{HALTED}/vehicles?wave=9"))[0] == 422
    assert error_of(client.get("/api/campaigns/999/vehicles"))[0] == 404


@pytest.mark.parametrize("query", ["", "&status=installed", "&wave=2"])
def test_keyset_pages_return_the_same_rows_as_numbered_pages(client: TestClient, query: str) -> None:
    """after=<next_after> walks the list by key (an index probe per page, not an OFFSET walk) and meets
    exactly the rows, in the order, that page=1, 2, … return."""
    total = client.get(f"/api/campaigns/{HALTED}/vehicles?size=1{query}").json()["total"]
    size = max(3, total // 12 + 1)  # a dozen pages or so, the last one short
    base = f"/api/campaigns/{HALTED}/vehicles?size={size}{query}"
    first = client.get(base).json()
    numbered = [v for p in range(1, first["pages"] + 1) for v in client.get(f"{base}&page={p}").json()["vehicles"]]
    assert len(numbered) == first["total"] > 2 * size and len({v["vin"] for v in numbered}) == len(numbered)
    keyed: list[dict[str, Any]] = []
    page, hops = first, 0
    while True:
        assert page["total"] == first["total"] and page["counts"] == first["counts"]
        keyed += page["vehicles"]
        if page["next_after"] is None:
            break
        page, hops = client.get(f"{base}&after={page['next_after']}").json(), hops + 1
        assert page["after"] is not None and not page["past_end"]
    assert keyed == numbered and hops == first["pages"] - 1
    ended = client.get(f"{base}&after={2**62}").json()
    assert ended["vehicles"] == [] and ended["past_end"] and "ended" in ended["message"]
    assert error_of(client.get(f"{base}&after=-1"))[0] == 422


def test_retry_and_next_wave(client: TestClient, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["release_manager"])
    counts = client.get(f"/api/campaigns/{HALTED}/vehicles").json()["counts"]
    assert counts["rolled_back"] + counts["failed"] > 0
    before = client.get(f"/api/campaigns/{HALTED}").json()
    client.post(f"/api/campaigns/{HALTED}/ack", json={"comment": "retry them"}, headers=headers)
    retried = client.post(f"/api/campaigns/{HALTED}/retry", json={"reason": "flaky"}, headers=headers).json()
    assert retried["vehicles_affected"] == counts["rolled_back"] + counts["failed"]
    after = client.get(f"/api/campaigns/{HALTED}/vehicles").json()["counts"]
    assert after["rolled_back"] == after["failed"] == 0 and after["pending"] == counts["pending"] + \
        retried["vehicles_affected"]
    response = client.post(f"/api/campaigns/{HALTED}/next-wave", json={"reason": "go on"}, headers=headers)
    if before["current_wave"] + 1 < len(before["waves"]):
        assert response.json()["opened_wave"] == before["current_wave"] + 2 == response.json()["current_wave"] + 1
    else:
        assert error_of(response)[0] == 409
