"""`evplatform accounts`: operator accounts, their roles and bearer tokens (issue, list, revoke), the audit log.

Tokens expire after 30 days unless ``--days`` says otherwise (``--no-expiry`` must be asked for);
a lost or leaked token is revoked by its id, or by its account and label, and stops working at once.
Every write records who did it (``--as``, see ``cli.actor``) in the audit log; the last enabled
admin cannot be demoted (``store.set_role``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

import typer

from evplatform.cli.actor import DEFAULT_ACTOR, ActorOpt
from evplatform.cli.common import JsonOpt, console, print_json
from evplatform.errors import InvalidValueError, StoreError
from evplatform.store import (
    DEFAULT_TOKEN_LIFETIME,
    AuditQuery,
    audit_log,
    count_audit,
    create_account,
    default_database_url,
    issue_token_record,
    list_accounts,
    list_tokens,
    open_store,
    revoke_token,
    set_role,
)


class Role(StrEnum):
    """The store's roles (``store.ROLES``, least privileged first) as choices --help lists."""

    viewer = "viewer"
    engineer = "engineer"
    release_manager = "release_manager"
    admin = "admin"

accounts_app = typer.Typer(help="Operator accounts and their bearer tokens.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens: issue, list, revoke.", no_args_is_help=True)
accounts_app.add_typer(token_app, name="token")

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: EVPLATFORM_DATABASE_URL or ./.evplatform/)."),
]


@accounts_app.command("list")
def list_command(database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """Every account with its role."""
    with open_store(database or default_database_url()) as store:
        accounts = list_accounts(store)
    if as_json:
        print_json({"accounts": [{"name": a.name, "role": a.role, "disabled": a.disabled} for a in accounts]})
        return
    for a in accounts:
        console.print(f"{a.name}  {a.role}{'  (disabled)' if a.disabled else ''}")


@accounts_app.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="Account name.")],
    role: Annotated[Role, typer.Option("--role", help="The account's role.")] = Role.viewer,
    database: DatabaseOpt = None,
    actor: ActorOpt = DEFAULT_ACTOR,
    as_json: JsonOpt = False,
) -> None:
    """A new operator account (no token yet: `accounts token issue`)."""
    with open_store(database or default_database_url()) as store:
        account = create_account(store, name, str(role), actor=actor)
    if as_json:
        print_json({"name": account.name, "role": account.role})
    else:
        console.print(f"created {account.name} ({account.role})")


@token_app.command("issue")
def issue_command(
    name: Annotated[str, typer.Argument(help="Account name.")],
    label: Annotated[str, typer.Option("--label", help="What the token is for (revoke by it later).")] = "",
    days: Annotated[float, typer.Option("--days", min=0.001, max=3650,
                                        help="Days until it expires.")] = DEFAULT_TOKEN_LIFETIME.days,
    no_expiry: Annotated[bool, typer.Option("--no-expiry", help="A token that never expires (not advised).")] = False,
    database: DatabaseOpt = None,
    actor: ActorOpt = DEFAULT_ACTOR,
    as_json: JsonOpt = False,
) -> None:
    """A new bearer token, printed once (only its digest is stored)."""
    lifetime = None if no_expiry else timedelta(days=days)
    with open_store(database or default_database_url()) as store:
        token, info = issue_token_record(store, name, label=label, lifetime=lifetime, actor=actor)
    if as_json:
        print_json({**info.to_dict(), "token": token})
    else:
        until = info.expires_at.isoformat() if info.expires_at else "never"
        console.print(f"token {info.id} for {name} (expires {until}); shown once: [bold]{token}[/]", soft_wrap=True)


