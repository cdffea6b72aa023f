"""`evplatform dataact`: the EU Data Act portal from the command line — data recipients, owners,
consents (grant, revoke), exports, the access log, webhook delivery and retention per category.

The owner-side commands act as the named owner (``--owner``), as an operator would on an owner's
documented request; the owners' own way in is the portal (``/owner``) and ``/api/owner``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evplatform.apps.manifest import load_apps
from evplatform.apps.model import AppCatalogue
from evplatform.cli.common import JsonOpt, console, print_json
from evplatform.dataact import analytics, portal, webhooks
from evplatform.errors import NotFoundError
from evplatform.store import Store, default_database_url, open_store
from evplatform.store import dataact as db
from evplatform.workspace import load_workspace

dataact_app = typer.Typer(help="EU Data Act: owners, data recipients, consents, exports, access log.",
                          no_args_is_help=True)

DatabaseOpt = Annotated[str | None, typer.Option("--database", help="Database URL (default: EVPLATFORM_DATABASE_URL "
                                                                    "or ./.evplatform/).")]
WorkspaceOpt = Annotated[Path | None, typer.Option("--workspace", help="Workspace folder (default: the bundled demo).")]
OwnerOpt = Annotated[str, typer.Option("--owner", help="The owner account acting.")]


def _catalogue(workspace: Path | None) -> AppCatalogue:
    return load_apps(load_workspace(workspace))


def _owner(store: Store, name: str) -> db.OwnerInfo:
    found = next((db.OwnerInfo(i, n) for i, n in _owner_rows(store) if n == name), None)
    if found is None:
        raise NotFoundError("owner", name)
    return found


def _owner_rows(store: Store) -> list[tuple[int, str]]:
    return [(o.id, o.name) for o in db.list_owners(store)]


@dataact_app.command("recipients")
def recipients(add: Annotated[str | None, typer.Option("--add", help="Register a recipient (its client id).")] = None,
               name: Annotated[str, typer.Option("--name", help="The new recipient's display name.")] = "",
               database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """Registered data recipients (OAuth clients); ``--add ID --name N`` registers one (secret shown once)."""
    with open_store(database or default_database_url()) as store:
        secret = None
        if add is not None:
            _info, secret = db.register_recipient(store, add, name or add)
        rows = db.list_recipients(store)
    data: dict[str, object] = {"recipients": [{"client_id": r.client_id, "name": r.name, "disabled": r.disabled}
                                              for r in rows]}
    if secret is not None:
        data["registered"] = {"client_id": add, "client_secret": secret}
    if as_json:
        print_json(data)
        return
    for r in rows:
        console.print(f"{r.client_id}  {r.name}{'  (disabled)' if r.disabled else ''}")
    if secret is not None:
        console.print(f"client secret of {add} (shown once): {secret}")


@dataact_app.command("owner")
def owner(name: Annotated[str, typer.Argument(help="Owner account name.")],
          vin: Annotated[list[str] | None, typer.Option("--vin", help="A vehicle the owner owns (repeatable).")] = None,
          database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """Create an owner (when new), record the vehicles they own and issue a sign-in token (shown once)."""
    with open_store(database or default_database_url()) as store:
        if name not in {n for _, n in _owner_rows(store)}:
            db.create_owner(store, name)
        for one in vin or []:
            db.assign_vehicle(store, name, one)
        token = db.issue_owner_token(store, name)
        vins = db.owned_vins(store, _owner(store, name).id)
    if as_json:
        print_json({"owner": name, "vins": vins, "token": token})
        return
    console.print(f"owner {name} owns {', '.join(vins) or 'no vehicle'}; sign-in token (shown once): {token}")


@dataact_app.command("grant")
def grant(owner: OwnerOpt, vin: Annotated[str, typer.Option("--vin", help="The vehicle.")],
          recipient: Annotated[str, typer.Option("--recipient", help="The data recipient's client id.")],
          category: Annotated[list[str], typer.Option("--category", help="A data category (repeatable).")],
          days: Annotated[int, typer.Option("--days", help="How long the consent lasts, in days.")] = 30,
          workspace: WorkspaceOpt = None, database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """Grant a recipient access to categories of one vehicle for a period (logged)."""
    cat = _catalogue(workspace)
    with open_store(database or default_database_url()) as store:
        made = portal.grant(store, cat, _owner(store, owner), vin=vin, recipient=recipient, categories=category,
                            days=days)
        data = portal.grant_dict(made, store.now())
    if as_json:
        print_json(data)
        return
    console.print(f"grant {made.id}: {recipient} may read {', '.join(made.categories)} of {vin} "
                  f"until {made.expires_at:%Y-%m-%d %H:%M} UTC")


@dataact_app.command("revoke")
def revoke(grant_id: Annotated[int, typer.Argument(help="The grant's id.", min=1)], owner: OwnerOpt,
           database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """Revoke a consent now (the recipient's next read is refused)."""
    with open_store(database or default_database_url()) as store:
        done = portal.revoke(store, _owner(store, owner), grant_id)
        data = portal.grant_dict(done, store.now())
    if as_json:
        print_json(data)
        return
    console.print(f"grant {done.id} revoked: {done.recipient} can no longer read {done.vin}")


@dataact_app.command("grants")
def grants(owner: OwnerOpt, database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """The owner's consents, newest first."""
    with open_store(database or default_database_url()) as store:
        now = store.now()
        rows = [portal.grant_dict(g, now) for g in db.grants(store, owner_id=_owner(store, owner).id)]
    if as_json:
        print_json({"grants": rows})
        return
    for g in rows:
        console.print(f"{g['id']}  {g['vin']}  {g['recipient']}  {','.join(g['categories'])}  "
                      f"until {g['expires_at']}  {'live' if g['live'] else 'ended'}")


@dataact_app.command("export")
def export(vin: Annotated[str, typer.Argument(help="The vehicle.")], owner: OwnerOpt,
           fmt: Annotated[str, typer.Option("--format", help="json or csv.")] = "json",
           output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
           workspace: WorkspaceOpt = None, database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """Everything stored of an owned vehicle, as JSON or CSV (logged as an export)."""
    cat = _catalogue(workspace)
    with open_store(database or default_database_url()) as store:
        text = portal.export(store, cat, _owner(store, owner), vin, "json" if as_json else fmt)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")
    else:
        typer.echo(text, nl=not text.endswith("\n"))


@dataact_app.command("log")
def log(owner: OwnerOpt, limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 200,
        database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """The access log of the owner's vehicles, newest first."""
    with open_store(database or default_database_url()) as store:
        entries = [portal.log_dict(e) for e in db.access_log(store, db.owned_vins(store, _owner(store, owner).id),
                                                            limit)]
    if as_json:
        print_json({"entries": entries})
        return
    for e in entries:
        console.print(f"{e['at']}  {e['vin']}  {e['actor']}  {e['action']}  {','.join(e['categories'])}")


@dataact_app.command("deliver")
def deliver(database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """Attempt the due webhook deliveries once (run it from a timer); prints the counts."""
    with open_store(database or default_database_url()) as store:
        counts = webhooks.deliver_due(store)
        dead = len(webhooks.dead_letters(store))
    if as_json:
        print_json({**counts, "dead_letters": dead})
        return
    console.print(", ".join(f"{v} {k}" for k, v in counts.items()) + f"; {dead} in the dead-letter list")


@dataact_app.command("retention")
def retention(workspace: WorkspaceOpt = None, database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """Delete telemetry older than its data category's retention (the store policy's retention_days)."""
    cat = _catalogue(workspace)
    with open_store(database or default_database_url()) as store:
        done = analytics.apply_retention(store, cat)
    if as_json:
        print_json({"deleted": done})
        return
    for category, count in done.items():
        console.print(f"{category}: {count:,} events deleted")


def register(app: typer.Typer) -> None:
    app.add_typer(dataact_app, name="dataact")
