"""`evplatform workspace schema`: the workspace reference and JSON Schemas, generated from the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evplatform.cli.common import JsonOpt, console, print_json
from evplatform.workspace.schema import generated_docs, stale_docs, write_docs

workspace_app = typer.Typer(help="The workspace format: reference page and JSON Schemas.", no_args_is_help=True)

DocsOpt = Annotated[Path, typer.Argument(help="The docs folder (workspace.md and schema/ are written there).")]


@workspace_app.command("schema")
def schema_command(
    docs: DocsOpt = Path("docs"),
    write: Annotated[bool, typer.Option("--write", help="Write the out-of-date files.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when a generated file is out of date.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List (or --write, or --check) docs/workspace.md and docs/schema/*.schema.json against the schema."""
    stale = write_docs(docs) if write else stale_docs(docs)
    names = sorted(generated_docs())
    if as_json:
        print_json({"docs": str(docs), "files": names, "stale": stale, "written": stale if write else []})
    else:
        for name in names:
            state = ("[green]written[/]" if write else "[yellow]out of date[/]") if name in stale else "up to date"
            console.print(f"{docs / name}: {state}", highlight=False)
    if check and stale and not write:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(workspace_app, name="workspace")
