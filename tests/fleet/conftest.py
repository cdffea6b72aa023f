"""Fleet tests run on SQLite and PostgreSQL (fixtures in tests/store_fixtures.py) with the demo platform."""

from __future__ import annotations

import pytest

from evplatform.clock import FixedClock
from evplatform.fleet.registry import register_vehicles
from evplatform.store import Store
from evplatform.workspace import Workspace, load_workspace
from fleet_support import FLEET_NOW, T0, add_release, small_fleet_specs
from store_fixtures import db_url, postgres_url, store  # noqa: F401


@pytest.fixture(scope="session")
def demo() -> Workspace:
    return load_workspace(None)


@pytest.fixture
def fleet(store: Store, demo: Workspace) -> Store:  # noqa: F811
    """The store with 40 vehicles of every trim in CN and DE (520 vehicles) and release hub-os-1.7.0."""
    store.clock = FixedClock(FLEET_NOW)
    register_vehicles(store, demo, small_fleet_specs(demo, 40), at=T0)
    add_release(store, demo, "hub-os", "1.7.0")
    return store
