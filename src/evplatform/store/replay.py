"""The replay guard's memory: signed vehicle requests already accepted, kept in the database.

A signature is accepted once while its timestamp can still pass the window check. Kept in memory
only, a captured request replayed after a restart was accepted again (a crash event was stored
twice); so every first use is one ``INSERT … ON CONFLICT`` on the signature's digest, and the
database's unique key decides: a row written means first use, a conflict with a live row means a
replay. Any number of server processes sharing the database share the guard.

Cost per request stays flat however many entries are live: the insert is one primary-key probe,
and expired rows are deleted oldest first through the ``expires_at`` index, at most ``PURGE_BATCH``
at a time every ``PURGE_EVERY`` inserts. Each row is deleted once, so the purge is O(1) amortised
per request; the batch is larger than the interval, so purging keeps up with any request rate.
"""

from __future__ import annotations

import hashlib
import logging
import threading

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from evplatform.errors import StoreError
from evplatform.store.database import Store
from evplatform.store.schema import SeenSignature

logger = logging.getLogger(__name__)

#: Inserts between two purges of expired rows, and the most rows one purge deletes.
PURGE_EVERY = 256
PURGE_BATCH = 4096


def signature_digest(signature: bytes) -> str:
    """What is stored of a signature: its SHA-256 (fixed length whatever the key type)."""
    return hashlib.sha256(signature).hexdigest()


def remember(store: Store, signature: bytes, *, now: int, expires_at: int) -> bool:
    """Record the signature as used until ``expires_at``; False if it is already used and not expired.

    One statement: insert, or take over an expired row of the same digest (a row the purge has
    not reached yet must not refuse a request forever).
    """
    dialect = store.dialect
    insert: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        insert = postgresql.insert(SeenSignature)
    elif dialect == "sqlite":
        insert = sqlite.insert(SeenSignature)
    else:
        raise StoreError(f"unsupported database dialect {dialect!r} (SQLite and PostgreSQL are supported)")
    statement = insert.values(digest=signature_digest(signature), expires_at=expires_at).on_conflict_do_update(
        index_elements=[SeenSignature.digest],
        set_={"expires_at": insert.excluded.expires_at},
        where=SeenSignature.expires_at <= now,
    ).returning(SeenSignature.digest)  # a row back: written; none: a live row refused it (rowcount is
    # not reliable for an upsert on every driver)
    with store.session() as session:
        if dialect == "postgresql":
            # No flush to disk before answering (the write still happens within ~wal_writer_delay):
            # a server crash may forget the last fraction of a second of signatures, against a
            # disk flush on every vehicle request (~20 ms here).
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        return session.execute(statement).first() is not None


def purge_expired(store: Store, *, now: int, batch: int = PURGE_BATCH) -> int:
    """Delete up to ``batch`` expired rows, oldest first (an index range scan); how many went."""
    oldest = select(SeenSignature.digest).where(SeenSignature.expires_at <= now).order_by(
        SeenSignature.expires_at).limit(batch)
    with store.session() as session:
        result = session.execute(
            delete(SeenSignature).where(SeenSignature.digest.in_(oldest)).execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def live_entries(store: Store, *, now: int) -> int:
    """Signatures still remembered at ``now`` (for tests, benchmarks and the operator's curiosity)."""
    with store.session() as session:
        return int(session.scalar(select(func.count()).where(SeenSignature.expires_at > now)) or 0)


class SignatureLedger:
    """The guard of one server process over a store: ``first_use`` per request, purging as it goes.

    Holds no signature itself (the database does), only the count of inserts since the last purge.
    """

    def __init__(self, store: Store, *, purge_every: int = PURGE_EVERY, purge_batch: int = PURGE_BATCH) -> None:
        if purge_batch <= purge_every:
            raise ValueError(f"purge_batch ({purge_batch}) must exceed purge_every ({purge_every}) to keep up")
        self.store = store
        self._purge_every = purge_every
        self._purge_batch = purge_batch
        self._since_purge = 0
        self._lock = threading.Lock()

    def first_use(self, signature: bytes, *, now: int, expires_at: int) -> bool:
        """True the first time a signature is seen before its expiry, False for a replay."""
        with self._lock:
            self._since_purge += 1
            due = self._since_purge >= self._purge_every
            if due:
                self._since_purge = 0
        if due:
            purged = purge_expired(self.store, now=now, batch=self._purge_batch)
            logger.debug("replay guard purged %d expired signatures", purged)
        return remember(self.store, signature, now=now, expires_at=expires_at)
