"""`evplatform hub …`: fault reactions, AEB and ALKS of every trim, from the central hub's scenarios."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from evplatform.cli.common import JsonOpt, WorkspaceArg, console, print_json
from evplatform.errors import VehicleError
from evplatform.vehicle.hub import SIGNALS
from evplatform.vehicle.hub.auth import TokenVerifier, generate_key
from evplatform.vehicle.hub.faults import Fault
from evplatform.vehicle.hub.simulator import simulated_vehicle
from evplatform.vehicle.scenarios import (
    DEFAULT_API_PORT,
    absent_roles,
    aeb_report,
    alks_report,
    api_signals_report,
    fault_report,
)
from evplatform.workspace import load_workspace

ModelOpt = Annotated[str | None, typer.Option("--model", help="Only this model's trims.")]
hub_app = typer.Typer(help="The central hub: faults and degraded modes, AEB, ALKS, the vehicle API.",
                      no_args_is_help=True)


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
    one = _fault(fault)
    chosen = None if one is None else [one]
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


@hub_app.command("signals")
def signals(workspace: WorkspaceArg = None, as_json: JsonOpt = False) -> None:
    """The VSS signals the vehicle API serves on each trim (base market), and which apps may actuate."""
    report = api_signals_report(load_workspace(workspace))
    if as_json:
        print_json(report)
        return
    table = Table(title=f"Vehicle API ({report['api']}, port {report['default_port']}): served signals",
                  title_justify="left")
    for column in ("VSS path", "kind", "datatype", "unit", "apps may actuate", "trims"):
        table.add_column(column, overflow="fold")
    every = len(report["trims"])
    for s in report["signals"]:
        trims = "all" if len(s["trims"]) == every else ", ".join(s["trims"])
        table.add_row(s["path"], s["kind"], s["datatype"], s["unit"] or "", "yes" if s["apps_may_actuate"] else "no",
                      trims)
    console.print(table)


DEFAULT_KEY_DIR = Path(".evplatform") / "hub"
KEY_NAME, PUBLIC_NAME = "apps-token.key", "apps-token.pub"


@hub_app.command("keygen")
def keygen(
    out: Annotated[Path, typer.Option("--out", help="Folder for the key pair.")] = DEFAULT_KEY_DIR,
    as_json: JsonOpt = False,
) -> None:
    """Create the RSA key pair of the vehicle API's app tokens: the private key signs tokens
    (`evplatform apps token --key`), the hub verifies them with the public one (`hub serve --public-key`)."""
    private, public = out / KEY_NAME, out / PUBLIC_NAME
    generate_key(private, public)
    if as_json:
        print_json({"private_key": str(private), "public_key": str(public)})
        return
    console.print(f"signing key {private} (keep it secret), verification key {public}")


@hub_app.command("serve")
def serve(
    workspace: WorkspaceArg = None,
    trim: Annotated[str | None, typer.Option("--trim", help="model/trim key (default: the first trim).")] = None,
    market: Annotated[str | None, typer.Option("--market", help="Market (default: the base market).")] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(
        "--port", min=0, max=65535, help="gRPC port (0: a free one).")] = DEFAULT_API_PORT,
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help=f"Token verification key (default: {DEFAULT_KEY_DIR / PUBLIC_NAME}).")] = None,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="Serve without authorization (local tests only).")] = False,
    speedup: Annotated[float, typer.Option("--speedup", min=0.1, max=100.0,
                                           help="Simulated seconds per real second.")] = 1.0,
    fault: Annotated[str | None, typer.Option(
        "--fault", help="Inject a fault: " + ", ".join(f.value for f in Fault))] = None,
    fault_at: Annotated[float, typer.Option("--fault-at", min=0.0, help="When (simulated s).")] = 60.0,
    duration: Annotated[float | None, typer.Option(
        "--duration", min=0.1, help="Stop after this many real seconds (default: until Ctrl-C).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Serve a simulated vehicle's hub over the Kuksa vehicle API (kuksa.val.v2 gRPC): the trim's drive
    cycle through the energy model, faults on demand, app tokens checked against --public-key."""
    from evplatform.vehicle.hub.kuksa_api import HubServer, VehicleApi  # grpc and the stubs: only to serve

    chosen = _fault(fault)
    if no_auth and public_key is not None:
        raise VehicleError("--no-auth and --public-key exclude each other")
    verifier = None
    if not no_auth:
        key_path = public_key or DEFAULT_KEY_DIR / PUBLIC_NAME
        if not key_path.is_file():
            raise VehicleError(f"{key_path}: no token verification key; create one with `evplatform hub keygen` "
                               "or serve with --no-auth")
        verifier = TokenVerifier(key_path.read_bytes(), SIGNALS)
    simulator = simulated_vehicle(load_workspace(workspace), trim, market)
    injected: list[str] = []

    def tick(dt_s: float) -> None:
        simulator.step(dt_s * speedup)
        if chosen is not None and not injected and simulator.time_s >= fault_at:
            injected.append(simulator.inject(chosen).value)

    server = HubServer(VehicleApi(simulator.hub, verifier), host=host, port=port, tick=tick, tick_s=0.01)
    bound = server.start()
    info: dict[str, Any] = {"endpoint": f"{host}:{bound}", "api": "kuksa.val.v2", "vehicle": simulator.hub.vehicle.name,
            "cycle": simulator.cycle, "authorization": verifier is not None,
            "signals": [{"path": p, "kind": s.kind, "datatype": s.datatype, "unit": s.unit}
                        for p, s in server.api.signals.items()]}
    if as_json:
        print_json(info)
    else:
        console.print(f"vehicle API (kuksa.val.v2) for {info['vehicle']} on {info['endpoint']}, "
                      f"{len(info['signals'])} signals, cycle {simulator.cycle}"
                      + ("" if verifier else " [yellow]without authorization[/]"))
    try:
        deadline = None if duration is None else time.monotonic() + duration
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2 if deadline is None else min(0.2, max(0.0, deadline - time.monotonic())))
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    if not as_json:
        console.print(f"stopped after {simulator.time_s:.1f} simulated s"
                      + (f"; fault {fault}: {injected[0].replace('_', ' ')}" if injected else ""))


def _fault(name: str | None) -> Fault | None:
    if name is None:
        return None
    try:
        return Fault(name)
    except ValueError:
        raise VehicleError(f"unknown fault {name!r}; faults: {', '.join(f.value for f in Fault)}") from None


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
