"""The demo database behind ``make run``: a simulated fleet with its campaigns and a day of telemetry.

``build_demo_database(url)`` fills an empty database with a workspace's fleet (default: the bundled
demo platform's) in its planned proportions, runs the workspace's fleet scenario (for the demo: a
release that completes and a bad release halted by its gate; see ``fleet.scenario``) and adds a
day of telemetry (health, state of charge, odometer) and ESTIMATE take-up of the paid features
(``ondemand.demo``) so every page of the dashboard has something
real to show. A database that already holds a fleet is left as it is, so ``make run`` can be
repeated; one whose build was interrupted is built again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import numpy as np

from evplatform.errors import FleetError
from evplatform.fleet import campaigns as fc
from evplatform.fleet.scenario import START, Scenario, load_scenario
from evplatform.fleet.simulator import populate, run_scenario
from evplatform.ondemand.demo import seed_demo_entitlements
from evplatform.store import builds, default_database_url, open_store
from evplatform.store import campaigns as cdb
from evplatform.store import vehicles as vdb
from evplatform.store.database import Store
from evplatform.workspace import Workspace, load_workspace

logger = logging.getLogger(__name__)

#: The build mark of the demo fleet (``store.builds``).
DEMO_BUILD = "demo"


@dataclass(frozen=True, slots=True)
class DemoDatabase:
    url: str
    vehicles: int
    campaigns: list[dict[str, Any]]
    created: bool  # False when the database already held a fleet
    scenario: Scenario | None = None  # None when the database already held a fleet


def build_demo_database(
    url: str | None = None,
    vehicles: int | None = None,
    *,
    workspace: Workspace | None = None,
    seed: int | None = None,
    scenario: Scenario | None = None,
) -> DemoDatabase:
    """Build (or find) the demo database at ``url`` (default: ``./.evplatform/`` or the env URL).

    ``scenario`` defaults to the workspace's (``load_scenario``), ``vehicles`` to its fleet size and
    ``seed`` to its seed. Never leaves a half-built database that looks finished: a SQLite file is
    built beside its path and renamed into place when complete; elsewhere a build mark says whether
    the last build finished, and a rerun after an interrupted one starts again (``store.builds``).
    """
    ws = workspace or load_workspace(None)
    url = url or default_database_url()
    scenario = scenario or load_scenario(ws)
    if seed is not None:
        scenario = replace(scenario, seed=seed)
    count = scenario.fleet_size if vehicles is None else vehicles
    if count <= 0:
        raise FleetError(f"--vehicles must be positive, got {count}")
    found, keep = _finished(url)
    if found is not None:
        return found
    if builds.sqlite_file(url) is None:
        return _build(url, url, ws, count, scenario)
    with builds.staged_sqlite(url, copy_existing=keep) as staging:
        return _build(staging, url, ws, count, scenario)


def _finished(url: str) -> tuple[DemoDatabase | None, bool]:
    """The database at ``url`` if it already holds a fleet whose build (if any) finished, else None
    and whether what it holds is worth keeping (accounts of an empty database, not a broken build)."""
    file = builds.sqlite_file(url)
    if file is not None and not file.exists():
        return None, False  # do not create an empty file at the real path: the build happens beside it
    with open_store(url) as store:
        existing = vdb.count_vehicles(store)
        if builds.build_mark(store, DEMO_BUILD) == builds.BUILDING:
            logger.warning("the demo build of %s was interrupted; building it again", store.url)
            if file is None:
                builds.reset_database(store)  # nothing can be renamed: start from an empty database
            return None, False
        if existing:
            return DemoDatabase(store.url, existing, _campaigns(store), created=False), False
    return None, True


def _build(build_url: str, url: str, ws: Workspace, count: int, scenario: Scenario) -> DemoDatabase:
    """Fill the database at ``build_url`` (marked as building until the end); report it as ``url``."""
    with open_store(build_url) as store:
        builds.set_build_mark(store, DEMO_BUILD, builds.BUILDING)
        populate(store, ws, count, scenario)
        run_scenario(store, ws, scenario, record_evidence=True)
        add_telemetry(store, seed=scenario.seed)
        seed_demo_entitlements(store, ws, until=START, seed=scenario.seed)  # ESTIMATE take-up of paid features
        campaigns = _campaigns(store)
        builds.set_build_mark(store, DEMO_BUILD, builds.COMPLETE)
        builds.seal(store)
    return DemoDatabase(url, count, campaigns, created=True, scenario=scenario)


def _campaigns(store: Store) -> list[dict[str, Any]]:
    return [fc.progress(store, c.id) for c in cdb.list_campaigns(store)]


def add_telemetry(store: Store, *, seed: int = 7) -> int:
    """One health event, one state of charge and one odometer reading per consenting vehicle."""
    cols = vdb.vehicle_columns(store)
    ids = cols["id"]
    rng = np.random.default_rng(seed + 2)
    campaigns = cdb.list_campaigns(store)
    at = max((c.last_tick_at for c in campaigns if c.last_tick_at), default=START) + timedelta(hours=6)
    soc = np.round(rng.uniform(12, 96, len(ids)), 1)
    odometer = np.round(rng.gamma(2.0, 9000.0, len(ids)), 0)
    rows: list[dict[str, Any]] = []
    consent = {r.id: r.consent_telemetry for r in _consents(store)}
    for vid, charge, km in zip(ids.tolist(), soc.tolist(), odometer.tolist(), strict=True):
        rows.append({"vehicle_id": vid, "kind": "health", "at": at, "value": None, "release_id": None,
                     "detail": {"status": "ok"}})
        if consent.get(vid, False):
            rows.append({"vehicle_id": vid, "kind": "soc", "at": at, "value": charge, "release_id": None,
                         "detail": None})
            rows.append({"vehicle_id": vid, "kind": "odometer", "at": at, "value": km, "release_id": None,
                         "detail": None})
    return vdb.insert_telemetry(store, rows)


def _consents(store: Store) -> list[vdb.VehicleRecord]:
    records: list[vdb.VehicleRecord] = []
    offset = 0
    while True:
        page = vdb.list_vehicles(store, limit=5000, offset=offset)
        records.extend(page)
        if len(page) < 5000:
            return records
        offset += 5000
