"""`evplatform simulate`: consumption, range, charging and acceleration of every trim (or any vehicle)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from evplatform.cli.common import JsonOpt, WorkspaceArg, console, err_console, print_json
from evplatform.errors import VehicleError
from evplatform.vehicle import load_vehicle_params, simulate_trims, simulate_vehicles
from evplatform.vehicle.cycle_translation import translate
from evplatform.vehicle.drive_cycles import canonical_name
from evplatform.vehicle.plots import write_plots
from evplatform.vehicle.simulate import traces_of, trim_params
from evplatform.vehicle.targets import TargetCheck, compare_targets
from evplatform.workspace import load_workspace


def simulate(
    workspace: WorkspaceArg = None,
    model: Annotated[str | None, typer.Option("--model", help="Only this model's trims.")] = None,
    cycle: Annotated[
        str | None, typer.Option("--cycle", help="wltc, cltc, udds, hwfet or nedc (default: base market's).")
    ] = None,
    market: Annotated[
        str | None, typer.Option("--market", help="Trims sold in this market, on its homologation cycle.")
    ] = None,
    vehicle_params: Annotated[
        Path | None, typer.Option("--vehicle-params", help="Simulate the vehicle in this YAML file instead.")
    ] = None,
    hz: Annotated[float, typer.Option("--hz", help="Time steps per second (1 or 10).")] = 1.0,
    out: Annotated[Path, typer.Option("--out", help="Folder for the PNG and HTML plots.")] = Path("out/simulate"),
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Do not write plots.")] = False,
    traces: Annotated[bool, typer.Option("--traces", help="With --json: add each vehicle's speed, battery power "
                                         "and SOC against time (the dashboard's trace charts).")] = False,
    aux_w: Annotated[float | None, typer.Option("--aux-w", help="Auxiliary load in W (default: the vehicle "
                                                "file's aux_power_w, else 550 W of 12 V loads, no HVAC).")] = None,
    payload_kg: Annotated[float | None, typer.Option("--payload-kg", help="Payload in kg above the procedure's "
                                                     "test mass (inertia, rolling resistance, 0–100).")] = None,
    cltc_km: Annotated[float | None, typer.Option("--cltc-km", help="Translate this CLTC range (km) to WLTP "
                                                  "for each vehicle, by its simulated consumption ratio.")] = None,
    wltp_km: Annotated[float | None, typer.Option("--wltp-km", help="Translate this WLTP range (km) to CLTC.")] = None,
    consumption: Annotated[float | None, typer.Option("--consumption", help="With --cltc-km/--wltp-km: the "
                                                      "published kWh/100 km on that cycle, translated too.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Simulate each trim on a drive cycle: kWh/100 km, range by the homologation's rule, DC 10–80 %, 0–100.

    With --cltc-km (or --wltp-km): the range on the other cycle instead, for the same car."""
    if hz not in (1.0, 10.0):
        raise VehicleError(f"--hz must be 1 or 10, got {hz:g}")
    if cltc_km is not None or wltp_km is not None:
        _translate(workspace, vehicle_params, model, market, cltc_km, wltp_km, consumption, as_json)
        return
    if cycle is not None:
        cycle = canonical_name(cycle)
    targets: list[TargetCheck] = []
    with err_console.status("simulating…"):
        if vehicle_params is not None:
            vehicle = load_vehicle_params(vehicle_params)
            simulation = simulate_vehicles([vehicle], cycle or "wltc", hz=hz, traces=traces or not no_plots,
                                           aux_power_w=aux_w, payload_kg=payload_kg)
        else:
            ws = load_workspace(workspace)
            simulation = simulate_trims(ws, model=model, cycle=cycle, hz=hz, traces=traces or not no_plots,
                                        market=market, aux_power_w=aux_w, payload_kg=payload_kg)
            targets = compare_targets(ws, [ws.trim(r["vehicle"]) for r in simulation.results], market)
        written = [] if no_plots else write_plots(simulation, out)
    if as_json:
        payload = {"results": simulation.results, "targets": [t.to_dict() for t in targets]}
        print_json({**payload, "traces": traces_of(simulation)} if traces else payload)
        return
    table = Table(title=f"Simulation on {simulation.results[0]['cycle']}", title_justify="left")
    table.add_column("vehicle", no_wrap=True)
    for column in ("battery\nkWh/100km", "plug\nkWh/100km", "range\nkm", "rule", "DC 10–80\nmin", "0–100\ns",
                   "top\nkm/h", "trace\nmiss"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    for r in simulation.results:
        miss = r["trace_miss"]
        miss_text = (f"[red]{miss['seconds']:.0f} s\n{miss['max_speed_error_kmh']:.1f} km/h[/]"
                     if miss["seconds"] else "[green]none[/]")
        accel = r["accel_0_100_s"]
        table.add_row(
            r["vehicle"], f"{r['consumption_kwh_per_100km']['battery']:.2f}",
            f"{r['consumption_kwh_per_100km']['plug']:.2f}", f"{r['range_km']:.0f}", r["range_rule"].split(" ")[0],
            f"{r['charge_10_80_min']:.1f}", "never" if accel is None else f"{accel:.2f}",
            f"{r['top_speed_kmh']:.0f}", miss_text,
        )
    console.print(table)
    if targets:
        _render_targets(targets)
    if written:
        console.print(f"plots: {written[-1]}")


def _translate(workspace: Path | None, vehicle_params: Path | None, model: str | None, market: str | None,
               cltc_km: float | None, wltp_km: float | None, consumption: float | None, as_json: bool) -> None:
    """``--cltc-km``/``--wltp-km``: each vehicle's figure on the other cycle (vehicle/cycle_translation.py)."""
    if cltc_km is not None and wltp_km is not None:
        raise VehicleError("give --cltc-km or --wltp-km, not both")
    given, source = (cltc_km, "cltc") if cltc_km is not None else (wltp_km or 0.0, "wltc")
    if vehicle_params is not None:
        vehicles = [load_vehicle_params(vehicle_params)]
    else:
        ws = load_workspace(workspace)
        trims = [t for t in (ws.sold_in(market) if market else ws.trims()) if model is None or t.model_id == model]
        if not trims:
            raise VehicleError(f"no trims for model {model!r} in market {market!r}")
        vehicles = [trim_params(ws, t, market) for t in trims]
    with err_console.status("simulating CLTC and WLTC…"):
        rows = [translate(v, given, source, consumption).to_dict() for v in vehicles]
    if as_json:
        print_json({"translations": rows})
        return
    first = rows[0]
    table = Table(title=f"{first['from']} → {first['to']} (simulated consumption ratio, global parameters)",
                  title_justify="left")
    for column in ("vehicle", f"{first['from']}\nkm", f"sim {first['from']}\nkWh/100km",
                   f"sim {first['to']}\nkWh/100km", "range\nratio", f"{first['to']}\nkm", f"{first['to']}\nkWh/100km"):
        table.add_column(column, justify="left" if column == "vehicle" else "right", no_wrap=column == "vehicle")
    for r in rows:
        sim = r["simulated_consumption_kwh_per_100km"]
        predicted = r["predicted_consumption_kwh_per_100km"]
        table.add_row(r["vehicle"], f"{r['given_range_km']:g}", f"{sim[r['from']]:.2f}", f"{sim[r['to']]:.2f}",
                      f"{r['range_ratio']:.3f}", f"{r['predicted_range_km']:.0f}",
                      "—" if predicted is None else f"{predicted:.2f}")
    console.print(table)


def _render_targets(targets: list[TargetCheck]) -> None:
    colour = {"met": "green", "within": "yellow", "missed": "red", "unknown": "dim"}
    table = Table(title="Target vs simulated (each trim's own targets; tolerances: evplatform.vehicle.targets)",
                  title_justify="left")
    for column in ("trim", "target", "target value", "simulated", "difference", "tolerance", "status"):
        table.add_column(column, justify="left" if column in ("trim", "target", "status") else "right",
                         no_wrap=column in ("trim", "target"))
    for t in targets:
        table.add_row(t.trim, t.key, f"{t.target:g} {t.unit}",
                      "—" if t.simulated is None else f"{t.simulated:g}",
                      "—" if t.difference is None else f"{t.difference:+g}", t.tolerance or "—",
                      f"[{colour[t.status]}]{t.status}[/]" + (f" [dim]{t.reason}[/]" if t.reason else ""))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
