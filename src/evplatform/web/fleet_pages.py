"""Dashboard pages about what happens after the workspace: campaigns (live), releases, the fleet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from evplatform.errors import EvplatformError
from evplatform.fleet import release_stability, updates_per_vehicle_per_quarter
from evplatform.service import views
from evplatform.service.params import CampaignId, OptionalMarket, OptionalName, Page
from evplatform.service.presenters import campaign_progress, release_detail, release_view
from evplatform.store import campaigns as cdb
from evplatform.store import dashboard as ddb
from evplatform.store import releases as rdb
from evplatform.store import vehicles as vdb
from evplatform.web.charts import PALETTE, Series, bar_chart, line_chart
from evplatform.web.pages import context_of, error_page, render

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request) -> HTMLResponse:
    try:
        store = context_of(request).store()
        campaigns = [campaign_progress(store, c.id, timeline=False) for c in cdb.list_campaigns(store)]
    except EvplatformError as error:
        return error_page(request, error)
    return render(request, "campaigns.html", title="Campaigns", campaigns=campaigns)


def timeline_svg(progress: dict[str, Any]) -> str:
    """Success and error rates over time (overall and per wave), waves' openings marked, halt noted."""
    points = progress["timeline"]["overall"]
    if not points:
        return line_chart([], title="No reports yet", y_label="rate (%)", x_label="hours since start", y_max=100)
    start = datetime.fromisoformat(progress["started_at"] or points[0]["at"])

    def hours(text: str) -> float:
        return (datetime.fromisoformat(text) - start).total_seconds() / 3600

    x = [hours(p["at"]) for p in points]
    series = [
        Series("success rate", x, [None if p["success_rate"] is None else 100 * p["success_rate"] for p in points],
               PALETTE[1]),
        Series("error rate ×10", x, [None if p["error_rate"] is None else 1000 * p["error_rate"] for p in points],
               PALETTE[2]),
        Series("updated (% of targets)", x, [100 * p["succeeded"] / max(1, progress["targets"]) for p in points],
               PALETTE[0], dashed=True),
    ]
    markers = []
    for wave, wave_points in progress["timeline"]["waves"].items():
        if wave_points and wave != "0":
            markers.append((hours(wave_points[0]["at"]), f"wave {int(wave) + 1}"))
    top = max(x)
    ticks = [(top * i / 5, f"{top * i / 5:.0f} h") for i in range(6)]
    title = f"Campaign {progress['id']} — {progress['release']}"
    if progress["state"] == "halted":
        title += " (halted)"
    return line_chart(series, title=title, y_label="%", x_label="hours since start", y_max=100, x_ticks=ticks,
                      markers=markers)


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(request: Request, campaign_id: CampaignId) -> HTMLResponse:
    try:
        store = context_of(request).store()
        progress = campaign_progress(store, campaign_id)
        release = rdb.release(store, progress["release"])
    except EvplatformError as error:
        return error_page(request, error)
    return render(request, "campaign.html", title=f"Campaign {campaign_id}", c=progress, chart=timeline_svg(progress),
                  release=release_view(release) if release else None)


@router.get("/campaigns/{campaign_id}/timeline.svg")
def campaign_chart(request: Request, campaign_id: CampaignId) -> Response:
    """The live chart, re-fetched by the page every 2 s."""
    progress = campaign_progress(context_of(request).store(), campaign_id)
    return Response(timeline_svg(progress), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


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

