"""Database fixtures shared by tests/store and tests/fleet: every test runs on SQLite and PostgreSQL.

PostgreSQL comes from ``EVPLATFORM_TEST_POSTGRES_URL`` (default: the local server that
``scripts/ensure-services.sh`` starts). The run creates its own database and drops it at the end;
each test gets empty tables. Unreachable → the PostgreSQL half skips with the reason, unless
``EVPLATFORM_REQUIRE_SERVICES=1`` makes that a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from evplatform.store import Store, open_store
from evplatform.store.schema import Base

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    return os.environ.get("EVPLATFORM_TEST_POSTGRES_URL", DEFAULT_PG)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database created for this test run, dropped afterwards."""
    admin = postgres_admin_url()
    name = f"evplatform_test_{uuid.uuid4().hex[:10]}"
    try:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # any driver or network failure means "no server"
        reason = f"PostgreSQL not reachable at {make_url(admin).render_as_string(hide_password=True)}: {error}"
        if os.environ.get("EVPLATFORM_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason.splitlines()[0])
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty, migrated-on-open database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fleet.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    store = open_store(url)
    with store.engine.begin() as connection:  # empty tables for the next test, schema kept
        names = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    store.dispose()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = open_store(db_url)
    yield opened
    opened.dispose()


DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis server that answers (``EVPLATFORM_TEST_REDIS_URL``, default the local one); skips without one.

    Tests share the server with whatever else uses it, so each test counts under keys of its own
    (random VINs and subjects) instead of flushing anything.
    """
    url = os.environ.get("EVPLATFORM_TEST_REDIS_URL", DEFAULT_REDIS)
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as error:  # no client library, no server, refused: all mean "no Redis here"
        reason = f"Redis not reachable at {url}: {error}"
        if os.environ.get("EVPLATFORM_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason.splitlines()[0])
    return url
