"""Issue 18 §2: rate-limit counters in the database (SQLite and PostgreSQL), shared by every process on it."""

from __future__ import annotations

import threading

from evplatform.store import Store, open_store
from evplatform.store.rate_limits import KEY_MAX, CounterTable, hit, purge_expired, rows, stored_key

WINDOW = 60
T0 = 1_800_000_000 - 1_800_000_000 % WINDOW  # the start of a window


def test_hits_count_within_a_window_and_start_again_in_the_next(store: Store) -> None:
    counts = [hit(store, "vehicle:V1", now=T0 + s, window_s=WINDOW) for s in (0, 10, 59)]
    assert [(c.hits, c.window_start) for c in counts] == [(1, T0), (2, T0), (3, T0)]
    assert hit(store, "vehicle:V2", now=T0 + 1, window_s=WINDOW).hits == 1  # each key its own count
    later = hit(store, "vehicle:V1", now=T0 + WINDOW, window_s=WINDOW)
    assert (later.hits, later.window_start) == (1, T0 + WINDOW)


def test_a_lagging_clock_does_not_reset_a_newer_window(store: Store) -> None:
    """Two processes whose clocks straddle a window edge: the one behind adds to the newer count."""
    assert hit(store, "token:t", now=T0 + WINDOW + 1, window_s=WINDOW).hits == 1
    behind = hit(store, "token:t", now=T0 + WINDOW - 1, window_s=WINDOW)
    assert (behind.hits, behind.window_start) == (2, T0 + WINDOW)


def test_two_stores_on_one_database_share_the_count(db_url: str) -> None:
    """Each server process opens its own store (engine, pool): the count is the database's, not theirs."""
    first, second = open_store(db_url), open_store(db_url)
    try:
        hits = [hit(s, "vehicle:SHARED", now=T0 + 5, window_s=WINDOW).hits for s in (first, second, first, second)]
    finally:
        first.dispose()
        second.dispose()
    assert hits == [1, 2, 3, 4]


def test_concurrent_hits_lose_nothing(db_url: str) -> None:
    """Threads of two stores incrementing one key at once: the upsert is atomic, the total exact."""
    stores = [open_store(db_url), open_store(db_url)]
    seen: list[int] = []
    lock = threading.Lock()

    def worker(store: Store) -> None:
        for _ in range(25):
            count = hit(store, "vehicle:HOT", now=T0 + 1, window_s=WINDOW).hits
            with lock:
                seen.append(count)

    threads = [threading.Thread(target=worker, args=(stores[i % 2],)) for i in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for store in stores:
            store.dispose()
    assert sorted(seen) == list(range(1, 101))  # every hit saw a distinct count: none lost, none doubled


def test_the_table_stays_bounded_by_the_callers_of_the_last_window(store: Store) -> None:
    table = CounterTable(store, purge_every=8, purge_batch=16)
    for i in range(40):  # 40 callers once each, in the first window
        table.hit(f"vehicle:{i}", now=T0 + 1, window_s=WINDOW)
    assert rows(store) == 40
    for i in range(24):  # a window later, 3 callers: the purge runs every 8 hits and clears the stale rows
        table.hit(f"vehicle:new{i % 3}", now=T0 + WINDOW + 1, window_s=WINDOW)
    assert rows(store) == 3
    assert purge_expired(store, now=T0 + 3 * WINDOW) == 3 and rows(store) == 0


def test_a_long_key_is_stored_as_its_digest(store: Store) -> None:
    long = "token:" + "x" * 500
    assert len(stored_key(long)) <= KEY_MAX and stored_key(long) != stored_key(long + "y")
    assert [hit(store, long, now=T0, window_s=WINDOW).hits for _ in range(2)] == [1, 2]
