"""The ``evplatform`` command: a lazy group of command modules, and one place that maps errors to exit codes.

Each module in cli/ exposes ``register(app: typer.Typer) -> None``. The console script imports
only the module of the command it runs (the domains pull in numpy, SciPy, matplotlib, TUF,
SQLAlchemy, OR-Tools, Dask…, several seconds together), so ``evplatform check`` does not pay for
``evplatform insights``. ``app`` is the whole Typer application, built on first access, for
tests and for embedding.

Errors of the project end the process with exit code 1 and a one-line message that names the
file and line; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from functools import cache
from typing import Any

import click
import typer
from rich.console import Console

from evplatform import __version__
from evplatform.errors import EvplatformError
from evplatform.logs import configure_logging

HELP = "Platform as code for modular EV platforms."

# Top-level command -> (module in cli/ that registers it, one line for `evplatform --help`).
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("workspace_commands", "Validate a workspace and prove every trim × market configuration valid."),
    "kpi": ("workspace_commands", "Cost per trim, reuse, commonality indices, platform vs one product per model."),
    "bom": ("workspace_commands", "The bill of materials of one trim in one market, by module."),
    "workspace": ("workspace_schema", "The workspace format: generate or check docs/workspace.md and JSON Schemas."),
    "fm": ("fm", "Feature models: analyses, conversion, configuration, sampling."),
    "comply": ("comply", "Compliance of every trim with a market's regulations on a date; the roadmap."),
    "simulate": ("simulate", "Consumption, range, fast charge and acceleration of every trim on a drive cycle."),
    "hub": ("hub", "The central hub: faults and degraded modes, AEB, ALKS; the vehicle API (hub serve)."),
    "ota": ("ota", "Secure OTA delivery (Uptane on TUF): keys, releases, signing, verification."),
    "apps": ("apps", "Third-party apps: compatibility per trim × market, signed delivery, API tokens."),
    "fleet": ("fleet", "Vehicle fleet: registry, campaigns, simulation, stability."),
    "campaign": ("campaign", "Campaigns: plan, dry run, create, start, copy a past one; show, vehicles; pause, resume, "
                             "ack, exclude, next-wave, retry, cancel."),
    "fod": ("features_on_demand", "Features on demand: offers per car, buy/cancel/list entitlements, sync, revenue."),
    "europe": ("europe", "Europe market entry: landed cost per trim and country, customer price, incentives."),
    "insights": ("insights", "Business figures, NPV scenarios with Monte Carlo and sensitivity, risks."),
    "diff": ("diff", "The impact of a change (two revisions or folders) on every trim × market and the platform."),
    "history": ("diff", "KPIs of every commit that touched the workspace, as a table and a chart."),
    "serve": ("serve", "Serve the REST API and the dashboard."),
    "ingest": ("ingest", "Ingest vehicles' signed telemetry over MQTT 5 into the store (long-running)."),
    "accounts": ("accounts", "Operator accounts and their bearer tokens: issue, list, revoke."),
    "dataact": ("dataact", "EU Data Act: owners, data recipients, consents, exports, access log, webhooks."),
    "backup": ("operations", "Back up the database and the OTA repositories into a verified folder."),
    "restore": ("operations", "Restore a backup after checking every file's sha256."),
    "migrate": ("operations", "Upgrade the database schema explicitly (or print its SQL)."),
    "retention": ("operations", "Delete telemetry older than N days, in bounded batches."),
}
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(module for module, _ in COMMANDS.values()))


def _new_app() -> typer.Typer:
    return typer.Typer(name="evplatform", help=HELP, no_args_is_help=True, add_completion=False,
                       pretty_exceptions_enable=False)


@cache
def _commands_of(module_name: str) -> dict[str, click.Command]:
    """The click commands one cli/ module registers, by top-level name."""
    module = importlib.import_module(f"evplatform.cli.{module_name}")
    partial = _new_app()
    module.register(partial)
    built = typer.main.get_command(partial)
    if isinstance(built, click.Group):
        return dict(built.commands)
    [name] = [n for n, (m, _) in COMMANDS.items() if m == module_name]  # one command: typer returns it bare
    return {name: built}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        return _commands_of(COMMANDS[cmd_name][0]).get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, (_, text) in COMMANDS.items()])


cli = LazyGroup(name="evplatform", help=HELP, no_args_is_help=True)
click.version_option(__version__, "--version", prog_name="evplatform", message="%(prog)s %(version)s")(cli)


@cache
def _full_app() -> typer.Typer:
    full = _new_app()
    for name in COMMAND_MODULES:
        importlib.import_module(f"evplatform.cli.{name}").register(full)
    return full


def __getattr__(name: str) -> Any:
    if name == "app":
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run() -> None:
    """Console-script entry point."""
    # the library only logs; the program decides where to (``serve --log-format`` sets its own)
    configure_logging(os.environ.get("EVPLATFORM_LOG_LEVEL", "warning"),
                      "json" if os.environ.get("EVPLATFORM_LOG_FORMAT") == "json" else "text")
    try:
        code = cli.main(args=sys.argv[1:], prog_name="evplatform", standalone_mode=False)
    except EvplatformError as error:
        Console(stderr=True).print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except click.exceptions.Exit as stop:
        sys.exit(stop.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    if isinstance(code, int) and code:  # `raise typer.Exit(code)` comes back as a return value here
        sys.exit(code)
