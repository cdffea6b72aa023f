"""`evplatform dataact … --json`: register a recipient, an owner with a vehicle, grant, revoke, export, log."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from evplatform.cli.main import app
from evplatform.fleet import build_demo_database
from evplatform.store import open_store
from evplatform.store import vehicles as vdb


def _run(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["dataact", *args, "--json"])
    assert result.exit_code == 0, result.output
    loaded: dict[str, object] = json.loads(result.output)
    return loaded


def test_grant_revoke_export_and_log_from_the_cli(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    build_demo_database(url, vehicles=10)
    with open_store(url) as store:
        vins = [v.vin for v in vdb.list_vehicles(store, limit=10)]
        vin = next(v for v, ok in vdb.telemetry_consent(store, vins).items() if ok)
    registered = _run("recipients", "--add", "insurer", "--name", "Insurer", "--database", url)
    assert registered["registered"]["client_id"] == "insurer"  # type: ignore[index]
    owner = _run("owner", "alice", "--vin", vin, "--database", url)
    assert owner["vins"] == [vin] and owner["token"]
    grant = _run("grant", "--owner", "alice", "--vin", vin, "--recipient", "insurer", "--category",
                 "driving_behaviour", "--days", "7", "--database", url)
    assert grant["live"] is True and grant["categories"] == ["driving_behaviour"]
    revoked = _run("revoke", str(grant["id"]), "--owner", "alice", "--database", url)
    assert revoked["live"] is False and revoked["revoked_at"]
    exported = _run("export", vin, "--owner", "alice", "--database", url)
    assert exported["vin"] == vin and all(v["vin"] == vin for v in exported["values"])  # type: ignore[attr-defined]
    log = _run("log", "--owner", "alice", "--database", url)
    assert [e["action"] for e in log["entries"]] == ["export", "revoke", "grant"]  # type: ignore[attr-defined]


def test_a_grant_of_an_unknown_category_fails_naming_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    build_demo_database(url, vehicles=5)
    with open_store(url) as store:
        vin = vdb.list_vehicles(store, limit=1)[0].vin
    _run("recipients", "--add", "insurer", "--database", url)
    _run("owner", "bob", "--vin", vin, "--database", url)
    result = CliRunner().invoke(app, ["dataact", "grant", "--owner", "bob", "--vin", vin, "--recipient", "insurer",
                                      "--category", "dna", "--database", url])
    assert result.exit_code != 0 and "dna" in str(result.exception)  # `evplatform` prints it as "error: …", exit 1
