"""Issue 15 item 2: the configurator session store's bounds (number, memory, idle time) and LRU eviction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from evplatform.clock import FixedClock
from evplatform.errors import NotFoundError
from evplatform.service.configurator import (
    MAX_SESSION_BYTES,
    MAX_SESSIONS,
    ConfiguratorSession,
    SessionsFull,
    SessionStore,
    Start,
    session_bytes,
    start_from,
)
from evplatform.service.context import AppContext
from evplatform.variability.cnf import CNF, encode
from evplatform.variability.model import FeatureModel
from evplatform.workspace import Workspace, load_workspace


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return load_workspace(None)


@pytest.fixture(scope="module")
def cnf(ws: Workspace) -> CNF:
    return encode(ws.feature_model)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def stores(clock: FixedClock) -> Iterator[list[SessionStore]]:
    made: list[SessionStore] = []
    yield made
    for store in made:
        store.close()


def new_store(stores: list[SessionStore], clock: FixedClock, max_sessions: int = MAX_SESSIONS,
              max_bytes: int = MAX_SESSION_BYTES) -> SessionStore:
    store = SessionStore(clock, max_sessions, max_bytes)
    stores.append(store)
    return store


def open_one(store: SessionStore, model: FeatureModel, cnf: CNF, owner: str = "ada") -> ConfiguratorSession:
    return store.open(owner, model, cnf, "features.uvl", Start())


def test_the_number_of_sessions_is_bounded_least_recently_used_first(
        stores: list[SessionStore], clock: FixedClock, ws: Workspace, cnf: CNF) -> None:
    store = new_store(stores, clock, max_sessions=2)
    first, second = open_one(store, ws.feature_model, cnf), open_one(store, ws.feature_model, cnf)
    clock.advance(timedelta(seconds=1))
    store.get("ada", first.id)  # first is now the most recently used
    third = open_one(store, ws.feature_model, cnf)
    assert len(store) == 2
    assert store.get("ada", first.id) is first and store.get("ada", third.id) is third
    with pytest.raises(NotFoundError):
        store.get("ada", second.id)
    assert second.closed  # its solver is released, and a request still holding it gets the 404
    with pytest.raises(NotFoundError):
        second.state()


def test_one_account_cannot_push_out_another_accounts_sessions(
        stores: list[SessionStore], clock: FixedClock, ws: Workspace, cnf: CNF) -> None:
    store = SessionStore(clock, max_sessions=4, max_per_owner=2)
    stores.append(store)
    theirs = open_one(store, ws.feature_model, cnf, owner="bob")
    mine = [open_one(store, ws.feature_model, cnf, owner="ada") for _ in range(5)]
    assert store.get("bob", theirs.id) is theirs
    assert [s.closed for s in mine] == [True, True, True, False, False] and len(store) == 3


def test_the_memory_of_sessions_is_bounded(
        stores: list[SessionStore], clock: FixedClock, ws: Workspace, cnf: CNF) -> None:
    one = session_bytes(cnf)
    assert one > sum(len(c) for c in cnf.clauses)
    store = new_store(stores, clock, max_bytes=2 * one + one // 2)
    sessions = [open_one(store, ws.feature_model, cnf) for _ in range(4)]
    assert len(store) == 2 and store.bytes() <= 2 * one + one // 2
    assert [s.closed for s in sessions] == [True, True, False, False]
    with pytest.raises(SessionsFull):
        open_one(new_store(stores, clock, max_bytes=one - 1), ws.feature_model, cnf)


def test_idle_sessions_expire_on_the_clock_given(
        stores: list[SessionStore], clock: FixedClock, ws: Workspace, cnf: CNF) -> None:
    store = new_store(stores, clock)
    session = open_one(store, ws.feature_model, cnf)
    clock.advance(store.idle - timedelta(microseconds=1))
    assert store.get("ada", session.id) is session
    clock.advance(store.idle)
    with pytest.raises(NotFoundError):
        store.get("ada", session.id)
    assert len(store) == 0 and session.closed


def test_a_session_is_its_owners(stores: list[SessionStore], clock: FixedClock, ws: Workspace, cnf: CNF) -> None:
    store = new_store(stores, clock)
    session = open_one(store, ws.feature_model, cnf, owner="ada")
    with pytest.raises(NotFoundError):
        store.get("bob", session.id)
    with pytest.raises(NotFoundError):
        store.delete("bob", session.id)
    store.delete("ada", session.id)
    assert len(store) == 0 and session.closed


def test_a_trim_starts_with_its_own_and_its_markets_decisions(ws: Workspace) -> None:
    for (key, market) in ws.configurations:
        trim = ws.trim(key)
        start = start_from(ws, key, market)
        assert set(start.selected) == set(trim.selected) | set(ws.markets[market].select)
        assert set(start.deselected) == set(trim.deselected)
        # the decisions complete to exactly the trim's configuration when nothing is left open
        assert set(start.selected) <= ws.configuration(trim, market)


def test_the_servers_context_closes_its_sessions_when_it_stops(
        tmp_path: Path, clock: FixedClock, ws: Workspace, cnf: CNF) -> None:
    context = AppContext(None, f"sqlite:///{tmp_path / 'x.db'}", clock)
    store = context.fm_sessions()
    assert context.fm_sessions() is store and store.clock is clock  # one store, on the server's clock
    session = open_one(store, ws.feature_model, cnf)
    context.close()
    assert session.closed and len(store) == 0
