"""`evplatform accounts`: operator accounts and their bearer tokens (issue, list, revoke).

Tokens expire after 30 days unless ``--days`` says otherwise (``--no-expiry`` must be asked for);
a lost or leaked token is revoked by its id, or by its account and label, and stops working at once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from evplatform.cli.common import JsonOpt, console, print_json
from evplatform.errors import StoreError
from evplatform.store import (
    DEFAULT_TOKEN_LIFETIME,
    ROLES,
    create_account,
    default_database_url,
    issue_token,
    list_accounts,
    list_tokens,
    open_store,
    revoke_token,
)

accounts_app = typer.Typer(help="Operator accounts and their bearer tokens.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens: issue, list, revoke.", no_args_is_help=True)
accounts_app.add_typer(token_app, name="token")

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: EVPLATFORM_DATABASE_URL or ./.evplatform/)."),
]
ACTOR = "cli"


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
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")] = "viewer",
    database: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A new operator account (no token yet: `accounts token issue`)."""
    with open_store(database or default_database_url()) as store:
        account = create_account(store, name, role, actor=ACTOR)
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
    as_json: JsonOpt = False,
) -> None:
    """A new bearer token, printed once (only its digest is stored)."""
    lifetime = None if no_expiry else timedelta(days=days)
    with open_store(database or default_database_url()) as store:
        token = issue_token(store, name, label=label, lifetime=lifetime, actor=ACTOR)
        info = list_tokens(store, name)[-1]
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
    as_json: JsonOpt = False,
) -> None:
    """Revoke a token now: by id, or by --account and --label."""
    if (token_id is None) == (label is None):
        raise StoreError("give a token id, or --account and --label")
    with open_store(database or default_database_url()) as store:
        ids = revoke_token(store, token_id=token_id, account_name=account, label=label, actor=ACTOR)
    if as_json:
        print_json({"revoked": ids})
    else:
        console.print(f"revoked token(s) {', '.join(map(str, ids))}")


def register(app: typer.Typer) -> None:
    app.add_typer(accounts_app, name="accounts")
