"""`evplatform fleet vehicles` and `evplatform fleet groups …`: the fleet list by filter query, saved groups.

Both call ``fleet.listing`` and ``fleet.groups`` (the same code as ``/api/fleet/vehicles`` and
``/api/fleet/groups``); ``attach`` adds them to the ``fleet`` command group of ``cli.fleet``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.table import Table

from evplatform.cli.common import JsonOpt, WorkspaceArg, console, print_json
from evplatform.errors import FleetError
from evplatform.fleet import groups as fg
from evplatform.fleet import listing
from evplatform.service.fleet_views import group_view, page_view
from evplatform.store import Store, default_database_url, open_store
from evplatform.workspace import Workspace, load_workspace

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: EVPLATFORM_DATABASE_URL or the workspace's .evplatform/)."),
]
QueryOpt = Annotated[str, typer.Option("--query", "-q", help="A fleet filter query (README: Fleet filter queries).")]
SortOpt = Annotated[str, typer.Option("--sort", help=f"Sort by: {', '.join(listing.SORTS)}.")]
DescOpt = Annotated[bool, typer.Option("--desc", help="Sort descending.")]
PageOpt = Annotated[int, typer.Option("--page", min=1, max=1_000_000, help="Page number, from 1.")]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=listing.MAX_PAGE_SIZE, help="Vehicles per page.")]
ActorOpt = Annotated[str, typer.Option("--as", help="Who does it (audit log).")]

groups_app = typer.Typer(help="Saved fleet groups: named filter queries, evaluated again on every use.",
                         no_args_is_help=True)


@contextmanager
def _opened(workspace: WorkspaceArg, database: str | None) -> Iterator[tuple[Workspace, Store]]:
    ws = load_workspace(workspace)
    with open_store(database or default_database_url(ws.root, bundled=workspace is None)) as store:
        yield ws, store


def _check_sort(sort: str) -> None:
    if sort not in listing.SORTS:
        raise FleetError(f"--sort must be one of {', '.join(listing.SORTS)}, got {sort!r}")


def _render_page(data: dict[str, Any]) -> None:
    table = Table(title=f"{data['total']:,} vehicles match" + (f": {data['query']}" if data["query"] else ""),
                  title_justify="left")
    table.add_column("VIN", no_wrap=True, min_width=17)
    for column in ("model", "trim", "market", "last seen", "crashes 7 d"):
        table.add_column(column, justify="right" if column == "crashes 7 d" else "left")
    for v in data["vehicles"]:
        table.add_row(v["vin"], v["model"], v["trim"], v["market"], (v["last_seen"] or "never")[:16],
                      f"{v['crashes_7d']:,}")
    console.print(table)
    if data["note"]:
        console.print(data["note"], highlight=False)
    elif data["vehicles"]:
        first = data["offset"] + 1
        console.print(f"showing {first:,}–{data['offset'] + len(data['vehicles']):,}, page {data['page'] + 1:,} of "
                      f"{data['pages']:,}", highlight=False)


def vehicles(workspace: WorkspaceArg = None, query: QueryOpt = "", sort: SortOpt = "vin", desc: DescOpt = False,
             page: PageOpt = 1, limit: LimitOpt = 50, database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """A page of the vehicles matching a fleet filter query, with the total (a page past the end is empty)."""
    _check_sort(sort)
    with _opened(workspace, database) as (ws, store):
        result = listing.search(store, query, now=store.now(), sort=sort, descending=desc, offset=(page - 1) * limit,
                                limit=limit, catalogue=listing.catalogue_for(store, ws))
        data = page_view(result)
    if as_json:
        print_json(data)
        return
    _render_page(data)


@groups_app.command("list")
def groups_list(workspace: WorkspaceArg = None, database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """Every saved group with its vehicle count now."""
    with _opened(workspace, database) as (ws, store):
        found = [group_view(g) for g in fg.list_group_views(store, ws=ws)]
    if as_json:
        print_json({"groups": found})
        return
    if not found:
        console.print("no saved group")
        return
    table = Table(title="Saved fleet groups", title_justify="left")
    for column in ("group", "query", "vehicles now", "by"):
        table.add_column(column, justify="right" if column == "vehicles now" else "left")
    for g in found:
        table.add_row(g["name"], g["query"], f"{g['vehicles']:,}", g["created_by"])
    console.print(table)


@groups_app.command("create")
def groups_create(
    name: Annotated[str, typer.Argument(help="Group name: letters, digits, '-', '_', '.'.")],
    query: Annotated[str, typer.Argument(help="The group's fleet filter query.")],
    workspace: WorkspaceArg = None,
    description: Annotated[str, typer.Option("--description", help="What the group is for.")] = "",
    actor: ActorOpt = "cli",
    database: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Save a fleet filter query as a named group (checked against the fleet first)."""
    with _opened(workspace, database) as (ws, store):
        created = group_view(fg.create_group(store, name, query, actor=actor, description=description, ws=ws))
    if as_json:
        print_json(created)
        return
    console.print(f"saved group {created['name']}: {created['vehicles']:,} vehicles now", highlight=False)


@groups_app.command("show")
def groups_show(
    name: Annotated[str, typer.Argument(help="Group name.")],
    workspace: WorkspaceArg = None,
    sort: SortOpt = "vin", desc: DescOpt = False, page: PageOpt = 1, limit: LimitOpt = 50,
    database: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A group, its query, and a page of its vehicles evaluated now."""
    _check_sort(sort)
    with _opened(workspace, database) as (ws, store):
        found = fg.group_view(store, name, ws=ws)
        result = listing.search(store, found.query, now=store.now(), sort=sort, descending=desc,
                                offset=(page - 1) * limit, limit=limit, catalogue=listing.catalogue_for(store, ws))
        data = {**page_view(result), "group": group_view(found)}
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{found.name}[/]: {found.query}", highlight=False)
    _render_page(data)


@groups_app.command("delete")
def groups_delete(
    name: Annotated[str, typer.Argument(help="Group name.")],
    workspace: WorkspaceArg = None,
    actor: ActorOpt = "cli",
    database: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete a saved group (campaigns already started keep their targets)."""
    with _opened(workspace, database) as (_ws, store):
        fg.delete_group(store, name, actor=actor)
    if as_json:
        print_json({"name": name, "deleted": True})
        return
    console.print(f"deleted group {name}", highlight=False)


def attach(app: typer.Typer) -> None:
    """Add ``vehicles`` and ``groups`` to the ``fleet`` command group."""
    app.command("vehicles")(vehicles)
    app.add_typer(groups_app, name="groups")
