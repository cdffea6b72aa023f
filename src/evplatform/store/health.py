"""What the server's probes and metrics ask of the database: is it answering, how busy is its pool,
how many campaigns are in each state. Each is one cheap statement (or none), so a scraper or an
orchestrator polling every few seconds costs the database next to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.pool import QueuePool

from evplatform.store._sql import translate_errors
from evplatform.store.database import Store
from evplatform.store.schema import Campaign

__all__ = ["CAMPAIGN_STATES", "PoolFigures", "campaign_state_counts", "ping", "pool_figures"]

#: Every state a campaign row can hold (``schema.Campaign.state``): each gets a figure, zero included,
#: so a dashboard's series do not appear and vanish as campaigns move.
CAMPAIGN_STATES = ("draft", "running", "paused", "halted", "cancelled", "completed")


@dataclass(frozen=True)
class PoolFigures:
    """The connection pool of the store's engine: connections lent out now, the pool's size, and the
    connections opened beyond it (overflow; negative while the pool has not filled yet)."""

    checked_out: int
    size: int
    overflow: int


def ping(store: Store) -> None:
    """``SELECT 1`` on a pooled connection; StoreError when the database does not answer."""
    with translate_errors(store.url), store.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def pool_figures(store: Store) -> PoolFigures | None:
    """The pool's figures, or None for a pool that keeps none (SQLite in memory, NullPool)."""
    pool = store.engine.pool
    if not isinstance(pool, QueuePool):
        return None
    return PoolFigures(checked_out=pool.checkedout(), size=pool.size(), overflow=pool.overflow())


def campaign_state_counts(store: Store) -> dict[str, int]:
    """Campaigns per state (one GROUP BY), every known state present; a state written by a newer
    version is counted under its own name rather than dropped."""
    counts = dict.fromkeys(CAMPAIGN_STATES, 0)
    with store.session() as session:
        for state, count in session.execute(select(Campaign.state, func.count()).group_by(Campaign.state)):
            counts[str(state)] = int(count)
    return counts
