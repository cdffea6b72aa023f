"""Dashboard pages about the workspace: overview, platform, BOM, simulation, compliance, insights, sign-in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from evplatform.errors import EvplatformError
from evplatform.fleet import release_stability
from evplatform.service import views
from evplatform.service.presenters import (
    business,
    campaign_progress,
    risks,
    scenarios,
    simulation_results,
)
from evplatform.store import campaigns as cdb
from evplatform.store import vehicles as vdb
from evplatform.vehicle.drive_cycles import cycle_names, load_cycle
from evplatform.vehicle.targets import compare_targets
from evplatform.web.charts import PALETTE, Series, bar_chart, line_chart
from evplatform.web.pages import context_of, error_page, message_of, render

router = APIRouter(include_in_schema=False)


def _fleet_summary(request: Request) -> dict[str, Any]:
    """Fleet figures for the overview, or the reason they are missing (the page still renders)."""
    try:
        store = context_of(request).store()
        cells = vdb.fleet_counts(store)
        campaigns = [campaign_progress(store, c.id, timeline=False) for c in cdb.list_campaigns(store)]
        return {"vehicles": sum(c["vehicles"] for c in cells), "campaigns": campaigns,
                "stability": [k.to_dict() for k in release_stability(store)], "error": None,
                "by_model": _sum_by(cells, "model")}
    except EvplatformError as error:
        return {"vehicles": None, "campaigns": [], "stability": [], "error": message_of(request, error),
                "by_model": {}}


def _sum_by(cells: list[dict[str, Any]], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for cell in cells:
        out[cell[key]] = out.get(cell[key], 0) + int(cell["vehicles"])
    return out


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    context = context_of(request)
    try:
        ws = context.workspace()
        platform = views.platform_view(ws)
        kpi = context.cached(("kpi",), lambda: views.kpi_view(ws))
    except EvplatformError as error:
        return error_page(request, error)
    fleet = _fleet_summary(request)
    chart = bar_chart(list(fleet["by_model"]), list(fleet["by_model"].values()), title="Vehicles by model",
                      unit="vehicles") if fleet["by_model"] else ""
    trims = [t for m in kpi["models"] for t in m["trims"]]
    cost_chart = bar_chart([f"{m['id']}/{t['id']}" for m in kpi["models"] for t in m["trims"]],
                           [t["unit_cost"] for t in trims], title=f"Unit cost per trim ({kpi['currency']})",
                           colour=PALETTE[1])
    return render(request, "home.html", title="Overview", platform=platform, kpi=kpi, fleet=fleet,
                  fleet_chart=chart, cost_chart=cost_chart, trims=len(trims))


@router.get("/platform", response_class=HTMLResponse)
def platform_page(request: Request) -> HTMLResponse:
    context = context_of(request)
    try:
        ws = context.workspace()
        matrix = context.cached(("models",), lambda: views.models_view(ws))
        kpi = context.cached(("kpi",), lambda: views.kpi_view(ws))
        features = views.features_view(ws)
    except EvplatformError as error:
        return error_page(request, error)
    return render(request, "platform.html", title="Platform", platform=views.platform_view(ws), matrix=matrix,
                  kpi=kpi, features=features)


@router.get("/bom", response_class=HTMLResponse)
def bom_page(request: Request, trim: str | None = None, market: str | None = None) -> HTMLResponse:
    try:
        ws = context_of(request).workspace()
        if trim is None:  # no trim is anyone's default: every trim, each linking to its own BOM
            summary = views.bom_summary_view(ws, market)
            return render(request, "bom_summary.html", title=f"BOM of every trim in {summary['market']}",
                          summary=summary, currency=ws.platform.currency)
        bom = views.bom_view(ws, trim, market)
    except EvplatformError as error:
        return error_page(request, error)
    modules = bom["cost_by_module"]
    chart = bar_chart(list(modules), list(modules.values()), title=f"BOM cost by module ({ws.platform.currency})")
    return render(request, "bom.html", title=f"BOM {bom['trim']}", bom=bom, chart=chart,
                  currency=ws.platform.currency)


def _cycle_chart(name: str) -> str:
    cycle = load_cycle(name)
    speed = (cycle.speed_mps * 3.6).tolist()
    times = [i * cycle.dt_s for i in range(len(speed))]
    step = max(1, len(times) // 600)  # a few hundred points draw the same line
    ticks = [(t, f"{t:.0f}") for t in times[:: max(1, len(times) // 6)]]
    return line_chart([Series(name.upper(), times[::step], speed[::step])], title=f"{name.upper()} speed trace",
                      y_label="km/h", x_label="time (s)", x_ticks=ticks)


@router.get("/simulation", response_class=HTMLResponse)
def simulation_page(request: Request, cycle: str | None = None, market: str | None = None) -> HTMLResponse:
    context = context_of(request)
    try:
        data = simulation_results(context, None, cycle or None, market or None)
        ws = context.workspace()
    except EvplatformError as error:
        return error_page(request, error)
    rows = data["results"]
    names = [r["vehicle"] for r in rows]
    targets = context.cached(("targets", market or None), lambda: [
        t.to_dict() for t in compare_targets(ws, [ws.trim(n) for n in names], market or None)])
    charts = [
        bar_chart(names, [r["range_km"] for r in rows], title=f"Range ({rows[0]['range_rule']})", unit="km"),
        bar_chart(names, [r["consumption_kwh_per_100km"]["battery"] for r in rows],
                  title=f"Battery consumption on {data['cycle'].upper()}", unit="kWh/100 km", colour=PALETTE[3]),
        bar_chart(names, [r["charge_10_80_min"] for r in rows], title="DC charge 10–80 %", unit="min",
                  colour=PALETTE[4]),
        _cycle_chart(data["cycle"]),
    ]
    return render(request, "simulation.html", title="Simulation", data=data, charts=charts, cycles=cycle_names(),
                  markets=list(ws.markets), targets=targets)


def _quarter_chart(per_entity: dict[str, list[dict[str, Any]]], title: str, unit: str) -> str:
    """One line per company over the quarters any of them reported."""
    periods = sorted({q["period"] for points in per_entity.values() for q in points})
    index = {p: i for i, p in enumerate(periods)}
    lines = []
    for n, (entity, points) in enumerate(per_entity.items()):
        ordered = sorted((index[q["period"]], q["value"]) for q in points)
        lines.append(Series(entity, [p[0] for p in ordered], [p[1] for p in ordered], PALETTE[n % len(PALETTE)]))
    ticks = [(i, p) for i, p in enumerate(periods) if i % 2 == 0]
    return line_chart(lines, title=title, y_label=unit, x_label="quarter", x_ticks=ticks, width=760)


def _business_charts(data: dict[str, Any]) -> list[str]:
    """The company's deliveries per quarter, and every peer's gross margin per quarter."""
    charts = []
    deliveries = data.get("series", {}).get("deliveries")
    if deliveries:
        charts.append(_quarter_chart({data["entity"]: deliveries["quarters"]},
                                     f"{data['entity']} deliveries per quarter", deliveries.get("unit", "")))
    margins = {entity: points for entity, points in data.get("peer_margins", {}).items() if points}
    if margins:
        charts.append(_quarter_chart(margins, "Gross margin per quarter (automotive segment)", "%"))
    return charts


@router.get("/insights", response_class=HTMLResponse)
def insights_page(request: Request) -> HTMLResponse:
    """Business figures and peers, NPV scenarios (Monte Carlo), the risk register and its matrix."""
    context = context_of(request)
    sections: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    for name, compute in (("business", lambda: business(context)),
                          ("scenarios", lambda: scenarios(context, 1000, 0, 128)),
                          ("risks", lambda: risks(context))):
        try:
            sections[name] = compute()
        except EvplatformError as error:
            unavailable[name] = message_of(request, error)
    if "business" in sections and not sections["business"].get("available", True):
        unavailable["business"] = sections.pop("business")["message"]
    charts = _business_charts(sections["business"]) if "business" in sections else []
    loss_chart = ""
    if "scenarios" in sections:
        rows = sections["scenarios"].get("comparison", [])
        loss_chart = bar_chart([r["name"] for r in rows], [100 * r["probability_loss"] for r in rows],
                               title="Probability that the NPV is negative", unit="%", colour=PALETTE[2])
    return render(request, "insights.html", title="Insights", sections=sections, unavailable=unavailable,
                  business_charts=charts, loss_chart=loss_chart)


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request) -> HTMLResponse:
    return render(request, "signin.html", title="Sign in")
