"""Replay guard: the cost of one signed vehicle request's replay check at 1,000 and 150,000 live entries.

Issue 14 item 13: the guard used to live in a dict that was rebuilt on every request once it held
more than 10,000 entries (14.6 ms a request at 132,000 entries; a 4-minute load fell from 272 to
~120 requests/s). The guard now lives in the database (``evplatform.store.replay``): one upsert on
the signature's digest per request and a batched purge of expired rows through an index. This
measures ``SignatureLedger.first_use`` with the table pre-filled to N live entries (plus as many
expired ones waiting for the purge), on SQLite (a file, WAL, as the server runs it) and PostgreSQL
when reachable. The anchor, measured in the same run, is the old in-memory algorithm at the same N:
the question is whether the cost per request stays flat as N grows (ratio ≈ 1), which the old one
did not.

    .venv/bin/python benchmarks/replay_guard.py                     # 1,000 and 150,000 live entries
    .venv/bin/python benchmarks/replay_guard.py --requests 500      # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "replay_guard.json"
PG_ADMIN = os.environ.get("EVPLATFORM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SIZES = (1_000, 150_000)
NOW = 1_900_000_000
EXPIRED = 5_000
LIFETIME = 601  # what the API gives an entry: twice the 300 s window, plus a second


class OldGuard:
    """The algorithm the server used before (for the anchor): a dict rebuilt above 10,000 entries."""

    def __init__(self) -> None:
        self._seen: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def fill(self, entries: dict[bytes, float]) -> None:
        self._seen.update(entries)

    def first_use(self, signature: bytes, now: float) -> bool:
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {s: t for s, t in self._seen.items() if t > now}
            if self._seen.get(signature, 0.0) > now:
                return False
            self._seen[signature] = now + 600
            return True


def fill(store: Any, live: int) -> None:
    """``live`` entries expiring after the measurement and ``EXPIRED`` already expired (the purge's work
    in a steady state: what expired since the last purge, the same at any number of live entries)."""
    from evplatform.store.schema import SeenSignature

    rows = [{"digest": uuid.uuid4().hex * 2, "expires_at": NOW + LIFETIME} for _ in range(live)]
    rows += [{"digest": uuid.uuid4().hex * 2, "expires_at": NOW - 1 - i % 300} for i in range(EXPIRED)]
    with store.session() as session:
        for start in range(0, len(rows), 20_000):
            session.execute(SeenSignature.__table__.insert(), rows[start : start + 20_000])


def measure_ledger(url: str, live: int, requests: int) -> dict[str, Any]:
    from evplatform.store import open_store
    from evplatform.store.replay import SignatureLedger, live_entries

    with open_store(url) as store:
        fill(store, live)
        ledger = SignatureLedger(store)
        times = []
        for _ in range(requests):
            signature = os.urandom(64)
            start = time.perf_counter()
            accepted = ledger.first_use(signature, now=NOW, expires_at=NOW + LIFETIME)
            times.append(time.perf_counter() - start)
            if not accepted:
                raise AssertionError("a fresh signature was refused")
        start = time.perf_counter()
        if ledger.first_use(signature, now=NOW, expires_at=NOW + LIFETIME):
            raise AssertionError("a replay was accepted")
        replay_ms = (time.perf_counter() - start) * 1000
        remaining = live_entries(store, now=NOW)
    return {"live_entries": live, "mean_ms": round(statistics.fmean(times) * 1000, 4),
            "p50_ms": round(statistics.median(times) * 1000, 4),
            "p99_ms": round(sorted(times)[int(0.99 * len(times))] * 1000, 4),
            "replay_ms": round(replay_ms, 4), "live_after": remaining}


def measure_old(live: int, requests: int) -> dict[str, Any]:
    guard = OldGuard()
    guard.fill({os.urandom(64): NOW + 600.0 for _ in range(live)})  # through first_use it is quadratic
    times = []
    for _ in range(requests):
        signature = os.urandom(64)
        start = time.perf_counter()
        guard.first_use(signature, NOW)
        times.append(time.perf_counter() - start)
    return {"live_entries": live, "mean_ms": round(statistics.fmean(times) * 1000, 4),
            "p50_ms": round(statistics.median(times) * 1000, 4)}


def postgres_database() -> tuple[str, Any] | None:
    """A fresh PostgreSQL database for one measurement, or None when no server answers."""
    try:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = f"evplatform_bench_{uuid.uuid4().hex[:10]}"
        engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # any driver or network failure: no PostgreSQL here
        print(f"PostgreSQL skipped: {str(error).splitlines()[0]}")
        return None

    def drop() -> None:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests measured per size (default 3000)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    for live in SIZES:
        runs.append({"guard": "old in-memory (anchor)", **measure_old(live, min(args.requests, 300))})
        with tempfile.TemporaryDirectory() as folder:
            runs.append({"guard": "database, SQLite",
                         **measure_ledger(f"sqlite:///{Path(folder) / 'guard.db'}", live, args.requests)})
        if not args.no_postgres:
            found = postgres_database()
            if found is not None:
                url, drop = found
                try:
                    runs.append({"guard": "database, PostgreSQL", **measure_ledger(url, live, args.requests)})
                finally:
                    drop()
    print("| guard | live entries | mean ms | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    for run in runs:
        print(f"| {run['guard']} | {run['live_entries']:,} | {run['mean_ms']} | {run['p50_ms']} "
              f"| {run.get('p99_ms', '')} |")
    ratios = {}
    for guard in sorted({r["guard"] for r in runs}):
        by_size = {r["live_entries"]: r["mean_ms"] for r in runs if r["guard"] == guard}
        if len(by_size) == len(SIZES):
            ratios[guard] = round(by_size[SIZES[-1]] / by_size[SIZES[0]], 2)
            print(f"{guard}: {SIZES[-1]:,} / {SIZES[0]:,} entries = {ratios[guard]}× the cost per request")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": {"python": platform.python_version(), "cores": os.cpu_count()},
                                   "requests": args.requests, "runs": runs, "ratio_large_to_small": ratios},
                                  indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
