"""The fleet server's side of issue 14: the replay guard (item 13), reports that must not count
(item 14) and operations that leave nothing half done (item 18)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from evplatform.api import create_app
from evplatform.api.auth import public_key_text, sign_request
from evplatform.fleet.registry import register_vehicles
from evplatform.store import Store, open_store
from evplatform.store import replay as rpdb
from evplatform.store import vehicles as vdb
from evplatform.workspace import load_workspace
from fleet_support import T0, small_fleet_specs
from store_fixtures import db_url, postgres_url, store  # noqa: F401


@pytest.fixture
def keyed_fleet(tmp_path: Path) -> Iterator[tuple[str, str, SigningKey]]:
    """A SQLite fleet of a few vehicles; the first has a provisioned key. (url, vin, key)."""
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    with open_store(url) as opened:
        register_vehicles(opened, load_workspace(None), small_fleet_specs(load_workspace(None), 1), at=T0)
        vin = vdb.list_vehicles(opened, limit=1)[0].vin
        key = SigningKey.generate()
        vdb.set_public_key(opened, vin, public_key_text(key))
    yield url, vin, key


# --- item 13: the replay guard survives a restart and expires its entries ----------------------


def test_a_request_replayed_after_a_restart_is_refused(keyed_fleet: tuple[str, str, SigningKey]) -> None:
    """Issue 14 item 13: the guard was in memory only, so a captured request replayed at a restarted
    server was accepted again (a crash event was stored twice)."""
    url, vin, key = keyed_fleet
    at = datetime.now(UTC).isoformat()
    body = json.dumps({"events": [{"vin": vin, "kind": "crash", "at": at, "release_id": "hub-os-1.7.0"}]}).encode()
    headers = {**sign_request(key, vin, "POST", "/api/telemetry", body), "Content-Type": "application/json"}
    with TestClient(create_app(None, url)) as first:
        assert first.post("/api/telemetry", content=body, headers=headers).status_code == 201
        assert first.post("/api/telemetry", content=body, headers=headers).status_code == 401
    with TestClient(create_app(None, url)) as restarted:  # a new process over the same database
        replayed = restarted.post("/api/telemetry", content=body, headers=headers)
        assert replayed.status_code == 401 and "replay" in replayed.json()["error"]["message"]
        fresh = sign_request(key, vin, "POST", "/api/telemetry", body)  # a new nonce: a new request
        assert restarted.post("/api/telemetry", content=body,
                              headers={**fresh, "Content-Type": "application/json"}).status_code == 201
    with open_store(url) as opened:
        vehicle = vdb.vehicle_by_vin(opened, vin)
        assert vehicle is not None
        assert len(vdb.telemetry(opened, vehicle_id=vehicle.id, kind="crash")) == 2  # not 3


def test_replay_guard_entries_expire_and_are_purged(store: Store) -> None:  # noqa: F811
    """Issue 14 item 13: entries live until their expiry, are then taken over or purged in batches."""
    ledger = rpdb.SignatureLedger(store, purge_every=2, purge_batch=3)
    for n in range(5):
        assert ledger.first_use(bytes([n]) * 64, now=100, expires_at=200)
    assert not ledger.first_use(bytes([0]) * 64, now=199, expires_at=299)  # still live: a replay
    assert rpdb.live_entries(store, now=150) == 5
    assert ledger.first_use(bytes([1]) * 64, now=200, expires_at=300)  # expired: taken over, not refused
    assert rpdb.live_entries(store, now=250) == 1
    assert rpdb.purge_expired(store, now=250, batch=2) == 2  # oldest first, at most a batch
    assert rpdb.purge_expired(store, now=250, batch=10) == 2  # the rest (one was purged by the ledger)
    assert rpdb.purge_expired(store, now=250) == 0
    assert not ledger.first_use(bytes([1]) * 64, now=250, expires_at=350)  # the live one stays
