"""Issue 14 item 20 (the remainder): tokens expire by default and can be revoked one by one, `serve`
prints the admin token once, and two processes opening a new SQLite database do not race.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text
from typer.testing import CliRunner

from evplatform.api import create_app
from evplatform.cli.main import app as cli
from evplatform.clock import FixedClock
from evplatform.store import DEFAULT_TOKEN_LIFETIME, create_account, issue_token, open_store
from evplatform.store import vehicles as vdb
from store_fixtures import postgres_admin_url

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'accounts.db'}"


@pytest.fixture
def admin_token(db_url: str) -> str:
    """An admin's token issued at T0 with the default lifetime."""
    with open_store(db_url, clock=FixedClock(T0)) as store:
        create_account(store, "ada", "admin")
        return issue_token(store, "ada", label="laptop")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def client(db_url: str, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_app(None, db_url, clock=clock)) as test_client:
        yield test_client


def test_a_token_expires_by_default_on_the_servers_clock(
    client: TestClient, clock: FixedClock, admin_token: str
) -> None:
    assert timedelta(days=30) == DEFAULT_TOKEN_LIFETIME
    clock.advance(DEFAULT_TOKEN_LIFETIME - timedelta(minutes=1))
    assert client.get("/api/me", headers=bearer(admin_token)).status_code == 200
    clock.advance(timedelta(minutes=2))
    response = client.get("/api/me", headers=bearer(admin_token))
    assert response.status_code == 401 and response.json()["error"]["status"] == 401


def test_an_admin_revokes_one_token_by_id_and_it_stops_working_at_once(
    client: TestClient, db_url: str, admin_token: str
) -> None:
    with open_store(db_url, clock=FixedClock(T0)) as store:
        create_account(store, "rita", "release_manager")
        phone = issue_token(store, "rita", label="phone")
        laptop = issue_token(store, "rita", label="laptop")
    listed = client.get("/api/tokens", headers=bearer(admin_token)).json()["tokens"]
    assert all("token" not in t and "digest" not in t for t in listed)
    phone_id = next(t["id"] for t in listed if (t["account"], t["label"]) == ("rita", "phone"))
    assert client.post(f"/api/tokens/{phone_id}/revoke", headers=bearer(laptop)).status_code == 403  # not an admin
    done = client.post(f"/api/tokens/{phone_id}/revoke", headers=bearer(admin_token))
    assert done.status_code == 200 and done.json() == {"revoked": [phone_id]}
    assert client.get("/api/me", headers=bearer(phone)).status_code == 401
    assert client.get("/api/me", headers=bearer(laptop)).status_code == 200  # only that one
    again = client.post(f"/api/tokens/{phone_id}/revoke", headers=bearer(admin_token))
    assert again.status_code == 404


def test_the_cli_issues_lists_and_revokes_tokens_by_label(client: TestClient, db_url: str, admin_token: str) -> None:
    runner = CliRunner()
    issued = runner.invoke(cli, ["accounts", "token", "issue", "ada", "--label", "ci", "--days", "2",
                                 "--database", db_url, "--json"])
    assert issued.exit_code == 0, issued.output
    ci = json.loads(issued.stdout)
    created, expires = datetime.fromisoformat(ci["created_at"]), datetime.fromisoformat(ci["expires_at"])
    assert expires - created == timedelta(days=2)
    assert client.get("/api/me", headers=bearer(ci["token"])).status_code == 200
    revoked = runner.invoke(cli, ["accounts", "token", "revoke", "--account", "ada", "--label", "ci",
                                  "--database", db_url, "--json"])
    assert revoked.exit_code == 0 and json.loads(revoked.stdout) == {"revoked": [ci["id"]]}
    listed = runner.invoke(cli, ["accounts", "token", "list", "--database", db_url, "--json"])
    states = {t["label"]: t["revoked"] for t in json.loads(listed.stdout)["tokens"]}
    assert states == {"laptop": False, "ci": True}
    assert client.get("/api/me", headers=bearer(ci["token"])).status_code == 401
    assert client.get("/api/me", headers=bearer(admin_token)).status_code == 200


def test_serve_prints_the_admin_token_once(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    token_file = tmp_path / "root.token"
    args = ["serve", "--database", db_url, "--create-admin", "root", "--token-file", str(token_file)]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    token = token_file.read_text().strip()
    assert token in first.stdout.replace("\n", "")
    for _ in range(2):
        later = CliRunner().invoke(cli, args)
        assert later.exit_code == 0, later.output
        assert token not in later.stdout.replace("\n", "") and str(token_file) in later.stdout.replace("\n", "")
    as_json = CliRunner().invoke(cli, [*args, "--json"])
    assert json.loads(as_json.stdout)["admin"]["token"] is None


def _import(csv: Path, url: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "evplatform", "fleet", "import", str(csv), "--database", url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=dict(os.environ))


def test_two_imports_on_a_new_sqlite_file_do_not_race(tmp_path: Path) -> None:
    """Both processes find the database empty; before the lock, the slower one failed on
    "table accounts already exists" in about every second try, and then on the market and
    configuration rows both inserted."""
    rows = {"a": "LMDAB100000000001,su7,max,DE\n", "b": "LMDAB100000000002,su7,max,DE\n"}  # one configuration
    csvs = {}
    for name, row in rows.items():
        csvs[name] = tmp_path / f"{name}.csv"
        csvs[name].write_text("vin,model,trim,market\n" + row)
    for attempt in range(6):
        url = f"sqlite:///{tmp_path / f'fleet-{attempt}.db'}"
        processes = [_import(csv, url, tmp_path) for csv in csvs.values()]
        outcomes: list[Any] = []
        for process in processes:
            out, err = process.communicate(timeout=300)
            outcomes.append((process.returncode, out, err))
        assert all(code == 0 for code, _, _ in outcomes), outcomes
        with open_store(url) as store:
            assert vdb.count_vehicles(store) == 2


def _open_at_once(url: str, processes: int = 3) -> list[tuple[int, str]]:
    """Open (and so migrate) the database from several processes started together."""
    code = f"from evplatform.store import open_store; open_store({url!r}).dispose()"
    started = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, env=dict(os.environ))
               for _ in range(processes)]
    return [(p.wait(timeout=300), p.communicate()[1]) for p in started]


@pytest.mark.postgres
def test_processes_migrating_a_new_postgresql_database_do_not_race() -> None:
    """The same race on PostgreSQL (measured before the advisory lock: 6 of 9 processes failed)."""
    admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver or network failure means "no server"
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable: {str(error).splitlines()[0]}")
    try:
        for _ in range(3):
            name = f"evplatform_race_{uuid.uuid4().hex[:10]}"
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(postgres_admin_url()).set(database=name).render_as_string(hide_password=False)
                outcomes = _open_at_once(url)
                assert all(code == 0 for code, _ in outcomes), outcomes
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
