"""Opening, migrating and failing to reach a database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.pool import QueuePool

from evplatform.errors import NotFoundError, StoreError
from evplatform.store import Store, current_revision, default_database_url, head_revision, open_store


def test_open_migrates_to_head(store: Store) -> None:
    assert current_revision(store) == head_revision()
    tables = set(inspect(store.engine).get_table_names())
    assert {"vehicles", "telemetry_events", "releases", "campaigns", "waves", "campaign_vehicles",
            "update_reports", "approvals", "accounts", "tokens", "audit_log"} <= tables


def test_reopen_is_a_no_op(db_url: str) -> None:
    first = open_store(db_url)
    first.dispose()
    again = open_store(db_url)
    assert current_revision(again) == head_revision()
    again.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'wal.db'}")
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    store.dispose()


def test_unreachable_postgres_is_a_clear_store_error() -> None:
    with pytest.raises(StoreError, match=r"cannot reach the database postgresql\+psycopg://u:\*\*\*@127.0.0.1:9"):
        open_store("postgresql+psycopg://u:secret@127.0.0.1:9/nothing")


def test_password_never_appears_in_the_message() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("postgresql+psycopg://u:hunter2@127.0.0.1:9/nothing")
    assert "hunter2" not in str(caught.value)


def test_unwritable_sqlite_folder_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create the folder"):
        open_store(f"sqlite:///{blocker / 'sub' / 'x.db'}")


def test_bad_url_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="invalid database URL"):
        open_store("not a url at all")


def test_default_url_honours_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EVPLATFORM_DATABASE_URL", "sqlite:///elsewhere.db")
    assert default_database_url(tmp_path) == "sqlite:///elsewhere.db"
    monkeypatch.delenv("EVPLATFORM_DATABASE_URL")
    assert default_database_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/.evplatform/evplatform.db"
    monkeypatch.chdir(tmp_path)
    assert default_database_url(Path("/somewhere/in/site-packages"), bundled=True).startswith(
        f"sqlite:///{tmp_path.resolve()}/.evplatform/"
    )


def test_migration_0002_keeps_existing_vehicles(db_url: str) -> None:
    from datetime import UTC, datetime

    from evplatform.store import upgrade
    from evplatform.store import vehicles as vdb
    from evplatform.store.migrate import downgrade

    store = open_store(db_url, migrate=False)
    downgrade(store, "base")  # the PostgreSQL database of the run may already be at head
    assert current_revision(store) is None
    upgrade(store, "0001")
    assert current_revision(store) == "0001"
    (config,) = vdb.configuration_ids(store, [frozenset({"A", "B"})]).values()
    vdb.insert_vehicles(store, [{
        "vin": "LMDAB100000000001", "model": "m", "trim": "t", "market": "CN", "timezone": "Asia/Shanghai",
        "configuration_id": config, "hardware_ids": {}, "software": {}, "rxswin": {}, "consent_telemetry": True,
        "consent_updates": True, "registered_at": datetime(2026, 1, 1, tzinfo=UTC),
    }])
    upgrade(store)
    assert current_revision(store) == head_revision()
    record = vdb.vehicle_by_vin(store, "LMDAB100000000001")
    assert record is not None and record.public_key is None and record.configuration == {"A", "B"}
    vdb.set_public_key(store, "LMDAB100000000001", "ed25519:abcd")
    assert vdb.public_key(store, "LMDAB100000000001") == "ed25519:abcd"
    with pytest.raises(NotFoundError, match="no vehicle LMDAB100000000099"):
        vdb.set_public_key(store, "LMDAB100000000099", "x")
    store.dispose()


def test_a_store_is_a_context_manager_that_disposes(db_url: str) -> None:
    with open_store(db_url) as store:
        used = store.engine.pool
        assert isinstance(used, QueuePool) and used.checkedin() >= 1  # opening connected and migrated
    fresh = store.engine.pool
    assert fresh is not used and isinstance(fresh, QueuePool) and fresh.checkedin() == 0
    with pytest.raises(RuntimeError, match="boom"), open_store(db_url) as failing:
        used = failing.engine.pool
        raise RuntimeError("boom")
    assert failing.engine.pool is not used  # disposed on the way out of an error too


def test_opening_and_migrating_import_each_other_in_one_direction_only() -> None:
    """``store.database`` uses ``store.migrate``; nothing under ``migrate`` leads back to ``database``."""
    import grimp

    graph = grimp.build_graph("evplatform")
    assert graph.find_shortest_chain(importer="evplatform.store.database", imported="evplatform.store.migrate")
    assert graph.find_shortest_chain(importer="evplatform.store.migrate", imported="evplatform.store.database") is None
    assert graph.find_shortest_chain(importer="evplatform.store._sql", imported="evplatform.store.database") is None
