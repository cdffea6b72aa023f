"""Fleet filter queries: the time to count (and to fetch a page of) the vehicles a query matches.

Issue 16 §2 budget: a count on the 10,000-vehicle demo database in SQLite takes at most 300 ms.
The database is the demo ``make run`` serves (``fleet.build_demo_database``: 10,000 vehicles,
two campaigns, ~29,000 telemetry events), built once into a temporary folder. Each query is
parsed, resolved against the fleet (a fresh catalogue every time, as a request does) and counted;
the figure is the median of ``--repeat`` runs after one warm-up. The anchor, measured in the same
run, is the count the list did before (``store.dashboard.count_vehicles``, exact model and market,
no parsing): the ratio says what the language costs over a plain equality filter.

    .venv/bin/python benchmarks/fleet_query.py                 # 10,000 vehicles, 15 runs a query
    .venv/bin/python benchmarks/fleet_query.py --vehicles 2000 --repeat 5
    .venv/bin/python benchmarks/fleet_query.py --postgres      # also PostgreSQL (EVPLATFORM_TEST_POSTGRES_URL)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "fleet_query.json"
BUDGET_MS = 300.0
QUERIES = (
    'model = "SU7"',
    "market in (EU)",
    'model = su7 and market in (EU) and version("adas") < "2.5" and last_seen < 30d',
    "campaign(2) in (failed, rolled_back) or crashes(30d) > 0",
    "last_seen > 7d and not trim in (max, pro)",
    "vin ~ LMDA02",
)


def _median_ms(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    result = run()  # warm-up: the page cache, SQLAlchemy's statement cache
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


PG_ADMIN = os.environ.get("EVPLATFORM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@contextmanager
def _database(kind: str) -> Iterator[str]:
    """A fresh SQLite file or PostgreSQL database, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="fleet-query-") as folder:
            yield f"sqlite:///{Path(folder) / 'demo.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"evplatform_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(vehicles: int, repeat: int, kind: str = "sqlite") -> dict[str, Any]:
    from evplatform.fleet import build_demo_database, listing
    from evplatform.store import dashboard, open_store

    with _database(kind) as url:
        started = time.perf_counter()
        build_demo_database(url, vehicles=vehicles)
        built = time.perf_counter() - started
        store = open_store(url)
        try:
            now = datetime.now(UTC)
            anchor_ms, anchor_n = _median_ms(lambda: dashboard.count_vehicles(store, model="su7", market="DE"), repeat)
            rows = []
            for text in QUERIES:
                count_ms, n = _median_ms(partial(listing.count, store, text, now=now), repeat)
                page_ms, _page = _median_ms(partial(listing.search, store, text, now=now, sort="last_seen",
                                                    descending=True, limit=50), repeat)
                rows.append({"query": text, "vehicles": n, "count_ms": round(count_ms, 1),
                             "page_ms": round(page_ms, 1), "ratio_to_anchor": round(count_ms / anchor_ms, 1),
                             "within_budget": count_ms <= BUDGET_MS})
        finally:
            store.dispose()
    return {"database": kind, "vehicles": vehicles, "repeat": repeat, "build_seconds": round(built, 1),
            "anchor": {"what": "store.dashboard.count_vehicles(model='su7', market='DE')", "vehicles": anchor_n,
                       "count_ms": round(anchor_ms, 2)},
            "budget_ms": BUDGET_MS, "queries": rows,
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                        "load_average": [round(x, 1) for x in os.getloadavg()]}}


def table(data: dict[str, Any]) -> str:
    lines = [f"{data['vehicles']:,} vehicles ({data['database']}); anchor {data['anchor']['what']}: "
             f"{data['anchor']['count_ms']} ms", "",
             "| query | vehicles | count (ms) | page of 50 by last seen (ms) | × anchor |", "|---|---:|---:|---:|---:|"]
    for row in data["queries"]:
        lines.append(f"| `{row['query']}` | {row['vehicles']:,} | {row['count_ms']} | {row['page_ms']} | "
                     f"{row['ratio_to_anchor']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--postgres", action="store_true", help="Also measure on PostgreSQL.")
    args = parser.parse_args(argv)
    runs = [measure(args.vehicles, args.repeat)]
    if args.postgres:
        runs.append(measure(args.vehicles, args.repeat, "postgresql"))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"runs": runs}, indent=2) + "\n", encoding="utf-8")
    print("\n\n".join(table(data) for data in runs))
    over = [r["query"] for r in runs[0]["queries"] if not r["within_budget"]]  # the budget is SQLite's
    if over:
        print(f"over the {BUDGET_MS:.0f} ms budget: {over}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
