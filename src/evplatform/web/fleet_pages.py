"""Dashboard pages about what happens after the workspace: campaigns (live), releases, the fleet."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from evplatform.errors import EvplatformError
from evplatform.fleet import groups as fleet_groups
from evplatform.fleet import listing, release_stability, updates_per_vehicle_per_quarter
from evplatform.fleet.query import MAX_LENGTH as QUERY_LENGTH
from evplatform.fleet.query import QueryError
from evplatform.service import fleet_views
from evplatform.service.params import (
    MARKET_LENGTH,
    NAME_LENGTH,
    VIN_LENGTH,
    Page,
)
from evplatform.service.presenters import campaign_progress, release_detail
from evplatform.store import campaigns as cdb
from evplatform.store import dashboard as ddb
from evplatform.store import releases as rdb
from evplatform.store import vehicle_query as vq
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


ShortText = Annotated[str, Query(max_length=NAME_LENGTH)]


def fleet_filters(
    vin: Annotated[str, Query(max_length=VIN_LENGTH, description="a VIN or part of one")] = "",
    model: ShortText = "", trim: Annotated[str, Query(max_length=2 * NAME_LENGTH + 1)] = "",
    market: Annotated[str, Query(max_length=MARKET_LENGTH)] = "",
    software: Annotated[str, Query(max_length=2 * NAME_LENGTH + 1, description="ECU|version")] = "",
    campaign: Annotated[str, Query(max_length=12)] = "", campaign_state: ShortText = "",
    seen: ShortText = "", health: ShortText = "",
    q: Annotated[str, Query(max_length=QUERY_LENGTH, description="a fleet filter query")] = "",
) -> listing.FilterForm:
    """The fleet page's controls (every one bounded), as the domain's filter form."""
    ecu, _, version = software.partition("|")
    return listing.FilterForm(vin=vin, model=model, trim=trim, market=market, ecu=ecu, version=version,
                              campaign=campaign, campaign_state=campaign_state, seen=seen, health=health, q=q)


Filters = Annotated[listing.FilterForm, Depends(fleet_filters)]
FleetSort = Annotated[Literal[listing.SORTS], Query()]  # type: ignore[valid-type]
FleetOrder = Annotated[Literal["asc", "desc"], Query()]


def _form_params(form: listing.FilterForm) -> dict[str, str]:
    software = f"{form.ecu}|{form.version}" if form.ecu and form.version else ""
    values = {"vin": form.vin, "model": form.model, "trim": form.trim, "market": form.market, "software": software,
              "campaign": form.campaign, "campaign_state": form.campaign_state, "seen": form.seen,
              "health": form.health, "q": form.q}
    return {k: v for k, v in values.items() if v}


@router.get("/fleet", response_class=HTMLResponse)
def fleet_page(request: Request, form: Filters, sort: FleetSort = "vin", order: FleetOrder = "asc",
               page: Page = 0) -> HTMLResponse:
    """The vehicle list first (filters, sorting, numbered pages, CSV, saved groups), the summaries after."""
    context = context_of(request)
    query = form.query_text()
    query_error = None
    try:
        ws = context.workspace()
        store = context.store()
        now = context.clock()
        catalogue = listing.catalogue_for(store, ws)
        try:
            result = listing.search(store, query, now=now, sort=sort, descending=order == "desc",
                                    offset=page * PAGE, limit=PAGE, catalogue=catalogue)
        except QueryError as error:
            query_error, result = str(error), None
        census = vq.software_census(store)  # one query feeds the version dropdown and the per-ECU summary
        options = listing.filter_options(store, ws, census)
        saved = [g.to_dict() for g in fleet_groups.list_group_views(store, now=now, ws=ws)]
        cells = vdb.fleet_counts(store)
        stability = [k.to_dict() for k in release_stability(store)]
        quarters = updates_per_vehicle_per_quarter(store)
        ecus = sorted({s.ecu for s in ws.software.values()})
        versions = listing.installed_software(census, ecus, sum(c["vehicles"] for c in cells))
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
    params = _form_params(form)

    def link(**changes: Any) -> str:
        merged = {**params, "sort": sort, "order": order, "page": page, **changes}
        defaults = {"sort": "vin", "order": "asc", "page": 0}
        return "/fleet?" + urlencode({k: v for k, v in merged.items() if v != defaults.get(k)})

    return render(request, "fleet.html", title="Fleet", markets=markets, matrix=matrix,
                  total=sum(c["vehicles"] for c in cells), result=result, query=query, query_error=query_error,
                  vehicles=[fleet_views.listed_view(v) for v in result.vehicles] if result else [],
                  page_numbers=listing.page_numbers(result.page, result.pages) if result else [],
                  sort=sort, order=order, link=link, form=form, options=options, groups=saved,
                  csv_link="/fleet.csv?" + urlencode({**params, "sort": sort, "order": order}),
                  stability=stability, quarters=quarters, versions=versions, telemetry=telemetry,
                  crash_chart=crash_chart)


@router.get("/fleet.csv")
def fleet_csv(request: Request, form: Filters, sort: FleetSort = "vin", order: FleetOrder = "asc") -> Response:
    """The filtered list as CSV (every matching vehicle, up to 100,000), for a spreadsheet."""
    context = context_of(request)
    store = context.store()
    text = listing.csv_text(store, form.query_text(), now=context.clock(), sort=sort, descending=order == "desc",
                            catalogue=listing.catalogue_for(store, context.workspace()))
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="fleet.csv"'})

