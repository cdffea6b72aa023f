"""Optional extras (``postgres``, ``dask``, ``redis``): without them the rest works, and using them names the extra."""

from __future__ import annotations

import sys

import pytest

from evplatform.errors import InsightsError, StoreError
from evplatform.insights.scaleout import cluster
from evplatform.service.rate_limits import RateLimitStoreError, RedisCounter
from evplatform.store.database import create_store_engine


def test_postgres_without_its_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now raises ImportError
    with pytest.raises(StoreError, match=r"pip install 'evplatform\[postgres\]'"):
        create_store_engine("postgresql+psycopg://someone@127.0.0.1:5432/db")


def test_sqlite_needs_no_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    engine = create_store_engine("sqlite://")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("select 1").scalar() == 1
    engine.dispose()


def test_dask_without_distributed_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(InsightsError, match=r"pip install 'evplatform\[dask\]'"), cluster(workers=1):
        pass


def test_redis_without_its_client_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(RateLimitStoreError, match=r"pip install 'evplatform\[redis\]'"):
        RedisCounter("redis://127.0.0.1:6379/0")
