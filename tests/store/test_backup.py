"""Backup and restore (store.backup): a restored server serves the same bytes; a damaged backup restores nothing."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from evplatform.api import create_app
from evplatform.errors import StoreError
from evplatform.ota.image_repository import ImageTarget
from evplatform.ota.keys import KeyRing, generate_private_key, signer_of
from evplatform.ota.service import OtaService
from evplatform.store import Store, open_store
from evplatform.store import backup as backups
from evplatform.store import vehicles as vdb
from store_fixtures import postgres_admin_url

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
VIN = "LMDBACKUP00000001"
IMAGE = bytes(range(256)) * 16
PATH = "hub-os/1.8.0"
VEHICLES = 7


@dataclass
class Server:
    url: str
    ota: Path


def add_vehicles(store: Store, count: int, prefix: str = "LMDBK") -> None:
    (config,) = vdb.configuration_ids(store, [frozenset({"A", "B"})]).values()
    vdb.insert_vehicles(store, [{
        "vin": f"{prefix}{i:012d}", "model": "m", "trim": "t", "market": "CN", "timezone": "Asia/Shanghai",
        "configuration_id": config, "hardware_ids": {}, "software": {}, "rxswin": {}, "consent_telemetry": True,
        "consent_updates": True, "registered_at": NOW,
    } for i in range(count)])


def make_ota(root: Path) -> None:
    keyring = KeyRing.init(root / "keys", insecure_demo_keys=True)
    service = OtaService.initialise(root, lambda: NOW, keyring)
    target = ImageTarget.from_data(PATH, IMAGE, component="hub-os", version="1.8.0", hardware_id="hub-hw-2",
                                   release_counter=3)
    service.image_repository.add_targets([target], keyring.signers("image", "targets"))
    (root / "images" / target.sha256).write_bytes(IMAGE)
    service.register_vehicle(VIN, "hub-1", {"hub-1": ("hub-hw-2", signer_of(generate_private_key()).public_key)})
    service.assign(VIN, "hub-1", PATH)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Server:
    """A SQLite database with vehicles and an OTA folder with one assigned target (made once: keys are slow)."""
    folder = tmp_path_factory.mktemp("server")
    url = f"sqlite:///{folder / 'evplatform.db'}"
    with open_store(url) as store:
        add_vehicles(store, VEHICLES)
    make_ota(folder / "ota")
    return Server(url, folder / "ota")


def served(url: str, ota: Path) -> dict[str, bytes | int]:
    """What an app on this database and OTA folder serves: Uptane metadata bytes and the vehicle count."""
    seen: dict[str, bytes | int] = {}
    with TestClient(create_app(None, url, clock=lambda: NOW, ota_root=ota)) as client:
        for role in ("root", "timestamp", "snapshot", "targets"):
            seen[f"image/{role}"] = client.get(f"/uptane/image/{role}.json").content
            seen[f"director/{role}"] = client.get(f"/uptane/director/{VIN}/{role}.json").content
        counts = client.get("/api/fleet/counts").json()
        seen["vehicles"] = int(counts["total"])
    return seen


def test_restored_server_serves_the_same_metadata_and_fleet(server: Server, tmp_path: Path) -> None:
    before = served(server.url, server.ota)
    assert before["vehicles"] == VEHICLES and b'"signed"' in bytes(before["director/targets"])
    result = backups.backup(server.url, tmp_path / "bk", ota_root=server.ota, include_keys=True, clock=lambda: NOW)
    assert result.manifest["created_at"] == NOW.isoformat() and result.manifest["ota"]["keys_included"]
    assert not (tmp_path / "bk.partial").exists()
    fresh_url, fresh_ota = f"sqlite:///{tmp_path / 'fresh' / 'db.sqlite'}", tmp_path / "fresh" / "ota"
    restored = backups.restore(tmp_path / "bk", fresh_url, ota_root=fresh_ota)
    assert restored.files == result.files and restored.revision is not None
    assert served(fresh_url, fresh_ota) == before


def test_keys_stay_out_unless_asked_for(server: Server, tmp_path: Path) -> None:
    result = backups.backup(server.url, tmp_path / "bk", ota_root=server.ota)
    names = list(result.manifest["files"])
    assert "database/evplatform.db" in names and any(n.startswith("ota/image/") for n in names)
    assert any(n.startswith("ota/images/") for n in names) and any(n.startswith("ota/director/") for n in names)
    assert not any(n.startswith("ota/keys/") for n in names)
    stored = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    for name, entry in stored["files"].items():
        assert entry == backups._hash_file(tmp_path / "bk" / name)


def test_a_non_empty_destination_is_refused(server: Server, tmp_path: Path) -> None:
    (tmp_path / "bk").mkdir()
    (tmp_path / "bk" / "old.txt").write_text("x")
    with pytest.raises(StoreError, match="exists and is not an empty folder"):
        backups.backup(server.url, tmp_path / "bk")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bk"]


@pytest.mark.parametrize("damage", ["edit", "extra", "missing"])
def test_a_damaged_backup_restores_nothing(server: Server, tmp_path: Path, damage: str) -> None:
    backups.backup(server.url, tmp_path / "bk", ota_root=server.ota)
    victim = tmp_path / "bk" / "ota" / "image" / "metadata" / "timestamp.json"
    if damage == "edit":
        victim.write_bytes(victim.read_bytes().replace(b'"version"', b'"versiOn"'))
    elif damage == "extra":
        (tmp_path / "bk" / "ota" / "images" / "planted").write_bytes(b"evil")
    else:
        victim.unlink()
    name = "ota/images/planted" if damage == "extra" else "ota/image/metadata/timestamp.json"
    target_db, target_ota = tmp_path / "target" / "db.sqlite", tmp_path / "target" / "ota"
    with pytest.raises(StoreError, match=name):
        backups.restore(tmp_path / "bk", f"sqlite:///{target_db}", ota_root=target_ota)
    assert not (tmp_path / "target").exists()


def test_a_target_in_use_is_refused_unless_forced(server: Server, tmp_path: Path) -> None:
    backups.backup(server.url, tmp_path / "bk", ota_root=server.ota)
    url = f"sqlite:///{tmp_path / 'other.db'}"
    with open_store(url) as store:
        add_vehicles(store, 2, prefix="LMDOT")
    ota = tmp_path / "ota"
    (ota / "keys").mkdir(parents=True)
    (ota / "keys" / "keys.json").write_text("{}")
    with pytest.raises(StoreError, match="already holds tables"):
        backups.restore(tmp_path / "bk", url, ota_root=ota)
    restored = backups.restore(tmp_path / "bk", url, ota_root=ota, force=True)
    assert restored.replaced and not restored.keys_restored
    with open_store(url) as store:
        assert vdb.count_vehicles(store) == VEHICLES
    assert (ota / "keys" / "keys.json").read_text() == "{}"  # the server's own keys survive
    assert (ota / "image" / "metadata" / "root.json").is_file()


def test_sqlite_backup_is_one_consistent_state_while_a_writer_writes(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Writer transactions of 100 rows each: the copy must hold whole transactions only, and finish."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    with open_store(url) as store:
        add_vehicles(store, 1)
        with store.session() as session:
            session.execute(text("INSERT INTO telemetry_events (vehicle_id, kind, at, value) "
                                 "SELECT 1, 'soc', '2026-11-01 00:00:00', x FROM (WITH RECURSIVE n(x) AS "
                                 "(SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 20000) SELECT x FROM n)"))
    monkeypatch.setattr(backups, "SQLITE_PAGES_PER_STEP", 16)  # many steps, so writes land in between
    stop = threading.Event()
    batches = [0]

    def writer() -> None:
        connection = sqlite3.connect(tmp_path / "busy.db", timeout=30)
        while not stop.is_set():
            with connection:
                connection.executemany("INSERT INTO telemetry_events (vehicle_id, kind, at, value) "
                                       "VALUES (1, 'soc', '2026-11-02 00:00:00', ?)", [(i,) for i in range(100)])
            batches[0] += 1
        connection.close()

    steps: list[int] = []
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while batches[0] < 3:
            stop.wait(0.01)
        before = batches[0]
        backups.backup(url, tmp_path / "bk", progress=lambda task, done, total: steps.append(done))
        during = batches[0] - before
    finally:
        stop.set()
        thread.join()
    copy = sqlite3.connect(tmp_path / "bk" / "database" / "evplatform.db")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    (rows,) = copy.execute("SELECT count(*) FROM telemetry_events").fetchone()
    copy.close()
    assert len(steps) > 10 and during > 0  # the copy was stepped and the writer was never blocked for long
    assert rows >= 20_000 + 300 and (rows - 20_000) % 100 == 0


@pytest.fixture
def scratch_postgres() -> Iterator[tuple[str, str]]:
    """Two scratch databases (source, target) created and dropped around the test."""
    admin = postgres_admin_url()
    run = uuid.uuid4().hex[:8]
    names = [f"evplatform_bk_{run}", f"evplatform_rs_{run}"]
    try:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # no server: skip with the reason
        pytest.skip(f"PostgreSQL not reachable: {str(error).splitlines()[0]}")
    try:
        source, target = (make_url(admin).set(database=n).render_as_string(hide_password=False) for n in names)
        yield source, target
    finally:
        with engine.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.mark.postgres
def test_postgres_backup_and_restore(scratch_postgres: tuple[str, str], tmp_path: Path) -> None:
    source_url, target_url = scratch_postgres
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore not installed")
    with open_store(source_url) as store:
        add_vehicles(store, 5)
    result = backups.backup(source_url, tmp_path / "bk")
    assert result.manifest["database"]["dialect"] == "postgresql"
    assert "pg_dump" in result.manifest["database"]["pg_dump_version"]
    restored = backups.restore(tmp_path / "bk", target_url)
    assert restored.dialect == "postgresql" and restored.ota_root is None
    with open_store(target_url) as store:
        assert vdb.count_vehicles(store) == 5
    with pytest.raises(StoreError, match="already holds tables"):
        backups.restore(tmp_path / "bk", target_url)
    with open_store(target_url) as store:
        add_vehicles(store, 1, prefix="LMDXT")
    backups.restore(tmp_path / "bk", target_url, force=True)
    with open_store(target_url) as store:
        assert vdb.count_vehicles(store) == 5


def test_missing_pg_dump_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(backups, "_revision", lambda url: None)
    with pytest.raises(StoreError, match="pg_dump not found on PATH"):
        backups.backup("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", tmp_path / "bk")
    assert not (tmp_path / "bk").exists() and not (tmp_path / "bk.partial").exists()


def test_a_backup_of_another_kind_of_database_is_refused(server: Server, tmp_path: Path) -> None:
    backups.backup(server.url, tmp_path / "bk")
    with pytest.raises(StoreError, match="holds a sqlite database"):
        backups.restore(tmp_path / "bk", "postgresql+psycopg://postgres@127.0.0.1:5432/nowhere")


@pytest.mark.parametrize("name", ["ota/../../escaped", "/etc/passwd", "ota//x", "ota/./x"])
def test_a_manifest_name_that_leaves_the_backup_is_refused(server: Server, tmp_path: Path, name: str) -> None:
    """The manifest is unsigned: a crafted name must not make restore write outside its target."""
    backups.backup(server.url, tmp_path / "bk", ota_root=server.ota)
    manifest_path = tmp_path / "bk" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][name] = {"sha256": "0" * 64, "bytes": 0}
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match="not a plain relative path"):
        backups.restore(tmp_path / "bk", f"sqlite:///{tmp_path / 'target' / 'db.sqlite'}", ota_root=tmp_path / "o")
    assert not (tmp_path / "target").exists() and not (tmp_path / "o").exists()


def test_a_missing_sqlite_file_is_an_error_not_an_empty_backup(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database file at"):
        backups.backup(f"sqlite:///{tmp_path / 'nowhere' / 'db.sqlite'}", tmp_path / "bk")
    assert not (tmp_path / "nowhere").exists() and not (tmp_path / "bk").exists()
