"""Dashboard pages about the workspace: overview, platform, BOM, compliance, sign-in (simulation and hub:
``web.simulation_pages``; insights: ``web.insights_pages``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from evplatform.errors import EvplatformError
from evplatform.fleet import release_stability
from evplatform.service import views
from evplatform.service.presenters import (
    campaign_progress,
    compliance,
    roadmap,
)
from evplatform.store import campaigns as cdb
from evplatform.store import vehicles as vdb
from evplatform.web.charts import PALETTE, bar_chart
from evplatform.web.pages import context_of, error_page, message_of, render
from evplatform.workspace import Workspace
from evplatform.workspace.model import IN_FORCE

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


#: At most this many yearly columns, so a regulation dated decades ahead cannot widen the page without end.
MAX_COMPLIANCE_YEARS = 15


def compliance_years(ws: Workspace, today: date) -> list[int]:
    """The years the by-year table shows, from the workspace's own dates.

    From the first market launch (nothing is sold before it; with no launch date, this year or the
    first regulation date if earlier) to the year after the last launch or regulation date, so the state after the
    last change shows too. "in force" regulations carry no date; a workspace with no date at all
    shows this year and the next six.
    """
    launches = [m.launch_date.year for m in ws.markets.values() if m.launch_date]
    rules = [d.year for r in ws.regulations.values() for d in (r.applies_new_types, r.applies_all)
             if d is not None and d != IN_FORCE]
    if not launches and not rules:
        return list(range(today.year, today.year + 7))
    first = min(launches or [*rules, today.year])
    last = max(launches + rules) + 1
    return list(range(first, min(last, first + MAX_COMPLIANCE_YEARS - 1) + 1))


def _roadmap_rows(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per roadmap event: model, market, date, new regulations, trims failing, yearly cost of the fix."""
    rows = []
    for entry in plan.get("roadmap", []):
        for event in entry.get("events", []):
            trims = event.get("trims", [])
            rows.append({"model": entry["model"], "market": entry["market"], "mode": entry["mode"],
                         "date": event["date"], "regulations": event.get("new_regulations", []),
                         "failing": [t["trim"] for t in trims if t.get("failing")],
                         "added": sorted({f for t in trims for f in t.get("added_since_previous", [])}),
                         "cost_per_year": event.get("cost_per_year")})
    return rows


@router.get("/compliance", response_class=HTMLResponse)
def compliance_page(request: Request, market: str | None = None, on: str | None = None) -> HTMLResponse:
    """Verdict of every trim in every market on a date, the same by market and year, and the roadmap."""
    context = context_of(request)
    try:
        ws = context.workspace()
        day = date.fromisoformat(on) if on else context.clock().date()
    except ValueError:
        return error_page(request, EvplatformError(f"date must be YYYY-MM-DD, got {on!r}"))
    except EvplatformError as error:
        return error_page(request, error)
    markets = [market] if market else list(ws.markets)
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    by_year: dict[tuple[str, int], dict[str, int]] = {}
    years = compliance_years(ws, day)
    plan_error = None
    rows: list[dict[str, Any]] = []
    try:
        for m in markets:
            for verdict in compliance(context, m, day).get("verdicts", []):
                cells[(f"{verdict['model']}/{verdict['trim']}", m)] = verdict
            for year in years:
                by_year[(m, year)] = compliance(context, m, date(year, 1, 1)).get("summary", {})
    except EvplatformError as error:
        return error_page(request, error)
    try:
        rows = [r for r in _roadmap_rows(roadmap(context)) if r["market"] in markets]
    except EvplatformError as error:
        plan_error = message_of(request, error)
    return render(request, "compliance.html", title="Compliance", markets=markets, all_markets=list(ws.markets),
                  trims=[t.key for t in ws.trims()], cells=cells, day=day.isoformat(),
                  roadmap=rows, roadmap_error=plan_error, selected=market, years=years,
                  by_year=by_year, currency=ws.platform.currency)


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request) -> HTMLResponse:
    return render(request, "signin.html", title="Sign in")
