"""Data retention: delete telemetry older than a number of days, by the server clock, in small batches.

Telemetry is the one table that grows with time rather than with the fleet (a million vehicles
sending a reading an hour is 8.8 billion rows a year), and old readings are only history. The
delete runs in batches of ``batch_size`` rows, one transaction each: a long delete would hold
locks (SQLite: the only write lock) for minutes and block telemetry ingestion, and a failure
halfway keeps what was already deleted — running it again finishes the work.

Batches go kind by kind through the (kind, at) index, so each batch reads only rows it deletes.
The cut-off is computed once, from the store's clock, before the first batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from evplatform.errors import InvalidValueError
from evplatform.store.accounts import record_audit
from evplatform.store.database import Store
from evplatform.store.schema import TelemetryEvent

logger = logging.getLogger(__name__)

MAX_KEEP_DAYS = 36_500
DEFAULT_BATCH = 5_000
MAX_BATCH = 100_000


@dataclass(frozen=True, slots=True)
class RetentionResult:
    """What a retention run found (dry run) or deleted: rows per telemetry kind, older than ``cutoff``."""

    cutoff: datetime
    keep_days: int
    dry_run: bool
    per_kind: dict[str, int]
    batches: int

    @property
    def total(self) -> int:
        return sum(self.per_kind.values())


def purge_telemetry(store: Store, keep_days: int, *, dry_run: bool = False, batch_size: int = DEFAULT_BATCH,
                    actor: str = "system") -> RetentionResult:
    """Delete (or, with ``dry_run``, count) telemetry recorded before now − ``keep_days`` days.

    A real run leaves one audit entry (``retention.telemetry``) with the counts.
    """
    if not 1 <= keep_days <= MAX_KEEP_DAYS:
        raise InvalidValueError(f"keep days {keep_days}: must be 1 to {MAX_KEEP_DAYS:,}")
    if not 1 <= batch_size <= MAX_BATCH:
        raise InvalidValueError(f"batch size {batch_size}: must be 1 to {MAX_BATCH:,}")
    cutoff = store.now() - timedelta(days=keep_days)
    with store.session() as session:
        kinds = list(session.scalars(select(TelemetryEvent.kind).distinct().order_by(TelemetryEvent.kind)))
        if dry_run:
            counts = {kind: int(session.scalar(select(func.count()).select_from(TelemetryEvent)
                                               .where(TelemetryEvent.kind == kind, TelemetryEvent.at < cutoff)) or 0)
                      for kind in kinds}
            return RetentionResult(cutoff, keep_days, True, {k: n for k, n in counts.items() if n}, 0)
    per_kind: dict[str, int] = {}
    batches = 0
    for kind in kinds:
        while deleted := _delete_batch(store, kind, cutoff, batch_size):
            per_kind[kind] = per_kind.get(kind, 0) + deleted
            batches += 1
            logger.debug("retention: %d %s readings deleted (batch %d)", deleted, kind, batches)
    result = RetentionResult(cutoff, keep_days, False, per_kind, batches)
    record_audit(store, actor, "retention.telemetry", "telemetry_events",
                 {"keep_days": keep_days, "cutoff": cutoff.isoformat(), "deleted": result.total, "per_kind": per_kind})
    return result


def _delete_batch(store: Store, kind: str, cutoff: datetime, batch_size: int) -> int:
    """One transaction: delete up to ``batch_size`` old readings of one kind (chosen in the database)."""
    with store.session() as session:
        chosen = (select(TelemetryEvent.id).where(TelemetryEvent.kind == kind, TelemetryEvent.at < cutoff)
                  .limit(batch_size).scalar_subquery())
        done = session.execute(delete(TelemetryEvent).where(TelemetryEvent.id.in_(chosen)),
                               execution_options={"synchronize_session": False})
        return int(getattr(done, "rowcount", 0) or 0)
