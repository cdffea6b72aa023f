"""Issue 18 §6: `evplatform backup | restore | migrate | retention` with --json, and their refusals."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from evplatform.cli.main import app as cli
from evplatform.errors import StoreError
from evplatform.store import current_revision, head_revision, open_store
from evplatform.store import vehicles as vdb
from evplatform.store.migrate import MIGRATIONS, downgrade


def _run(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    loaded: dict[str, object] = json.loads(result.stdout)
    return loaded


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'server' / 'evplatform.db'}"
    with open_store(url) as store:
        (config,) = vdb.configuration_ids(store, [frozenset({"A"})]).values()
        vdb.insert_vehicles(store, [{
            "vin": "LMDCLIOPS00000001", "model": "m", "trim": "t", "market": "CN", "timezone": "UTC",
            "configuration_id": config, "hardware_ids": {}, "software": {}, "rxswin": {}, "consent_telemetry": True,
            "consent_updates": True, "registered_at": store.now() - timedelta(days=90),
        }])
        (vehicle,) = vdb.vehicle_ids(store, ["LMDCLIOPS00000001"]).values()
        vdb.insert_telemetry(store, [{"vehicle_id": vehicle, "kind": "soc", "at": store.now() - timedelta(days=d),
                                      "value": 50.0} for d in (1, 2, 40, 50, 60)])
    return url


@pytest.fixture
def ota(tmp_path: Path) -> Path:
    """An OTA folder's shape (the backup copies files; it does not open the repositories)."""
    root = tmp_path / "server" / "ota"
    for name, data in {"image/metadata/root.json": "{}", "director/metadata/root.json": "{}",
                       "images/" + "a" * 64: "image", "keys/keys.json": "secret"}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(data)
    return root


def test_backup_and_restore_json(database: str, ota: Path, tmp_path: Path) -> None:
    made = _run("backup", str(tmp_path / "bk"), "--database", database, "--ota-root", str(ota), "--json")
    assert made["files"] == 4 and made["keys_included"] is False
    assert made["database"]["revision"] == head_revision()  # type: ignore[index]
    restored_url = f"sqlite:///{tmp_path / 'new' / 'db.sqlite'}"
    done = _run("restore", str(tmp_path / "bk"), "--database", restored_url, "--ota-root",
                str(tmp_path / "new" / "ota"), "--json")
    assert done["files"] == 4 and done["revision"] == head_revision() and done["replaced"] == []
    assert (tmp_path / "new" / "ota" / "images" / ("a" * 64)).read_text() == "image"
    assert not (tmp_path / "new" / "ota" / "keys").exists()
    with open_store(restored_url) as store:
        assert vdb.count_vehicles(store) == 1


def test_include_keys_says_so_loudly(database: str, ota: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["backup", str(tmp_path / "bk"), "--database", database, "--ota-root", str(ota),
                                      "--include-keys", "--json"])
    assert result.exit_code == 0, result.output
    assert "ONLINE SIGNING KEYS" in result.stderr and json.loads(result.stdout)["keys_included"] is True
    assert (tmp_path / "bk" / "ota" / "keys" / "keys.json").read_text() == "secret"
    assert (tmp_path / "bk").stat().st_mode & 0o777 == 0o700


def test_restore_of_a_tampered_backup_is_refused(database: str, ota: Path, tmp_path: Path) -> None:
    _run("backup", str(tmp_path / "bk"), "--database", database, "--ota-root", str(ota), "--json")
    (tmp_path / "bk" / "ota" / "director" / "metadata" / "root.json").write_text('{"x": 1}')
    result = CliRunner().invoke(cli, ["restore", str(tmp_path / "bk"), "--database",
                                      f"sqlite:///{tmp_path / 'new' / 'db.sqlite'}", "--ota-root",
                                      str(tmp_path / "new" / "ota"), "--json"])
    assert isinstance(result.exception, StoreError)
    assert "ota/director/metadata/root.json does not match the manifest" in str(result.exception)
    assert not (tmp_path / "new").exists() and result.stdout == ""


def test_migrate_json_from_an_older_revision(database: str) -> None:
    with open_store(database) as store:
        downgrade(store, "0004")
    done = _run("migrate", "--database", database, "--json")
    assert (done["from"], done["to"], done["ran"]) == ("0004", head_revision(), True)
    script = ScriptDirectory(str(MIGRATIONS))  # every migration after 0004, in order (numbers may skip)
    after = [r.revision for r in reversed(list(script.iterate_revisions(head_revision(), "0004")))]
    assert after and after[0] == "0005"
    assert [s["revision"] for s in done["applied"]] == after  # type: ignore[attr-defined]
    with open_store(database, migrate=False) as store:
        assert current_revision(store) == head_revision()
    assert _run("migrate", "--database", database, "--json")["applied"] == []


def test_retention_json_dry_run_then_real(database: str) -> None:
    dry = _run("retention", "--keep-telemetry-days", "30", "--dry-run", "--database", database, "--json")
    assert (dry["total"], dry["per_kind"], dry["dry_run"]) == (3, {"soc": 3}, True)
    real = _run("retention", "--keep-telemetry-days", "30", "--database", database, "--batch", "2", "--json")
    assert (real["total"], real["batches"], real["dry_run"]) == (3, 2, False)
    assert _run("retention", "--keep-telemetry-days", "30", "--database", database, "--json")["total"] == 0
    refused = CliRunner().invoke(cli, ["retention", "--keep-telemetry-days", "0", "--database", database])
    assert refused.exit_code == 2 and "0" in refused.output
