"""API tests run in process (FastAPI TestClient over ASGI) on a small demo database.

The demo database (300 vehicles, a completed and a halted campaign) is built once per session and
copied for every test, so tests that write never see each other's changes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from api.support import DEMO_VEHICLES, KeyedVehicle
from evplatform.api import create_app
from evplatform.api.auth import public_key_text
from evplatform.fleet import build_demo_database
from evplatform.store import Store, create_account, issue_token, open_store
from evplatform.store import vehicles as vdb
from store_fixtures import postgres_url  # noqa: F401

ROLES = ("viewer", "engineer", "release_manager", "admin")


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The demo database file and one account per role (named after it) with its bearer token."""
    path = tmp_path_factory.mktemp("api-demo") / "demo.db"
    build_demo_database(f"sqlite:///{path}", vehicles=DEMO_VEHICLES)
    store = open_store(f"sqlite:///{path}")
    try:
        tokens = {}
        for role in ROLES:
            create_account(store, role, role)
            tokens[role] = issue_token(store, role)
    finally:
        store.dispose()
    return path, tokens


@pytest.fixture(scope="session")
def demo_db_file(demo_database: tuple[Path, dict[str, str]]) -> Path:
    return demo_database[0]


@pytest.fixture
def db_url(demo_db_file: Path, tmp_path: Path) -> str:
    target = tmp_path / "demo.db"
    shutil.copy(demo_db_file, target)
    return f"sqlite:///{target}"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = open_store(db_url)
    yield opened
    opened.dispose()


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(None, db_url)) as test_client:
        yield test_client


@pytest.fixture
def tokens(demo_database: tuple[Path, dict[str, str]]) -> dict[str, str]:
    """Bearer tokens of the accounts ``viewer``, ``engineer``, ``release_manager``, ``admin`` (every copy has them)."""
    return dict(demo_database[1])


@pytest.fixture
def keyed_vehicle(store: Store) -> KeyedVehicle:
    """A demo vehicle in China with a provisioned ed25519 key."""
    vehicle = vdb.list_vehicles(store, market="CN", limit=1)[0]
    key = SigningKey.generate()
    vdb.set_public_key(store, vehicle.vin, public_key_text(key))
    return KeyedVehicle(vehicle.vin, key, vehicle.market)
