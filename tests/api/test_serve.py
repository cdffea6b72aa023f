"""`evplatform serve` and its first sign-in: the admin account, its token file, an unreachable database."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evplatform.api.bootstrap import ensure_admin
from evplatform.cli.main import app as cli
from evplatform.errors import StoreError
from evplatform.store import Store, account_for_token, create_account


def test_ensure_admin_creates_once_and_reuses_the_token(store: Store, tmp_path: Path) -> None:
    token_file = tmp_path / "keys" / "admin.token"
    first = ensure_admin(store, "admin", token_file)
    assert first.created
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    account = account_for_token(store, first.token)
    assert account is not None and (account.name, account.role) == ("admin", "admin")
    again = ensure_admin(store, "admin", token_file)
    assert (again.token, again.created) == (first.token, False)
    token_file.unlink()
    renewed = ensure_admin(store, "admin", token_file)
    assert renewed.created and renewed.token != first.token
    assert account_for_token(store, renewed.token) is not None


def test_ensure_admin_refuses_a_non_admin_account(store: Store, tmp_path: Path) -> None:
    create_account(store, "ann", "viewer")
    with pytest.raises(StoreError, match="account 'ann' exists with role viewer, not admin"):
        ensure_admin(store, "ann", tmp_path / "ann.token")


def test_serve_prints_the_url_and_token_then_runs_uvicorn(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    result = CliRunner().invoke(cli, ["serve", "--database", db_url, "--port", "8123", "--create-admin", "root",
                                      "--token-file", str(tmp_path / "root.token"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["url"] == "http://127.0.0.1:8123"
    assert data["admin"]["token"] == (tmp_path / "root.token").read_text().strip()
    assert calls[0]["port"] == 8123 and calls[0]["host"] == "127.0.0.1"
    assert calls[0]["app"].state.context.database_url == db_url


def test_serve_with_an_unreachable_database_stops_with_one_line() -> None:
    result = CliRunner().invoke(cli, ["serve", "--database", "postgresql+psycopg://nobody@127.0.0.1:1/none"])
    assert result.exit_code != 0
    assert isinstance(result.exception, StoreError)
    assert "cannot reach the database postgresql+psycopg://nobody@127.0.0.1:1/none" in str(result.exception)
