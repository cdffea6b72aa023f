"""Rate-limit counters in the database: requests per caller and window, shared by every server process.

A fixed window per caller: one row per key (``vehicle:<vin>``, ``token:<digest>``) holds the start
of the window it counts and the hits in it. ``hit`` is one ``INSERT … ON CONFLICT … RETURNING``
(SQLite 3.35+ and PostgreSQL): the database increments the row atomically, so two processes
counting the same vehicle at once never lose a hit and together see the limit where one would.

The table is bounded: a row expires one window after its window started, and expired rows are
deleted oldest first through the ``expires_at`` index, at most ``PURGE_BATCH`` every
``PURGE_EVERY`` hits (the same amortised purge as ``store.replay``). Callers are counted only
once authenticated, so the keys are the fleet's vehicles and live tokens, never what a client
chooses to send.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import delete, func, select, text

from evplatform.errors import StoreError
from evplatform.store._sql import translate_errors
from evplatform.store.database import Store
from evplatform.store.purge_cadence import PurgeCadence
from evplatform.store.schema import RateCounter

logger = logging.getLogger(__name__)

PURGE_EVERY = 256
PURGE_BATCH = 4096
#: Longest key stored as given; a longer one is stored as its SHA-256 (the column is 128 characters).
KEY_MAX = 120

#: Within the row's window (or an older clock's: a process whose clock lags must not reset the
#: count of one ahead of it) add one hit; in a newer window start again at 1.
_HIT = text(
    "INSERT INTO rate_counters (key, window_start, hits, expires_at) "
    "VALUES (:key, :window_start, 1, :expires_at) "
    "ON CONFLICT (key) DO UPDATE SET "
    "hits = CASE WHEN rate_counters.window_start >= excluded.window_start "
    "THEN rate_counters.hits + 1 ELSE 1 END, "
    "expires_at = CASE WHEN rate_counters.window_start >= excluded.window_start "
    "THEN rate_counters.expires_at ELSE excluded.expires_at END, "
    "window_start = CASE WHEN rate_counters.window_start >= excluded.window_start "
    "THEN rate_counters.window_start ELSE excluded.window_start END "
    "RETURNING hits, window_start"
)


@dataclass(frozen=True, slots=True)
class Count:
    """Hits of a key in its current window, and when that window started (unix seconds)."""

    hits: int
    window_start: int


def stored_key(key: str) -> str:
    """The key as stored: itself when short, else a digest (same key, same row)."""
    return key if len(key) <= KEY_MAX else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def hit(store: Store, key: str, *, now: int, window_s: int) -> Count:
    """Count one request of ``key`` at ``now`` in fixed windows of ``window_s`` seconds."""
    if store.dialect not in ("sqlite", "postgresql"):
        raise StoreError(f"unsupported database dialect {store.dialect!r} (SQLite and PostgreSQL are supported)")
    if window_s < 1:
        raise ValueError(f"a rate-limit window lasts at least 1 s, not {window_s}")
    start = now - now % window_s
    parameters = {"key": stored_key(key), "window_start": start, "expires_at": start + window_s}
    with translate_errors(store.url), store.engine.begin() as connection:
        if store.dialect == "postgresql":
            # As the replay guard: a crash may forget a fraction of a second of counts, which costs
            # a caller a few extra requests, against a disk flush on every request.
            connection.execute(text("SET LOCAL synchronous_commit TO OFF"))
        row = connection.execute(_HIT, parameters).one()
    return Count(int(row[0]), int(row[1]))


def purge_expired(store: Store, *, now: int, batch: int = PURGE_BATCH) -> int:
    """Delete up to ``batch`` expired counters, oldest first; how many went."""
    oldest = select(RateCounter.key).where(RateCounter.expires_at <= now).order_by(RateCounter.expires_at).limit(batch)
    with store.session() as session:
        result = session.execute(
            delete(RateCounter).where(RateCounter.key.in_(oldest)).execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def rows(store: Store) -> int:
    """Counters stored, expired or not (tests check the table stays bounded)."""
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(RateCounter)) or 0)


class CounterTable:
    """The counters of one server process over a store: ``hit`` per request, purging as it goes."""

    def __init__(self, store: Store, *, purge_every: int = PURGE_EVERY, purge_batch: int = PURGE_BATCH) -> None:
        self.store = store
        self._cadence = PurgeCadence(purge_every, purge_batch)

    def hit(self, key: str, *, now: int, window_s: int) -> Count:
        if self._cadence.due():
            logger.debug("rate counters purged: %d", purge_expired(self.store, now=now, batch=self._cadence.batch))
        return hit(self.store, key, now=now, window_s=window_s)
