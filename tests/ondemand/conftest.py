"""Features-on-demand tests: SQLite and PostgreSQL stores (tests/store_fixtures.py), the demo workspace,
and a tiny fleet of four vehicles whose hardware differs (two can run every paid feature, two none)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from evplatform.clock import FixedClock
from evplatform.fleet.registry import VehicleSpec, register_vehicles
from evplatform.store import Store
from evplatform.workspace import Workspace, load_workspace
from store_fixtures import db_url, postgres_url, store  # noqa: F401

T0 = datetime(2026, 1, 10, tzinfo=UTC)
#: Two cars of the richest trim (every paid feature runs on them) and two of the plainest (none does).
RICH, RICH_2, PLAIN, PLAIN_2 = "LMDFDM00000000001", "LMDFDM00000000002", "LMDFDM00000000003", "LMDFDM00000000004"


@pytest.fixture(scope="session")
def demo() -> Workspace:
    return load_workspace(None)


def trims_by_offer_count(ws: Workspace, market: str) -> tuple[str, str]:
    """The trim sold in ``market`` that can run the most paid features, and the one that runs the fewest."""
    ranked = sorted((sum(f.requires.evaluate(ws.configurations[(t.key, market)])
                         for f in ws.on_demand.features.values()), t.key)
                    for t in ws.trims() if (t.key, market) in ws.configurations)
    return ranked[-1][1], ranked[0][1]


@pytest.fixture
def tiny(store: Store, demo: Workspace) -> Store:  # noqa: F811
    """Four vehicles in the base market registered at T0; the server clock stands at T0."""
    market = demo.platform.base_market
    rich, plain = trims_by_offer_count(demo, market)
    specs = [VehicleSpec(vin, key.split("/")[0], key.split("/")[1], market)
             for vin, key in ((RICH, rich), (RICH_2, rich), (PLAIN, plain), (PLAIN_2, plain))]
    store.clock = FixedClock(T0)
    register_vehicles(store, demo, specs, at=T0)
    return store
