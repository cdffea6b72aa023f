"""`evplatform hub …`: fault reactions, AEB and ALKS of every trim, from the central hub's scenarios."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from evplatform.cli.common import JsonOpt, WorkspaceArg, console, print_json
from evplatform.errors import VehicleError
from evplatform.vehicle.hub.faults import Fault
from evplatform.vehicle.scenarios import absent_roles, aeb_report, alks_report, fault_report
from evplatform.workspace import load_workspace

ModelOpt = Annotated[str | None, typer.Option("--model", help="Only this model's trims.")]
hub_app = typer.Typer(help="The central hub: faults and degraded modes, AEB, ALKS.", no_args_is_help=True)


@hub_app.command("faults")
def faults(
    workspace: WorkspaceArg = None,
    model: ModelOpt = None,
    fault: Annotated[
        str | None, typer.Option("--fault", help="One fault: " + ", ".join(f.value for f in Fault))
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Inject each single fault at 100 km/h and show the degraded mode and the measured reaction time."""
    chosen = None
    if fault is not None:
        try:
            chosen = [Fault(fault)]
        except ValueError:
            raise VehicleError(f"unknown fault {fault!r}; faults: {', '.join(f.value for f in Fault)}") from None
    ws = load_workspace(workspace)
    rows = fault_report(ws, model, chosen)
    absent = absent_roles(ws, "faults")
    if as_json:
        print_json(_with_absent({"faults": rows}, absent))
        return
    table = Table(title="Single faults at 100 km/h", title_justify="left")
    table.add_column("vehicle", no_wrap=True)
    table.add_column("fault", overflow="fold")
    table.add_column("mode", overflow="fold")
    for column in ("reaction s", "limit s", "power kW", "stop m"):
        table.add_column(column, justify="right")
    for r in rows:
        if r["mode"] == "not applicable":
            table.add_row(r["vehicle"], r["fault"].replace("_", " "), "[dim]not applicable[/]", "", "", "", "")
            continue
        style = "green" if r["within_limit"] else "red"
        table.add_row(r["vehicle"], r["fault"].replace("_", " "), r["mode"].replace("_", " "),
                      f"[{style}]{r['reaction_s']:.2f}[/]",
                      f"{r['max_reaction_s']:.2f}", _opt(r["power_limit_kw"]), _opt(r["stop_distance_m"]))
    console.print(table)
    _print_absent(absent)


@hub_app.command("aeb")
def aeb(workspace: WorkspaceArg = None, model: ModelOpt = None, as_json: JsonOpt = False) -> None:
    """AEB on the Euro NCAP car-to-car rear stationary test: impact speed per trim (0 = avoided)."""
    ws = load_workspace(workspace)
    rows = aeb_report(ws, model)
    absent = absent_roles(ws, "aeb")
    if as_json:
        print_json(_with_absent({"aeb": rows}, absent))
        return
    table = Table(title="AEB, Euro NCAP CCRs: impact speed km/h", title_justify="left")
    table.add_column("vehicle")
    for speed in rows[0]["speeds_kmh"]:
        table.add_column(f"{speed:.0f}", justify="right")
    for r in rows:
        table.add_row(r["vehicle"], *["[green]0[/]" if x == 0 else f"[red]{x:.0f}[/]" for x in r["impact_kmh"]])
    console.print(table)
    _print_absent(absent)


@hub_app.command("alks")
def alks(workspace: WorkspaceArg = None, model: ModelOpt = None, as_json: JsonOpt = False) -> None:
    """ALKS (UN R157) speed limit per trim and market."""
    ws = load_workspace(workspace)
    rows = alks_report(ws, model)
    absent = absent_roles(ws, "alks")
    if as_json:
        print_json(_with_absent({"alks": rows}, absent))
        return
    table = Table(title="ALKS speed limit (km/h; 0 = not allowed or not fitted)", title_justify="left")
    for column in ("vehicle", "market", "ALKS fitted", "limit km/h"):
        table.add_column(column)
    fitted_absent = "[dim]absent[/]" if absent else None
    for r in rows:
        fitted = fitted_absent or ("yes" if r["alks"] else "no")
        table.add_row(r["vehicle"], r["market"], fitted, f"{r['alks_limit_kmh']:.0f}")
    console.print(table)
    _print_absent(absent)


def _with_absent(payload: dict[str, Any], absent: list[dict[str, str]]) -> dict[str, Any]:
    """The JSON payload, plus ``absent_roles`` when the platform lacks a role the report reads."""
    return {**payload, "absent_roles": absent} if absent else payload


def _print_absent(absent: list[dict[str, str]]) -> None:
    for item in absent:
        console.print(f"[yellow]{item['role']}: absent[/] ({item['reason']}) — {item['title']}")


def _opt(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def register(app: typer.Typer) -> None:
    app.add_typer(hub_app, name="hub")
