"""Issue 16 §6: CLI parity for administration — `accounts role`, `accounts audit`, and `--as` on every
accounts write (the actor the audit log records)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evplatform.cli.accounts import Role, parse_since
from evplatform.cli.main import app as cli
from evplatform.errors import ConflictError, InvalidValueError
from evplatform.store import ROLES, AuditQuery, audit_log, open_store


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'accounts.db'}"


def _run(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_role_choices_are_the_stores_roles_and_listed_in_help() -> None:
    assert tuple(Role) == ROLES
    help_text = CliRunner().invoke(cli, ["accounts", "role", "--help"], terminal_width=200).stdout
    assert "viewer|engineer|release_manager|admin" in help_text and "--as" in help_text


def test_writes_record_the_actor_from_as_the_environment_or_cli(database: str) -> None:
    _run("accounts", "create", "ada", "--role", "admin", "--database", database, "--as", "root")
    _run("accounts", "create", "bob", "--database", database, env={"EVPLATFORM_ACTOR": "ops-ann"})
    issued = json.loads(_run("accounts", "token", "issue", "bob", "--label", "ci", "--database", database,
                             "--as", "ada", "--json"))
    _run("accounts", "token", "revoke", str(issued["id"]), "--database", database, "--as", "ada")
    _run("accounts", "role", "bob", "engineer", "--database", database)
    with open_store(database) as store:
        actors = [(e.action, e.actor) for e in reversed(audit_log(store))]
    assert actors == [("account.create", "root"), ("account.create", "ops-ann"), ("token.issue", "ada"),
                      ("token.revoke", "ada"), ("account.role", "cli")]


def test_an_empty_or_unprintable_actor_is_refused(database: str) -> None:
    for name in ("", "a\nb", "x" * 129):
        result = CliRunner().invoke(cli, ["accounts", "create", "bob", "--database", database, "--as", name])
        assert result.exit_code == 2 and "--as" in result.output, name


def test_role_changes_and_the_last_admin_is_kept(database: str) -> None:
    _run("accounts", "create", "ada", "--role", "admin", "--database", database)
    _run("accounts", "create", "eve", "--role", "viewer", "--database", database)
    changed = json.loads(_run("accounts", "role", "eve", "release_manager", "--database", database, "--as", "ada",
                              "--json"))
    assert changed == {"name": "eve", "role": "release_manager", "disabled": False}
    refused = CliRunner().invoke(cli, ["accounts", "role", "ada", "viewer", "--database", database])
    assert refused.exit_code == 1 and isinstance(refused.exception, ConflictError)
    assert "last admin" in str(refused.exception)
    unknown = CliRunner().invoke(cli, ["accounts", "role", "eve", "root", "--database", database])
    assert unknown.exit_code == 2  # not a choice
    listed = json.loads(_run("accounts", "list", "--database", database, "--json"))["accounts"]
    assert {a["name"]: a["role"] for a in listed} == {"ada": "admin", "eve": "release_manager"}


def test_audit_filters_by_who_action_and_since(database: str) -> None:
    _run("accounts", "create", "ada", "--role", "admin", "--database", database, "--as", "root")
    _run("accounts", "token", "issue", "ada", "--database", database, "--as", "ada")
    _run("accounts", "token", "issue", "ada", "--database", database, "--as", "root")
    everything = json.loads(_run("accounts", "audit", "--database", database, "--json"))
    assert everything["total"] == 3
    mine = json.loads(_run("accounts", "audit", "--who", "root", "--action", "token", "--database", database,
                           "--json"))
    assert [(e["actor"], e["action"]) for e in mine["entries"]] == [("root", "token.issue")] and mine["total"] == 1
    recent = json.loads(_run("accounts", "audit", "--since", "1h", "--database", database, "--json"))
    assert recent["total"] == 3
    future = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert json.loads(_run("accounts", "audit", "--since", future, "--database", database, "--json"))["total"] == 0
    assert json.loads(_run("accounts", "audit", "--until", "1h", "--database", database, "--json"))["total"] == 0
    assert json.loads(_run("accounts", "audit", "--until", future, "--database", database, "--json"))["total"] == 3
    text = _run("accounts", "audit", "--who", "ada", "--database", database)
    assert "token.issue" in text and "1 of 1 matching entries" in text
    with open_store(database) as store:
        assert len(audit_log(store, query=AuditQuery(actor="root"))) == 2


def test_since_reads_iso_times_and_spans() -> None:
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("30m", now) == now - timedelta(minutes=30)
    assert parse_since("2026-12-01", now) == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_since("2026-12-01T08:00+01:00", now) == datetime(2026, 12, 1, 7, tzinfo=UTC)
    with pytest.raises(InvalidValueError, match="yesterday"):
        parse_since("yesterday", now)
