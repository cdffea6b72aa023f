"""Options and output helpers every command group shares.

Commands print JSON to stdout with ``--json`` (nothing else on stdout), and Rich tables
otherwise; progress and warnings go to stderr so JSON stays parseable.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

WorkspaceArg = Annotated[
    Path | None,
    typer.Argument(help="Workspace folder (default: the bundled demo platform 'modena').", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

console = Console()
err_console = Console(stderr=True)


def print_json(data: Any) -> None:
    """JSON on stdout, nothing else; dates and paths as strings."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def print_result(done: dict[str, Any], as_json: bool, line: str) -> None:
    """An action's result: the whole dict as JSON, or the one line that sums it up."""
    if as_json:
        print_json(done)
    else:
        console.print(line)


def money(value: float, currency: str = "") -> str:
    text = f"{value:,.0f}"
    return f"{text} {currency}".strip()


def pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"
