"""Webhooks within consent: signed with HMAC-SHA256, retried with back-off, dead-lettered — against a
real local HTTP receiver (a ``ThreadingHTTPServer`` on 127.0.0.1) that fails on demand."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from evplatform.clock import FixedClock
from evplatform.dataact import webhooks
from evplatform.fleet import build_demo_database
from evplatform.store import Store, open_store
from evplatform.store import dataact as db
from evplatform.store import vehicles as vdb

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
CATEGORY = "driving_behaviour"


class Receiver:
    """What the receiver got (headers, body) and the status it answers next."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(({k: v for k, v in self.headers.items()}, body))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def small_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("webhooks") / "fleet.db"
    build_demo_database(f"sqlite:///{path}", vehicles=20)
    return path


@pytest.fixture
def setup(small_fleet: Path, tmp_path: Path) -> Iterator[tuple[Store, FixedClock, str, int]]:
    shutil.copy(small_fleet, tmp_path / "w.db")
    url = f"sqlite:///{tmp_path / 'w.db'}"
    clock = FixedClock(NOW)
    store = open_store(url, clock=clock)
    vin = vdb.list_vehicles(store, limit=1)[0].vin
    owner = db.create_owner(store, "owner")
    db.assign_vehicle(store, "owner", vin)
    db.register_recipient(store, "insurer", "Insurer")
    grant = db.create_grant(store, owner.id, "insurer", vin, [CATEGORY], NOW, NOW + timedelta(days=30))
    yield store, clock, vin, grant.id
    store.dispose()


def test_delivery_is_signed_and_logged(setup: tuple[Store, FixedClock, str, int],
                                       receiver: tuple[Receiver, str]) -> None:
    store, _clock, vin, _grant = setup
    state, url = receiver
    _sub, secret = webhooks.subscribe(store, "insurer", url)
    assert webhooks.notify(store, vin, CATEGORY, {"kind": "trip_end", "km": 12.5}) == 1
    assert webhooks.notify(store, vin, "location", {"lat": 1.0}) == 0  # outside consent: never queued
    assert webhooks.deliver_due(store)["delivered"] == 1
    (headers, body), = state.received
    stamp = headers[webhooks.TIMESTAMP_HEADER]
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers[webhooks.SIGNATURE_HEADER] == f"sha256={expected}"
    assert json.loads(body)["event"] == {"kind": "trip_end", "km": 12.5}
    assert db.access_log(store, [vin])[0].action == "webhook"


def test_failures_back_off_then_dead_letter(setup: tuple[Store, FixedClock, str, int],
                                            receiver: tuple[Receiver, str]) -> None:
    store, clock, vin, _grant = setup
    state, url = receiver
    state.status = 500
    webhooks.subscribe(store, "insurer", url)
    webhooks.notify(store, vin, CATEGORY, {"kind": "trip_end"})
    delays = []
    for attempt in range(webhooks.MAX_ATTEMPTS):
        assert webhooks.deliver_due(store)["retried" if attempt < webhooks.MAX_ATTEMPTS - 1 else "dead"] == 1
        assert webhooks.deliver_due(store) == {"delivered": 0, "retried": 0, "dead": 0, "dropped": 0}  # not due yet
        pending = db.deliveries(store, state="pending")
        if pending:
            delays.append(pending[0].next_attempt_at - clock.now)
            clock.now = pending[0].next_attempt_at
    assert delays == [webhooks.BACKOFF * 2**i for i in range(webhooks.MAX_ATTEMPTS - 1)]  # doubling back-off
    assert len(state.received) == webhooks.MAX_ATTEMPTS
    (dead,) = webhooks.dead_letters(store)
    assert dead.attempts == webhooks.MAX_ATTEMPTS and dead.last_error == "HTTP 500"


def test_revocation_drops_pending_deliveries(setup: tuple[Store, FixedClock, str, int],
                                             receiver: tuple[Receiver, str]) -> None:
    store, _clock, vin, grant_id = setup
    state, url = receiver
    webhooks.subscribe(store, "insurer", url)
    webhooks.notify(store, vin, CATEGORY, {"kind": "trip_end"})
    owner_id = db.owner_of(store, vin)
    assert owner_id is not None
    db.revoke_grant(store, owner_id, grant_id)
    assert webhooks.deliver_due(store)["dropped"] == 1
    assert state.received == []
