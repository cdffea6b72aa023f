"""Director metadata for a whole campaign at once: every vehicle assigned, signed and written on all cores.

A campaign over a million vehicles needs a million signed targets + snapshot + timestamp triples.
One vehicle at a time through ``OtaService.assign`` each costs six fsyncs and runs on one core
behind the service's lock (measured in ``benchmarks/director_fleet.py``). Here the VINs are cut into
chunks; worker processes (one per core) each open the Director with the server's online keys,
assign and publish without fsync, and the caller's process syncs the file system once at the end,
as the demo fleet's registration does. Vehicle folders are disjoint, so no two workers write the
same file, and the ECU index is not touched (assigning does not claim serials).

A crash before the final sync may lose part of the batch; running it again is safe (an assignment
is idempotent and a publish signs the next versions). A vehicle whose assignment is refused
(unknown VIN, wrong hardware, rollback) is reported in ``failed`` and the others go on.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evplatform.errors import OtaError

logger = logging.getLogger(__name__)

#: (VIN, ECU serial, Image repository target path) of one assignment.
Item = tuple[str, str, str]
#: Vehicles a worker takes at a time (big enough that handing chunks over costs nothing).
CHUNK = 2_000
#: Refused vehicles listed by VIN in the result (the count is always exact).
FAILED_SHOWN = 100

_service = None  # the worker process's OtaService (opened once per process)


@dataclass(frozen=True, slots=True)
class BulkResult:
    """What a bulk publish did: vehicles signed, the wall time, the processes used and the refusals."""

    published: int
    seconds: float
    processes: int
    failed_count: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    cpu_seconds: float = 0.0  # of the workers (what the batch costs whatever else runs on the machine)

    @property
    def per_second(self) -> float:
        return self.published / self.seconds if self.seconds else 0.0


def _open(root: str, keys_dir: str | None) -> None:
    from evplatform.ota.metadata_common import system_clock
    from evplatform.ota.service import OtaService

    global _service
    _service = OtaService(Path(root), system_clock, keys_dir=Path(keys_dir) if keys_dir else None)


def _publish_chunk(items: Sequence[Item]) -> tuple[int, dict[str, str], float]:
    """Assign and publish each vehicle of the chunk without fsync; forget each record once written."""
    if _service is None:
        raise OtaError("bulk publish: worker process not initialised")
    director = _service.director
    cpu = time.process_time()
    done, failed = 0, dict[str, str]()
    for vin, serial, path in items:
        try:
            director.assign(vin, serial, path, durable=False)
            done += 1
        except OtaError as error:
            failed[vin] = str(error)
        director.forget(vin)  # a worker holds one chunk's records, not the fleet's
    return done, failed, time.process_time() - cpu


def publish_campaign(root: Path, items: Sequence[Item], *, processes: int | None = None,
                     keys_dir: Path | None = None, chunk: int = CHUNK) -> BulkResult:
    """Assign ``items`` and publish each vehicle's Director metadata over ``processes`` (default: the cores).

    One item per vehicle (a VIN listed twice would be written by two workers at once): OtaError
    otherwise, before anything is written.
    """
    vins = [vin for vin, _, _ in items]
    if len(set(vins)) != len(vins):
        raise OtaError("bulk publish: a VIN is listed twice (one assignment per vehicle)")
    workers = max(1, processes or os.cpu_count() or 1)
    step = max(1, min(chunk, -(-len(items) // (4 * workers))))  # every worker busy until near the end
    chunks = [items[start:start + step] for start in range(0, len(items), step)]
    started = time.perf_counter()
    published, failed_count, cpu = 0, 0, 0.0
    failed: dict[str, str] = {}
    context = multiprocessing.get_context("spawn")  # no fork of a threaded server process
    with context.Pool(workers, initializer=_open, initargs=(str(root), str(keys_dir) if keys_dir else None)) as pool:
        for done, refused, seconds in pool.imap_unordered(_publish_chunk, chunks):
            published += done
            cpu += seconds
            failed_count += len(refused)
            failed.update(list(refused.items())[:max(0, FAILED_SHOWN - len(failed))])
    os.sync()  # one sync for the whole batch instead of six fsyncs a vehicle
    seconds = time.perf_counter() - started
    logger.info("published Director metadata for %d vehicles in %.1f s on %d processes (%d refused)",
                published, seconds, workers, failed_count)
    return BulkResult(published, seconds, workers, failed_count, failed, cpu)
