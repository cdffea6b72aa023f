"""Simulation and hub pages: what ``evplatform simulate`` and ``evplatform hub faults|aeb|alks`` print.

``/simulation`` shows every trim on a cycle (results, consumption to two decimals, the trims' own
targets with pass/miss) and one chosen trim's speed, battery power and SOC traces as SVG charts;
``/hub`` shows the single-fault reactions, AEB impact speeds and ALKS limits. Every table has a CSV
twin (``/simulation.csv``, ``/simulation/consumption.csv``, ``/simulation/targets.csv``,
``/hub/faults.csv``, ``/hub/aeb.csv``, ``/hub/alks.csv``) built from the same cached payload.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from evplatform.errors import EvplatformError
from evplatform.service.context import AppContext
from evplatform.service.params import MARKET_LENGTH, NAME_LENGTH
from evplatform.service.presenters import simulation_results
from evplatform.service.vehicle_reports import HUB_REPORTS, hub_api_signals, hub_report, simulation_trace
from evplatform.vehicle.drive_cycles import cycle_names
from evplatform.vehicle.targets import compare_targets
from evplatform.web import csv_tables
from evplatform.web.charts import PALETTE, Series, bar_chart, line_chart, nice_step, tick_labels
from evplatform.web.pages import context_of, error_page, render

router = APIRouter(include_in_schema=False)

Cycle = Annotated[str | None, Query(max_length=NAME_LENGTH, description="wltc, cltc, udds, hwfet or nedc")]
Market = Annotated[str | None, Query(max_length=MARKET_LENGTH)]
TrimKey = Annotated[str | None, Query(max_length=2 * NAME_LENGTH + 1, description="model/trim")]
#: Points per trace chart: a 1,800 s cycle at 1 Hz draws the same line from 600 points.
TRACE_POINTS = 600
#: What a target status means on the page (the CLI prints the status itself).
VERDICT = {"met": "pass", "within": "pass (within tolerance)", "missed": "miss", "unknown": "not simulated"}


def simulation_and_targets(context: AppContext, cycle: str | None, market: str | None
                           ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``simulate --json`` payload: results on the cycle and the trims' targets (both cached)."""
    data = simulation_results(context, None, cycle or None, market or None)
    ws = context.workspace()
    names = [r["vehicle"] for r in data["results"]]
    targets = context.cached(("targets", market or None, tuple(names)), lambda: [
        t.to_dict() for t in compare_targets(ws, [ws.trim(n) for n in names], market or None)])
    return data, targets


def _thin(values: list[float], step: int) -> list[float]:
    return values[::step]


