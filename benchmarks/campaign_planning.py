"""Campaign planning benchmark (issue 16 §1): the live count, the dry run, creating and starting.

Budgets from the issue: the live count (``fleet.campaign_planning.preview``) on the 10,000-vehicle
demo database (SQLite) in ≤ 300 ms; on a 1,000,000-vehicle PostgreSQL fleet the live count in
≤ 2 s and creating a campaign with its dry run (``dry_run`` then ``create_and_start_campaign``) in
≤ 30 s. The issue names budgets, not an external anchor, so the ratio reported is to the budget.

The SQLite database is the demo (``build_demo_database``, two campaigns already run). The PostgreSQL
fleet is registered with the simulator's bulk insert (``fleet.simulator.populate``) in a database
this script creates and drops (``evbench_campaign``); a release of hub-os is registered and approved
everywhere, as the simulator does, so the start is not refused.

    .venv/bin/python benchmarks/campaign_planning.py                      # SQLite demo + PostgreSQL 1M
    .venv/bin/python benchmarks/campaign_planning.py --postgres 100000    # a smaller PostgreSQL fleet
    .venv/bin/python benchmarks/campaign_planning.py --postgres 0         # SQLite only
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "campaign_planning.json"
PG_ADMIN = os.environ.get("EVPLATFORM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DATABASE = "evbench_campaign"
BUDGET_COUNT_SQLITE_S = 0.300
BUDGET_COUNT_PG_S = 2.0
BUDGET_CREATE_PG_S = 30.0


def filters() -> dict[str, Any]:
    """The filters an operator types in order: everything, a region, a model with a feature, trims."""
    from evplatform.fleet.targets import TargetFilter

    return {
        "whole fleet": TargetFilter(),
        "markets EU": TargetFilter(markets=("EU",)),
        "su7 & LidarSuite": TargetFilter(models=("su7",), expression="LidarSuite"),
        "trims yu7/max, su7/max in CN": TargetFilter(trims=("yu7/max", "su7/max"), markets=("CN",)),
    }


def timed(call: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    seconds = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def measure_counts(store: Any, ws: Any, repeat: int) -> list[dict[str, Any]]:
    from evplatform.fleet.campaign_planning import preview

    rows = []
    for label, target in filters().items():
        seconds, found = timed(lambda target=target: preview(store, target, workspace=ws), repeat)
        rows.append({"filter": label, "matched": found.matched.vehicles, "median_s": statistics.median(seconds),
                     "max_s": max(seconds)})
    return rows


def measure_create(store: Any, ws: Any, release_id: str) -> dict[str, Any]:
    """A dry run of a four-wave campaign to the whole fleet, then creating and starting it."""
    from evplatform.fleet import campaigns as fc
    from evplatform.fleet.campaign_planning import CampaignPlan, dry_run

    plan = CampaignPlan(release_id=release_id, name="benchmark")
    started = time.perf_counter()
    found = dry_run(store, plan, now=store.now(), workspace=ws)
    dry = time.perf_counter() - started
    _cid, summary = fc.create_and_start_campaign(store, name=plan.name, release_id=plan.release_id,
                                                 target=plan.target, waves=plan.waves, forced=plan.forced,
                                                 workspace=ws)
    total = time.perf_counter() - started
    return {"dry_run_s": dry, "create_and_start_s": total - dry, "total_s": total, "targets": summary.targets,
            "dry_run_targets": found.targets.vehicles, "excluded": summary.excluded}


def sqlite_demo(repeat: int) -> dict[str, Any]:
    from evplatform.fleet import build_demo_database
    from evplatform.store import open_store
    from evplatform.workspace import load_workspace

    ws = load_workspace(None)
    with tempfile.TemporaryDirectory(prefix="evbench-campaign-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'demo.db'}"
        started = time.perf_counter()
        built = build_demo_database(url, workspace=ws)
        build_s = time.perf_counter() - started
        with open_store(url) as store:
            counts = measure_counts(store, ws, repeat)
            # the demo's releases are rolled out already: a new hub-os release is what one would plan next
            release = _new_release(store, ws)
            create = measure_create(store, ws, release)
    return {"backend": "sqlite", "vehicles": built.vehicles, "build_s": build_s, "counts": counts, "create": create}


def _new_release(store: Any, ws: Any) -> str:
    from evplatform.fleet.scenario import ScenarioRelease
    from evplatform.fleet.simulator import approve_everywhere, register_release

    version = "9.0.0"
    record = register_release(store, ws, ScenarioRelease("hub-os", version), store.now())
    approve_everywhere(store, record.id, store.now())
    return record.id


def postgres_fleet(vehicles: int, repeat: int, database: str = DATABASE) -> dict[str, Any] | None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from evplatform.fleet.scenario import load_scenario
    from evplatform.fleet.simulator import populate
    from evplatform.store import open_store
    from evplatform.workspace import load_workspace

    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{database}"'))
    except Exception as error:  # no server: the row is skipped with the reason
        print(f"PostgreSQL not reachable ({str(error).splitlines()[0]}): skipped", file=sys.stderr)
        return None
    url = make_url(PG_ADMIN).set(database=database).render_as_string(hide_password=False)
    try:
        ws = load_workspace(None)
        with open_store(url) as store:
            started = time.perf_counter()
            populate(store, ws, vehicles, load_scenario(ws),
                     progress=lambda n: print(f"  {n:,} registered", file=sys.stderr, flush=True)
                     if n % 200_000 == 0 else None)
            build_s = time.perf_counter() - started
            # a database at rest has been vacuumed (autovacuum): statistics and the visibility map are fresh
            vacuum = create_engine(url, isolation_level="AUTOCOMMIT")
            with vacuum.connect() as connection:
                connection.execute(text("VACUUM ANALYZE vehicles"))
            vacuum.dispose()
            counts = measure_counts(store, ws, repeat)
            create = measure_create(store, ws, _new_release(store, ws))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
    return {"backend": "postgresql", "vehicles": vehicles, "build_s": build_s, "counts": counts, "create": create}


def table(runs: list[dict[str, Any]]) -> str:
    lines = ["| backend | vehicles | filter | matched | live count median ms | max ms | budget ms | max/budget |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    for run in runs:
        budget = BUDGET_COUNT_SQLITE_S if run["backend"] == "sqlite" else BUDGET_COUNT_PG_S
        for row in run["counts"]:
            lines.append(f"| {run['backend']} | {run['vehicles']:,} | {row['filter']} | {row['matched']:,} | "
                         f"{1000 * row['median_s']:,.0f} | {1000 * row['max_s']:,.0f} | {1000 * budget:,.0f} | "
                         f"{row['max_s'] / budget:.2f} |")
    lines += ["", "| backend | vehicles | targets | dry run s | create and start s | total s | budget s | "
              "total/budget |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for run in runs:
        c = run["create"]
        budget = BUDGET_CREATE_PG_S if run["backend"] == "postgresql" else None
        budget_text, ratio = ("—", "—") if budget is None else (f"{budget:.0f}", f"{c['total_s'] / budget:.2f}")
        lines.append(f"| {run['backend']} | {run['vehicles']:,} | {c['targets']:,} | {c['dry_run_s']:.2f} | "
                     f"{c['create_and_start_s']:.2f} | {c['total_s']:.2f} | {budget_text} | {ratio} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", type=int, default=1_000_000, help="vehicles on PostgreSQL (0: skip)")
    parser.add_argument("--repeat", type=int, default=5, help="live counts per filter (median and max reported)")
    parser.add_argument("--database", default=DATABASE, help="the PostgreSQL database created and dropped")
    args = parser.parse_args()
    load_before = os.getloadavg()
    runs = [sqlite_demo(args.repeat)]
    if args.postgres > 0:
        found = postgres_fleet(args.postgres, args.repeat, args.database)
        if found is not None:
            runs.append(found)
    print(table(runs))
    over = [r for r in runs for row in r["counts"]
            if row["max_s"] > (BUDGET_COUNT_SQLITE_S if r["backend"] == "sqlite" else BUDGET_COUNT_PG_S)]
    over += [r for r in runs if r["backend"] == "postgresql" and r["create"]["total_s"] > BUDGET_CREATE_PG_S]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "machine": {"python": platform.python_version(), "cores": os.cpu_count(), "load_before": load_before,
                    "load": os.getloadavg()},
        "budgets_s": {"count_sqlite": BUDGET_COUNT_SQLITE_S, "count_postgresql": BUDGET_COUNT_PG_S,
                      "create_postgresql": BUDGET_CREATE_PG_S},
        "runs": runs,
    }, indent=2, default=str) + "\n")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
