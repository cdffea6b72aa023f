"""Dashboard pages about what happens after the workspace: campaigns (live), releases, the fleet."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from evplatform.errors import EvplatformError
from evplatform.fleet import release_stability, updates_per_vehicle_per_quarter
from evplatform.service import views
from evplatform.service.params import OptionalMarket, OptionalName, Page
from evplatform.service.presenters import campaign_progress, release_detail
from evplatform.store import campaigns as cdb
from evplatform.store import dashboard as ddb
from evplatform.store import releases as rdb
from evplatform.store import vehicles as vdb
from evplatform.web import campaign_pages
from evplatform.web.charts import PALETTE, bar_chart
from evplatform.web.pages import context_of, error_page, render

router = APIRouter(include_in_schema=False)
router.include_router(campaign_pages.router)  # one campaign's page, its chart and CSV export
PAGE = 50


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request) -> HTMLResponse:
    try:
        store = context_of(request).store()
        campaigns = [campaign_progress(store, c.id, timeline=False) for c in cdb.list_campaigns(store)]
    except EvplatformError as error:
        return error_page(request, error)
    return render(request, "campaigns.html", title="Campaigns", campaigns=campaigns)


@router.get("/releases", response_class=HTMLResponse)
def releases_page(request: Request) -> HTMLResponse:
    try:
        store = context_of(request).store()
        kpis = {k.release: k.to_dict() for k in release_stability(store)}
        campaigns = cdb.list_campaigns(store)
        releases = []
        for r in rdb.list_releases(store):
            data = release_detail(store, r, campaigns)
            data["stability"] = kpis.get(r.id)
            releases.append(data)
    except EvplatformError as error:
        return error_page(request, error)
    return render(request, "releases.html", title="Releases", releases=releases)


@router.get("/fleet", response_class=HTMLResponse)
def fleet_page(request: Request, model: OptionalName = None, trim: OptionalName = None, market: OptionalMarket = None,
               page: Page = 0) -> HTMLResponse:
    context = context_of(request)
    model, trim, market = model or None, trim or None, market or None
    try:
        ws = context.workspace()
        store = context.store()
        cells = vdb.fleet_counts(store)
        vehicles = vdb.list_vehicles(store, model=model, trim=trim, market=market, limit=PAGE,
                                     offset=max(0, page) * PAGE)
        matching = ddb.count_vehicles(store, model=model, trim=trim, market=market)
        stability = [k.to_dict() for k in release_stability(store)]
        quarters = updates_per_vehicle_per_quarter(store)
        ecus = sorted({s.ecu for s in ws.software.values()})
        versions = ddb.software_versions(store, ecus)
        telemetry = ddb.telemetry_totals(store)
    except EvplatformError as error:
        return error_page(request, error)
    markets = sorted({c["market"] for c in cells})
    matrix: dict[str, dict[str, int]] = {}
    for cell in cells:
        matrix.setdefault(f"{cell['model']}/{cell['trim']}", {})[cell["market"]] = cell["vehicles"]
    crash_chart = bar_chart([k["release"] for k in stability],
                            [100 * (k["crash_free_7d"] or 0) for k in stability],
                            title="Crash-free vehicles over 7 days after installing", unit="%", colour=PALETTE[1])
    return render(request, "fleet.html", title="Fleet", markets=markets, matrix=matrix,
                  total=sum(c["vehicles"] for c in cells), vehicles=[views.vehicle_view(v) for v in vehicles],
                  matching=matching, page=max(0, page), page_size=PAGE, stability=stability, quarters=quarters,
                  versions=versions, telemetry=telemetry, crash_chart=crash_chart,
                  filters={"model": model or "", "trim": trim or "", "market": market or ""})

