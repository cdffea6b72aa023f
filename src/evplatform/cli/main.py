"""The ``evplatform`` command: registers each command group and maps errors to exit codes.

Command modules are imported when the application is built; each exposes ``register(app)``.
Errors of the project end the process with exit code 1 and a one-line message that names the
file and line; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from evplatform.errors import EvplatformError

# One module per command group, in cli/. Each has `register(app: typer.Typer) -> None`.
COMMAND_MODULES: tuple[str, ...] = (
    "workspace_commands",
    "simulate",
    "hub",
    "fleet",
    "ota",
    "serve",
    "insights",
    "comply",
    "fm",
)

app = typer.Typer(
    name="evplatform",
    help="Platform as code for modular EV platforms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"evplatform.cli.{name}")
        module.register(app)


_register_all()


def run() -> None:
    """Console-script entry point."""
    try:
        app(standalone_mode=False)
    except EvplatformError as error:
        Console(stderr=True).print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.Exit as stop:
        sys.exit(stop.exit_code)
    except typer.Abort:
        sys.exit(130)
    except Exception as error:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(error, click.ClickException):
            error.show()
            sys.exit(error.exit_code)
        raise