@token_app.command("list")
def tokens_command(
    account: Annotated[str | None, typer.Option("--account", help="Only this account's tokens.")] = None,
    database: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every token: id, account, label, created, expires, revoked (never the token itself)."""
    with open_store(database or default_database_url()) as store:
        tokens = list_tokens(store, account)
    if as_json:
        print_json({"tokens": [t.to_dict() for t in tokens]})
        return
    for t in tokens:
        until = t.expires_at.isoformat(timespec="minutes") if t.expires_at else "never"
        state = "revoked" if t.revoked else f"expires {until}"
        console.print(f"{t.id:>5}  {t.account}  {t.label or '-'}  created {t.created_at:%Y-%m-%d}  {state}")


@token_app.command("revoke")
def revoke_command(
    token_id: Annotated[int | None, typer.Argument(help="Id of the token (see `accounts token list`).")] = None,
    account: Annotated[str | None, typer.Option("--account", help="With --label: that account's tokens.")] = None,
    label: Annotated[str | None, typer.Option("--label", help="Revoke the account's live tokens so labelled.")] = None,
    database: DatabaseOpt = None,
    actor: ActorOpt = DEFAULT_ACTOR,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a token now: by id, or by --account and --label."""
    if (token_id is None) == (label is None):
        raise StoreError("give a token id, or --account and --label")
    with open_store(database or default_database_url()) as store:
        ids = revoke_token(store, token_id=token_id, account_name=account, label=label, actor=actor)
    if as_json:
        print_json({"revoked": ids})
    else:
        console.print(f"revoked token(s) {', '.join(map(str, ids))}")


@accounts_app.command("role")
def role_command(
    name: Annotated[str, typer.Argument(help="Account name.")],
    role: Annotated[Role, typer.Argument(help="The new role.")],
    database: DatabaseOpt = None,
    actor: ActorOpt = DEFAULT_ACTOR,
    as_json: JsonOpt = False,
) -> None:
    """Give an account another role (audit-logged); the last enabled admin cannot be demoted."""
    with open_store(database or default_database_url()) as store:
        account = set_role(store, name, str(role), actor=actor)
    if as_json:
        print_json({"name": account.name, "role": account.role, "disabled": account.disabled})
    else:
        console.print(f"{account.name} is now {account.role}")


_RELATIVE = re.compile(r"^(\d{1,6})([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str, now: datetime) -> datetime:
    """An ISO 8601 date or time (UTC when it names no zone), or a span back from ``now``: 30m, 24h, 7d."""
    relative = _RELATIVE.match(text.strip())
    if relative:
        return now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidValueError(f"--since {text!r}: give an ISO date or time (2026-12-01, 2026-12-01T08:00Z) "
                                "or a span such as 30m, 24h, 7d") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@accounts_app.command("audit")
def audit_command(
    who: Annotated[str | None, typer.Option("--who", help="Only what this account (actor) did.")] = None,
    action: Annotated[str | None, typer.Option(
        "--action", help="An action, or a dotted prefix: 'token' finds token.issue and token.revoke.")] = None,
    since: Annotated[str | None, typer.Option(
        "--since", help="From this time on: ISO date/time (UTC without a zone) or 30m, 24h, 7d back.")] = None,
    until: Annotated[str | None, typer.Option(
        "--until", help="Before this time (excluded), in the same forms as --since.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="At most this many, newest first.")] = 100,
    database: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The audit log, newest first: who did what to which thing, when."""
    with open_store(database or default_database_url()) as store:
        now = store.now()
        query = AuditQuery(actor=who, action=action, since=None if since is None else parse_since(since, now),
                           until=None if until is None else parse_since(until, now))
        entries, total = audit_log(store, limit=limit, query=query), count_audit(store, query)
    if as_json:
        print_json({"entries": [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                                 "subject": e.subject, "detail": e.detail} for e in entries], "total": total})
        return
    for e in entries:
        console.print(f"{e.at:%Y-%m-%d %H:%M:%S}Z  {e.actor}  {e.action}  {e.subject}", markup=False, highlight=False)
    console.print(f"{len(entries):,} of {total:,} matching entries", style="dim")


def register(app: typer.Typer) -> None:
    app.add_typer(accounts_app, name="accounts")
