"""Dashboard pages about the workspace: overview, platform, BOM, compliance, sign-in (simulation and hub:
``web.simulation_pages``; insights: ``web.insights_pages``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from evplatform.errors import EvplatformError
from evplatform.fleet import release_stability
from evplatform.service import views
from evplatform.service.presenters import (
    campaign_progress,
)
from evplatform.store import campaigns as cdb
from evplatform.store import vehicles as vdb
from evplatform.web import csv_tables
from evplatform.web.charts import PALETTE, bar_chart
from evplatform.web.csv_tables import csv_response
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




@router.get("/platform/trims.csv", response_class=Response)
def trims_csv(request: Request) -> Response:
    """The models × trims table of /platform as CSV."""
    context = context_of(request)
    try:
        ws = context.workspace()
        matrix = context.cached(("models",), lambda: views.models_view(ws))
    except EvplatformError as error:
        return error_page(request, error)
    return csv_response("trims.csv", csv_tables.trims_table(matrix))


@router.get("/platform/kpi.csv", response_class=Response)
def kpi_csv(request: Request) -> Response:
    """The reuse and commonality indicators of /platform as CSV."""
    context = context_of(request)
    try:
        ws = context.workspace()
        kpi = context.cached(("kpi",), lambda: views.kpi_view(ws))
    except EvplatformError as error:
        return error_page(request, error)
    return csv_response("commonality.csv", csv_tables.kpi_table(kpi))


@router.get("/bom.csv", response_class=Response)
def bom_csv(request: Request, trim: str | None = None, market: str | None = None) -> Response:
    """One trim's parts (``trim``), or every trim of the market, as CSV: what /bom shows."""
    try:
        ws = context_of(request).workspace()
        if trim is None:
            summary = views.bom_summary_view(ws, market)
            return csv_response(f"bom-{summary['market']}.csv", csv_tables.bom_summary_table(summary))
        bom = views.bom_view(ws, trim, market)
    except EvplatformError as error:
        return error_page(request, error)
    name = f"bom-{bom['trim'].replace('/', '-')}-{bom['market']}.csv"
    return csv_response(name, csv_tables.bom_lines_table(bom, ws.platform.currency))


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request) -> HTMLResponse:
    return render(request, "signin.html", title="Sign in")
