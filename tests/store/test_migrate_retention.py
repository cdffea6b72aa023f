"""Explicit migration (store.migrate.migrate_to / upgrade_sql) and telemetry retention (store.retention)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from evplatform.errors import InvalidValueError, StoreError
from evplatform.store import AuditQuery, Store, audit_log, current_revision, head_revision
from evplatform.store import vehicles as vdb
from evplatform.store.migrate import downgrade, migrate_to, plan, upgrade_sql
from evplatform.store.retention import purge_telemetry
from evplatform.store.schema import TelemetryEvent

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_migrate_upgrades_an_old_database_and_says_from_and_to(store: Store) -> None:
    downgrade(store, "0003")
    assert current_revision(store) == "0003"
    planned = plan(store)
    assert (planned.from_revision, planned.to_revision) == ("0003", head_revision())
    assert planned.steps[0].revision == "0004" and all(s.description for s in planned.steps)
    assert current_revision(store) == "0003"  # planning changes nothing
    done = migrate_to(store, "0005")
    assert current_revision(store) == "0005" and [s.revision for s in done.steps] == ["0004", "0005"]
    again = migrate_to(store)
    assert current_revision(store) == head_revision() and again.steps[0].revision == "0006"
    assert migrate_to(store).steps == ()


def test_migrate_only_moves_forward_and_knows_its_revisions(store: Store) -> None:
    with pytest.raises(StoreError, match="newer than 0002; migrate only upgrades"):
        plan(store, "0002")
    with pytest.raises(StoreError, match="unknown revision 'nope'"):
        plan(store, "nope")


def test_migrate_sql_is_offline_for_postgresql_and_refused_for_sqlite(store: Store) -> None:
    downgrade(store, "0004")
    if store.dialect == "sqlite":
        with pytest.raises(StoreError, match="PostgreSQL only"):
            upgrade_sql(store)
    else:
        planned, sql = upgrade_sql(store)
        assert planned.from_revision == "0004"
        assert "ALTER TABLE releases ADD COLUMN created_by" in sql and "CREATE TABLE seen_signatures" in sql
        assert f"version_num='{head_revision()}'" in sql and "UPDATE alembic_version" in sql
    assert current_revision(store) == "0004"  # nothing ran


def _telemetry(store: Store) -> None:
    (config,) = vdb.configuration_ids(store, [frozenset({"A"})]).values()
    vdb.insert_vehicles(store, [{
        "vin": "LMDRETENTION00001", "model": "m", "trim": "t", "market": "CN", "timezone": "UTC",
        "configuration_id": config, "hardware_ids": {}, "software": {}, "rxswin": {}, "consent_telemetry": True,
        "consent_updates": True, "registered_at": NOW - timedelta(days=400),
    }])
    (vehicle,) = vdb.vehicle_ids(store, ["LMDRETENTION00001"]).values()
    rows = [{"vehicle_id": vehicle, "kind": kind, "at": NOW - timedelta(days=days, minutes=i), "value": 1.0}
            for kind, days, count in (("soc", 40, 23), ("soc", 10, 5), ("health", 31, 7), ("crash", 1, 2))
            for i in range(count)]
    vdb.insert_telemetry(store, rows)


def _count(store: Store) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(TelemetryEvent)) or 0)


def test_retention_dry_run_counts_and_the_real_run_deletes_in_batches(store: Store) -> None:
    store.clock = lambda: NOW  # the server's clock decides what is old
    _telemetry(store)
    dry = purge_telemetry(store, 30, dry_run=True)
    assert dry.dry_run and dry.per_kind == {"soc": 23, "health": 7} and dry.total == 30
    assert dry.cutoff == NOW - timedelta(days=30) and _count(store) == 37
    real = purge_telemetry(store, 30, batch_size=10, actor="ops")
    assert real.per_kind == {"soc": 23, "health": 7} and real.batches == 4  # soc 10+10+3, health 7
    assert _count(store) == 7
    assert purge_telemetry(store, 30).total == 0
    entries = audit_log(store, query=AuditQuery(action="retention"))  # newest first; the dry run left none
    assert [(e.actor, e.detail["deleted"]) for e in entries] == [("system", 0), ("ops", 30)]


def test_retention_bounds(store: Store) -> None:
    with pytest.raises(InvalidValueError, match="must be 1 to 36,500"):
        purge_telemetry(store, 0)
    with pytest.raises(InvalidValueError, match="batch size"):
        purge_telemetry(store, 30, batch_size=0)