def _ticks(times: list[float], every: float) -> tuple[list[float], list[str]]:
    """Time ticks at round multiples of ``every`` seconds across the cycle."""
    values = [every * i for i in range(int((times[-1] if times else 0) // every) + 1)]
    return values, tick_labels(values)


def trace_charts(trace: dict[str, Any]) -> list[str]:
    """Speed, battery power and SOC of one trim against time."""
    times = trace["time_s"]
    step = max(1, len(times) // TRACE_POINTS)
    xs = _thin(times, step)
    every = nice_step(times[-1] if times else 1.0, 6)
    ticks = [(value, text) for value, text in zip(*_ticks(times, every), strict=True)]
    name, cycle = trace["vehicle"], trace["cycle"].upper()
    charts = []
    for key, label, unit, colour, zero in (("speed_kmh", "Speed", "km/h", PALETTE[0], True),
                                           ("battery_power_kw", "Battery power (+ discharge, − regen)", "kW",
                                            PALETTE[2], True),
                                           ("soc_pct", "State of charge", "%", PALETTE[1], False)):
        charts.append(line_chart([Series(name, xs, _thin(trace[key], step), colour)],
                                 title=f"{label} of {name} on {cycle} ({unit})", y_label=unit, x_label="time (s)",
                                 x_ticks=ticks, include_zero=zero))
    return charts


def _summary_charts(data: dict[str, Any]) -> list[str]:
    rows = data["results"]
    names = [r["vehicle"] for r in rows]
    cycle = data["cycle"].upper()
    return [
        bar_chart(names, [r["consumption_kwh_per_100km"]["battery"] for r in rows],
                  title=f"Battery consumption on {cycle} (kWh/100 km)", unit="kWh/100 km", colour=PALETTE[3], digits=2),
        bar_chart(names, [r["consumption_kwh_per_100km"]["plug"] for r in rows],
                  title=f"Consumption at the plug on {cycle} (kWh/100 km)", unit="kWh/100 km", colour=PALETTE[5],
                  digits=2),
        bar_chart(names, [r["range_km"] for r in rows], title=f"Range ({rows[0]['range_rule']}, km)", unit="km",
                  digits=0),
        bar_chart(names, [r["charge_10_80_min"] for r in rows], title="DC charge 10–80 % (min)", unit="min",
                  colour=PALETTE[4], digits=1),
    ]


@router.get("/simulation", response_class=HTMLResponse)
def simulation_page(request: Request, cycle: Cycle = None, market: Market = None,
                    trim: TrimKey = None) -> HTMLResponse:
    """Every trim sold in a market on a cycle, its targets, and one trim's traces."""
    context = context_of(request)
    try:
        data, targets = simulation_and_targets(context, cycle, market)
        ws = context.workspace()
        names = [r["vehicle"] for r in data["results"]]
        # a trim chosen for another market (the form keeps it when the market changes) falls back to the first
        chosen = trim if trim is not None and trim in names else names[0]
        trace = simulation_trace(context, chosen, data["cycle"], market or None)
    except EvplatformError as error:
        return error_page(request, error)
    note = f"{trim} is not sold in {data['market']}: the traces are {chosen}'s." if trim and trim != chosen else ""
    query = f"cycle={data['cycle']}&market={data['market']}"
    return render(request, "simulation.html", title="Simulation", data=data, charts=_summary_charts(data),
                  trace=trace, trace_charts=trace_charts(trace), trims=names, chosen=trace["vehicle"],
                  cycles=cycle_names(), markets=list(ws.markets), targets=targets, verdict=VERDICT, query=query,
                  trace_note=note)


@router.get("/simulation.csv")
def simulation_csv(request: Request, cycle: Cycle = None, market: Market = None) -> Response:
    """The results table of ``/simulation`` as CSV."""
    try:
        data, _ = simulation_and_targets(context_of(request), cycle, market)
    except EvplatformError as error:
        return error_page(request, error)
    return csv_tables.csv_response(f"simulation-{data['market']}-{data['cycle']}.csv",
                                   csv_tables.simulation_table(data))


@router.get("/simulation/consumption.csv")
def consumption_csv(request: Request, cycle: Cycle = None, market: Market = None) -> Response:
    """Battery-side and plug consumption of every trim as CSV (three decimals, as simulated)."""
    try:
        data, _ = simulation_and_targets(context_of(request), cycle, market)
    except EvplatformError as error:
        return error_page(request, error)
    return csv_tables.csv_response(f"consumption-{data['market']}-{data['cycle']}.csv",
                                   csv_tables.consumption_table(data))


@router.get("/simulation/targets.csv")
def targets_csv(request: Request, cycle: Cycle = None, market: Market = None) -> Response:
    """Each trim's targets against the simulation as CSV."""
    try:
        data, targets = simulation_and_targets(context_of(request), cycle, market)
    except EvplatformError as error:
        return error_page(request, error)
    return csv_tables.csv_response(f"targets-{data['market']}.csv", csv_tables.targets_table(targets))


@router.get("/hub", response_class=HTMLResponse)
def hub_page(request: Request) -> HTMLResponse:
    """Single faults at 100 km/h, AEB on Euro NCAP CCRs and ALKS limits of every trim."""
    context = context_of(request)
    try:
        reports = {name: hub_report(context, name) for name in HUB_REPORTS}
        api = hub_api_signals(context)
    except EvplatformError as error:
        return error_page(request, error)
    faults = reports["faults"]["faults"]
    within = sum(1 for r in faults if r.get("within_limit"))
    applicable = sum(1 for r in faults if r["mode"] != "not applicable")
    return render(request, "hub.html", title="Hub: faults, AEB, ALKS, vehicle API", reports=reports, within=within,
                  applicable=applicable, api=api)


TABLES = {"faults": csv_tables.faults_table, "aeb": csv_tables.aeb_table, "alks": csv_tables.alks_table}


def _hub_csv(request: Request, report: str) -> Response:
    try:
        payload = hub_report(context_of(request), report)
    except EvplatformError as error:
        return error_page(request, error)
    return csv_tables.csv_response(f"hub-{report}.csv", TABLES[report](payload))


@router.get("/hub/faults.csv")
def hub_faults_csv(request: Request) -> Response:
    """``hub faults --json`` as CSV."""
    return _hub_csv(request, "faults")


@router.get("/hub/aeb.csv")
def hub_aeb_csv(request: Request) -> Response:
    """``hub aeb --json`` as CSV."""
    return _hub_csv(request, "aeb")


@router.get("/hub/signals.csv")
def hub_signals_csv(request: Request) -> Response:
    """The vehicle API's served signals per trim as CSV."""
    try:
        payload = hub_api_signals(context_of(request))
    except EvplatformError as error:
        return error_page(request, error)
    return csv_tables.csv_response("hub-signals.csv", csv_tables.api_signals_table(payload))


@router.get("/hub/alks.csv")
def hub_alks_csv(request: Request) -> Response:
    """``hub alks --json`` as CSV."""
    return _hub_csv(request, "alks")
