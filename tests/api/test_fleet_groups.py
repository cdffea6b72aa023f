"""The fleet list by filter query (case-insensitive, regions, sorting, paging past the end) and saved
groups over the API: roles, bounds, the one error shape, a campaign for a group."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.support import bearer, error_of, new_campaign
from evplatform.store import Store, audit_log
from evplatform.store import vehicles as vdb


def _count(store: Store, market: str | None = None, model: str | None = None) -> int:
    return sum(c["vehicles"] for c in vdb.fleet_counts(store)
               if (market is None or c["market"] == market) and (model is None or c["model"] == model))


def test_model_is_case_insensitive_and_eu_covers_its_members(client: TestClient, store: Store) -> None:
    page = client.get("/api/fleet/vehicles", params={"model": "SU7", "limit": 1}).json()
    assert page["total"] == _count(store, model="su7") > 0 and page["query"] == 'model = "SU7"'
    eu = client.get("/api/fleet/vehicles", params={"market": "eu", "limit": 1000}).json()
    members = {m.id for m in vdb.markets(store).values() if m.parent == "EU"}
    assert eu["total"] == sum(_count(store, market=m) for m in members) > 0
    assert {v["market"] for v in eu["vehicles"]} <= members and "DE" in {v["market"] for v in eu["vehicles"]}
    query = client.get("/api/fleet/vehicles", params={"q": "market in (EU) and model = su7"}).json()
    assert query["total"] == sum(_count(store, market=m, model="su7") for m in members)


def test_sorting_and_a_page_past_the_end(client: TestClient) -> None:
    page = client.get("/api/fleet/vehicles", params={"sort": "vin", "order": "desc", "limit": 5}).json()
    vins = [v["vin"] for v in page["vehicles"]]
    assert vins == sorted(vins, reverse=True) and page["pages"] == -(-page["total"] // 5)
    assert {"last_seen", "crashes_7d"} <= set(page["vehicles"][0])
    past = client.get("/api/fleet/vehicles", params={"limit": 50, "offset": 25_000})
    assert past.status_code == 200
    body = past.json()
    assert body["vehicles"] == [] and body["page"] == 500 and body["total"] > 0
    assert body["note"].startswith("Page 501 is past the end")


def test_bad_queries_and_bounds_are_4xx_in_the_error_shape(client: TestClient) -> None:
    status, kind, message = error_of(client.get("/api/fleet/vehicles", params={"q": "model = su7 and"}))
    assert (status, kind) == (422, "QueryError") and message.startswith("query column 16:")
    status, kind, message = error_of(client.get("/api/fleet/vehicles", params={"q": "x" * 1001}))
    assert status == 422 and "q" in message
    status, _, message = error_of(client.get("/api/fleet/vehicles", params={"model": "nope"}))
    assert status == 422 and "unknown model 'nope'" in message
    assert error_of(client.get("/api/fleet/vehicles", params={"sort": "colour"}))[0] == 422
    assert error_of(client.get("/api/fleet/vehicles", params={"limit": 1001}))[0] == 422
    assert error_of(client.get("/api/fleet/groups/" + "g" * 65))[0] == 422


def test_groups_need_a_release_manager_to_write(client: TestClient, tokens: dict[str, str], store: Store) -> None:
    body = {"name": "eu-su7", "query": "market in (EU) and model = SU7", "description": "EU saloons"}
    assert error_of(client.post("/api/fleet/groups", json=body))[0] == 401
    assert error_of(client.post("/api/fleet/groups", json=body, headers=bearer(tokens["viewer"])))[0] == 403
    assert error_of(client.post("/api/fleet/groups", json=body, headers=bearer(tokens["engineer"])))[0] == 403
    created = client.post("/api/fleet/groups", json=body, headers=bearer(tokens["release_manager"]))
    assert created.status_code == 201, created.text
    assert created.json()["vehicles"] == client.get("/api/fleet/vehicles", params={"q": body["query"]}).json()["total"]
    assert error_of(client.post("/api/fleet/groups", json=body, headers=bearer(tokens["admin"])))[0] == 409
    bad = {"name": "typo", "query": "market in (EU) and model = su9"}
    status, kind, message = error_of(client.post("/api/fleet/groups", json=bad, headers=bearer(tokens["admin"])))
    assert (status, kind) == (422, "QueryError") and message.startswith("query column 28: unknown model 'su9'")
    named = {"name": "has space", "query": "model = su7"}
    assert error_of(client.post("/api/fleet/groups", json=named, headers=bearer(tokens["admin"])))[0] == 422
    listed = client.get("/api/fleet/groups").json()["groups"]
    assert [(g["name"], g["created_by"]) for g in listed] == [("eu-su7", "release_manager")]
    one = client.get("/api/fleet/groups/eu-su7").json()
    vehicles = client.get("/api/fleet/groups/eu-su7/vehicles", params={"limit": 2}).json()
    assert vehicles["group"] == one and vehicles["total"] == one["vehicles"] and len(vehicles["vehicles"]) == 2
    assert error_of(client.delete("/api/fleet/groups/eu-su7", headers=bearer(tokens["viewer"])))[0] == 403
    deleted = client.delete("/api/fleet/groups/eu-su7", headers=bearer(tokens["release_manager"]))
    assert deleted.json() == {"name": "eu-su7", "deleted": True}
    assert error_of(client.get("/api/fleet/groups/eu-su7"))[:2] == (404, "NotFound")
    assert error_of(client.get("/api/fleet/groups/eu-su7/vehicles"))[0] == 404
    assert error_of(client.delete("/api/fleet/groups/eu-su7", headers=bearer(tokens["admin"])))[0] == 404
    actions = [a.action for a in audit_log(store, subject="fleet-group:eu-su7")]
    assert actions == ["fleet.group.delete", "fleet.group.create"]


def test_a_campaign_takes_a_group_as_its_target(client: TestClient, tokens: dict[str, str], store: Store) -> None:
    manager = bearer(tokens["release_manager"])
    group = {"name": "cn-yu7", "query": "model = yu7 and market = cn"}
    assert client.post("/api/fleet/groups", json=group, headers=manager).status_code == 201
    in_group = client.get("/api/fleet/groups/cn-yu7").json()["vehicles"]
    started = new_campaign(client, tokens["release_manager"], tokens["admin"],
                           target={"markets": ["CN"], "group": "cn-yu7"})
    assert 0 < started["targets"] <= in_group
    targeted = client.get("/api/fleet/vehicles", params={"q": f"campaign({started['id']}) = any", "limit": 1000})
    assert {(v["model"], v["market"]) for v in targeted.json()["vehicles"]} == {("yu7", "CN")}
    status, _, message = error_of(client.post("/api/campaigns", headers=manager, json={
        "name": "x", "release_id": "hub-os-1.8.0", "target": {"group": "nope"}}))
    assert status == 422 and "target.group: no fleet group 'nope'" in message


def test_the_pages_csv_is_the_filtered_list(client: TestClient) -> None:
    response = client.get("/fleet.csv", params={"market": "eu", "sort": "vin", "order": "desc"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert 'filename="fleet.csv"' in response.headers["content-disposition"]
    lines = response.text.strip().splitlines()
    total = client.get("/api/fleet/vehicles", params={"market": "EU"}).json()["total"]
    assert lines[0].split(",")[:4] == ["vin", "model", "trim", "market"] and len(lines) - 1 == total > 0
    vins = [line.split(",")[0] for line in lines[1:]]
    assert vins == sorted(vins, reverse=True)
    page = client.get("/fleet", params={"q": "model = su7 and"})
    assert page.status_code == 200 and "query column 16: expected a condition" in page.text
