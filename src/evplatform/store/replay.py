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

from sqlalchemy import delete, func, select, text

from evplatform.errors import StoreError
from evplatform.store._sql import translate_errors
from evplatform.store.database import Store
from evplatform.store.purge_cadence import PurgeCadence
from evplatform.store.schema import SeenSignature

logger = logging.getLogger(__name__)

#: Inserts between two purges of expired rows, and the most rows one purge deletes.
PURGE_EVERY = 256
PURGE_BATCH = 4096


def signature_digest(signature: bytes) -> str:
    """What is stored of a signature: its SHA-256 (fixed length whatever the key type)."""
    return hashlib.sha256(signature).hexdigest()


#: The same text on SQLite (3.35+) and PostgreSQL; plain SQL so nothing is compiled per request
#: (building the dialect's upsert construct compiled anew on every call: ~2.5 ms of a request).
_REMEMBER = text(
    "INSERT INTO seen_signatures (digest, expires_at) VALUES (:digest, :expires_at) "
    "ON CONFLICT (digest) DO UPDATE SET expires_at = excluded.expires_at "
    "WHERE seen_signatures.expires_at <= :now RETURNING digest"
)


def remember(store: Store, signature: bytes, *, now: int, expires_at: int) -> bool:
    """Record the signature as used until ``expires_at``; False if it is already used and not expired.

    One statement: insert, or take over an expired row of the same digest (a row the purge has
    not reached yet must not refuse a request forever). A row back means written; none, that a live
    row refused it (``rowcount`` of an upsert is not reliable on every driver).
    """
    if store.dialect not in ("sqlite", "postgresql"):
        raise StoreError(f"unsupported database dialect {store.dialect!r} (SQLite and PostgreSQL are supported)")
    parameters = {"digest": signature_digest(signature), "expires_at": expires_at, "now": now}
    with translate_errors(store.url), store.engine.begin() as connection:
        if store.dialect == "postgresql":
            # No flush to disk before answering (the write still happens within ~wal_writer_delay):
            # a server crash may forget the last fraction of a second of signatures, against a
            # disk flush on every vehicle request.
            connection.execute(text("SET LOCAL synchronous_commit TO OFF"))
        return connection.execute(_REMEMBER, parameters).first() is not None


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
        self.store = store
        self._cadence = PurgeCadence(purge_every, purge_batch)

    def first_use(self, signature: bytes, *, now: int, expires_at: int) -> bool:
        """True the first time a signature is seen before its expiry, False for a replay."""
        if self._cadence.due():
            purged = purge_expired(self.store, now=now, batch=self._cadence.batch)
            logger.debug("replay guard purged %d expired signatures", purged)
        return remember(self.store, signature, now=now, expires_at=expires_at)
