"""When a table of expiring rows (the replay guard's signatures, the rate counters) purges itself.

Each table is written once per request and purged in batches every ``every`` writes; the batch must
be larger than the interval, or purging would fall behind a steady request rate and the table grow.
"""

from __future__ import annotations

import threading


class PurgeCadence:
    """Counts one process's writes and says which of them must also purge a batch of expired rows."""

    def __init__(self, every: int, batch: int) -> None:
        if batch <= every:
            raise ValueError(f"purge_batch ({batch}) must exceed purge_every ({every}) to keep up")
        self.every = every
        self.batch = batch
        self._since = 0
        self._lock = threading.Lock()

    def due(self) -> bool:
        """Count one write; True for the one write in every ``every`` that purges."""
        with self._lock:
            self._since += 1
            if self._since < self.every:
                return False
            self._since = 0
            return True
