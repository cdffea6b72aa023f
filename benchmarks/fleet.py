"""Fleet benchmark: N simulated vehicles through a 4-wave campaign (and a bad release that halts).

Budgets from issue 7: 100,000 vehicles through a 4-wave campaign in ≤ 60 s on SQLite; 1,000,000
on PostgreSQL in ≤ 10 minutes; peak memory ≤ 2 GB. Each run is a fresh database driven by the
real simulator (``evplatform.fleet.simulator.simulate_fleet``) in a child process, so its peak
resident memory is measured alone (the PostgreSQL server's own memory is not included). The
figures are compared with the budgets (the issue names no external anchor for this part).

    .venv/bin/python benchmarks/fleet.py                # SQLite 100k, PostgreSQL 100k
    .venv/bin/python benchmarks/fleet.py --million      # adds PostgreSQL 1,000,000
    .venv/bin/python benchmarks/fleet.py --sqlite 20000 --postgres 0   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "fleet.json"
PG_ADMIN = os.environ.get("EVPLATFORM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BUDGETS = {("sqlite", 100_000): 60.0, ("postgresql", 1_000_000): 600.0}
MEMORY_BUDGET_MB = 2048.0


def child(url: str, vehicles: int) -> None:
    """Run one simulation and print its figures as JSON (runs in its own process)."""
    from evplatform.fleet.simulator import simulate_fleet
    from evplatform.store import open_store
    from evplatform.workspace import load_workspace

    store = open_store(url)
    spans: dict[int, list[float]] = {}
    ticks = [0]

    def on_tick(campaign_id: int, _now: Any, _result: Any) -> None:
        ticks[0] += 1
        spans.setdefault(campaign_id, [time.perf_counter(), 0.0])[1] = time.perf_counter()

    started = time.perf_counter()
    result = simulate_fleet(store, load_workspace(None), vehicles, on_tick=on_tick)
    total = time.perf_counter() - started
    campaigns = []
    for campaign in result.campaigns:
        first, last = spans.get(campaign["id"], [0.0, 0.0])
        campaigns.append({
            "release": campaign["release"], "state": campaign["state"], "targets": campaign["targets"],
            "waves_done": sum(1 for w in campaign["waves"] if w["state"] == "done"),
            "reported": sum(w["succeeded"] + w["failed"] + w["rolled_back"] for w in campaign["waves"]),
            "seconds_ticking": round(last - first, 3), "halt_reason": campaign["halt_reason"],
        })
    print(json.dumps({
        "vehicles": vehicles, "seconds": round(total, 3), "populate_s": round(result.timings["populate_s"], 3),
        "campaigns_s": round(result.timings["campaigns_s"], 3), "ticks": ticks[0], "campaigns": campaigns,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))
    store.dispose()


def run(backend: str, vehicles: int) -> dict[str, Any] | None:
    """One measured run in a child process on a fresh database; None when PostgreSQL is absent."""
    with tempfile.TemporaryDirectory(prefix="evplatform-bench-") as scratch:
        dropper = None
        if backend == "sqlite":
            url = f"sqlite:///{Path(scratch) / 'fleet.db'}"
        else:
            url, dropper = _postgres_database()
            if url is None:
                return None
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--child", url, str(vehicles)], capture_output=True, text=True, check=False
            )
        finally:
            if dropper:
                dropper()
    if out.returncode != 0:
        raise SystemExit(f"{backend} {vehicles}: child failed\n{out.stderr[-3000:]}")
    data: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    data["backend"] = backend
    return data


def _postgres_database() -> tuple[str | None, Any]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"evplatform_bench_{uuid.uuid4().hex[:8]}"
    try:
        engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # no server: the PostgreSQL rows are skipped with the reason
        print(f"PostgreSQL not reachable ({str(error).splitlines()[0]}): PostgreSQL runs skipped", file=sys.stderr)
        return None, None

    def drop() -> None:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), drop


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| backend | vehicles | register s | campaigns s | total s | budget s | total/budget | good release "
        "(waves done) | bad release | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for r in rows:
        budget = BUDGETS.get((r["backend"], r["vehicles"]))
        good, bad = r["campaigns"][0], r["campaigns"][-1]
        budget_text = "—" if budget is None else f"{budget:.0f}"
        ratio = "—" if budget is None else f"{r['seconds'] / budget:.2f}"
        lines.append(
            f"| {r['backend']} | {r['vehicles']:,} | {r['populate_s']:.1f} | {r['campaigns_s']:.1f} | "
            f"{r['seconds']:.1f} | {budget_text} | {ratio} | {good['state']} ({good['waves_done']}/4) | "
            f"{bad['state']} after {bad['reported']:,} reports | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", type=int, default=100_000, help="vehicles on SQLite (0: skip)")
    parser.add_argument("--postgres", type=int, default=100_000, help="vehicles on PostgreSQL (0: skip)")
    parser.add_argument("--million", action="store_true", help="also 1,000,000 vehicles on PostgreSQL")
    parser.add_argument("--child", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    plan = [("sqlite", args.sqlite), ("postgresql", args.postgres)]
    if args.million:
        plan.append(("postgresql", 1_000_000))
    rows = []
    for backend, vehicles in plan:
        if vehicles <= 0:
            continue
        print(f"running {backend} with {vehicles:,} vehicles…", file=sys.stderr, flush=True)
        row = run(backend, vehicles)
        if row is not None:
            rows.append(row)
    print(table(rows))
    over = [r for r in rows if r["peak_rss_mb"] > MEMORY_BUDGET_MB]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "machine": {"python": platform.python_version(), "cores": os.cpu_count()},
        "budgets_s": {f"{b}:{n}": s for (b, n), s in BUDGETS.items()}, "memory_budget_mb": MEMORY_BUDGET_MB,
        "runs": rows,
    }, indent=2) + "\n")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
