"""Features on demand over the API: roles, the refusal with its reason, the ledger, R156 records, revenue."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.support import bearer, error_of
from evplatform.store import Store, audit_log
from evplatform.store import entitlements as edb
from evplatform.store import vehicles as vdb
from evplatform.workspace import load_workspace


def _car(store: Store, *, eligible: bool) -> tuple[str, str]:
    """A demo vehicle and a paid feature it can (or cannot) run and does not hold."""
    ws = load_workspace(None)
    held = {(e.vin, e.feature) for e in edb.entitlements(store)}
    for vehicle in vdb.list_vehicles(store, limit=300):
        for feature in ws.on_demand.features.values():
            if feature.requires.evaluate(vehicle.configuration) == eligible and (vehicle.vin, feature.id) not in held:
                return vehicle.vin, feature.id
    raise AssertionError("no such vehicle in the demo fleet")


def _buy(client: TestClient, token: str | None, vin: str, feature: str, **extra: Any) -> Any:
    headers = bearer(token) if token else {}
    return client.post("/api/fod/entitlements", json={"vin": vin, "feature": feature, "channel": "app", **extra},
                       headers=headers)


def test_selling_needs_a_release_manager_and_writes_nothing_otherwise(client: TestClient, store: Store,
                                                                      tokens: dict[str, str]) -> None:
    vin, feature = _car(store, eligible=True)
    before = len(edb.entitlements(store))
    assert error_of(_buy(client, None, vin, feature))[0] == 401
    assert error_of(_buy(client, tokens["viewer"], vin, feature))[0] == 403
    assert error_of(_buy(client, tokens["engineer"], vin, feature))[0] == 403
    assert len(edb.entitlements(store)) == before


def test_a_sale_is_recorded_audited_activated_and_cancelled(client: TestClient, store: Store,
                                                            tokens: dict[str, str]) -> None:
    vin, feature = _car(store, eligible=True)
    sold = _buy(client, tokens["release_manager"], vin, feature)
    assert sold.status_code == 201, sold.text
    body = sold.json()
    assert body["entitlement"]["active"] and body["entitlement"]["basis"] == "recorded"
    assert [c["change"] for c in body["sync"]["changes"]] == ["activate"]
    assert body["sync"]["target"] == f"config/{vin}/features-1.json"
    actions = [(a.action, a.actor) for a in audit_log(store, subject=f"vehicle:{vin}")]
    assert ("fod.buy", "release_manager") in actions and ("fod.sync", "release_manager") in actions
    assert error_of(_buy(client, tokens["release_manager"], vin, feature))[0] == 409
    listed = client.get("/api/fod/entitlements", params={"vin": vin}).json()["entitlements"]
    assert [e["feature"] for e in listed if e["active"]] == [feature]
    records = client.get("/api/fod/changes", params={"vin": vin}).json()["records"]
    assert [(r["change"], r["feature"]) for r in records] == [("activate", feature)]
    assert records[0]["rxswin_changed"] == records[0]["type_approval_relevant"]
    cancelled = client.post("/api/fod/entitlements/cancel", json={"vin": vin, "feature": feature},
                            headers=bearer(tokens["release_manager"]))
    assert cancelled.status_code == 200 and not cancelled.json()["entitlement"]["active"]
    again = client.post("/api/fod/entitlements/cancel", json={"vin": vin, "feature": feature},
                        headers=bearer(tokens["release_manager"]))
    assert error_of(again)[0] == 409


def test_the_engine_refuses_a_car_that_cannot_run_the_feature_with_the_reason(client: TestClient, store: Store,
                                                                             tokens: dict[str, str]) -> None:
    vin, feature = _car(store, eligible=False)
    status, _, message = error_of(_buy(client, tokens["release_manager"], vin, feature))
    assert status == 422 and "cannot run on" in message and vin in message
    offer = next(o for o in client.get("/api/fod/offers", params={"vin": vin}).json()["offers"]
                 if o["feature"] == feature)
    assert not offer["eligible"] and all(reason in message for reason in offer["reasons"])
    assert not [e for e in edb.entitlements(store, vin=vin) if e.feature == feature]


def test_bounds_are_422_and_unknowns_404(client: TestClient, store: Store, tokens: dict[str, str]) -> None:
    vin, feature = _car(store, eligible=True)
    token = tokens["release_manager"]
    assert error_of(_buy(client, token, vin, feature, months=0))[0] == 422
    assert error_of(_buy(client, token, vin, feature, months=10**12))[0] == 422
    assert error_of(_buy(client, token, "V" * 200, feature))[0] == 422
    assert error_of(_buy(client, token, vin, feature, price=1))[0] == 422  # no price from the client
    assert error_of(_buy(client, token, vin, "no-such-feature"))[0] == 404
    assert error_of(client.get("/api/fod/offers", params={"vin": "LMDNOSUCHVIN00000"}))[0] == 404


def test_revenue_says_the_demo_take_up_is_an_estimate(client: TestClient, store: Store,
                                                     tokens: dict[str, str]) -> None:
    report = client.get("/api/fod/revenue").json()
    assert report["basis"] == "estimate" and report["mrr"] > 0 and report["attach"]
    vin, feature = _car(store, eligible=True)
    assert _buy(client, tokens["release_manager"], vin, feature).status_code == 201
    assert client.get("/api/fod/revenue").json()["basis"] == "mixed"
