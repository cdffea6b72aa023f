"""A campaign's page: live progress, the actions its state allows, history, cohorts and vehicles.

The buttons drawn are the domain's transition table for the campaign's state (``fleet.campaign_states``,
through ``progress["allowed_actions"]``); ``static/campaign.js`` keeps them in step as the state changes,
asks for a confirmation and a reason before every decision, and posts it to the API. The vehicle list
is the page of ``GET /api/campaigns/{id}/vehicles`` with the same filters, exportable as CSV.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from evplatform.errors import EvplatformError
from evplatform.fleet import campaign_recovery as rec
from evplatform.fleet.campaign_states import LABELS, Action
from evplatform.service.campaign_views import cohorts_view, history_view, vehicles_csv, vehicles_view
from evplatform.service.params import INT32_MAX, MAX_OFFSET, CampaignId
from evplatform.service.presenters import campaign_progress, release_view
from evplatform.store import campaign_roster as roster
from evplatform.store import releases as rdb
from evplatform.web.charts import PALETTE, Series, line_chart, time_ticks
from evplatform.web.pages import context_of, error_page, render

router = APIRouter(include_in_schema=False)

#: A wave as the filter form sends it: empty (every wave) or a 1-based number.
WaveQuery = Annotated[str | None, Query(max_length=10, pattern=r"^[0-9]*$")]
StatusQuery = Annotated[str | None, Query(max_length=16)]
PageQuery = Annotated[int, Query(ge=1, le=MAX_OFFSET // 1000)]
PAGE_SIZE = 50
#: The order the buttons appear in.
BUTTONS: tuple[Action, ...] = (Action.PAUSE, Action.RESUME, Action.ACK, Action.EXCLUDE, Action.RETRY,
                               Action.NEXT_WAVE, Action.CANCEL)
PANELS = ("rates", "errors")


def _seconds_axis(progress: dict[str, Any]) -> tuple[list[float], datetime | None]:
    points = progress["timeline"]["overall"]
    if not points:
        return [], None
    start = datetime.fromisoformat(progress["started_at"] or points[0]["at"])
    return [(datetime.fromisoformat(p["at"]) - start).total_seconds() for p in points], start


def timeline_svg(progress: dict[str, Any], panel: str = "rates") -> str:
    """One panel of the campaign's chart over time since its start, in a unit the span reads in.

    ``rates``: success rate and the share of targets updated, 0–100 %. ``errors``: the error rate on its
    own round % axis with the active wave's threshold dashed (an error rate of 2 % on a 100 % axis
    is a flat line; it was once drawn ×10 on the success axis instead).
    """
    x, start = _seconds_axis(progress)
    title = f"Campaign {progress['id']} — {progress['release']}" + (" (halted)" if progress["state"] == "halted"
                                                                     else "")
    ticks, x_label = time_ticks(max(x) if x else 0.0)
    x_range = (0.0, ticks[-1][0])
    points = progress["timeline"]["overall"]
    markers = []
    if start is not None:
        for wave, wave_points in progress["timeline"]["waves"].items():
            if wave_points and wave != "0":
                at = (datetime.fromisoformat(wave_points[0]["at"]) - start).total_seconds()
                markers.append((at, f"wave {int(wave) + 1}"))
    if panel == "errors":
        errors = [None if p["error_rate"] is None else 100 * p["error_rate"] for p in points]
        threshold = 100 * progress["waves"][min(progress["current_wave"] or 0, len(progress["waves"]) - 1)][
            "error_threshold"] if progress["waves"] else 0.0
        top = max([e for e in errors if e is not None] + [threshold * 1.25, 1.0])
        series = [Series("error rate (failed + rolled back, % of reports)", x, errors, PALETTE[2])]
        if x:
            series.append(Series(f"threshold {threshold:g} %", [0.0, x_range[1]], [threshold, threshold], PALETTE[4],
                                 dashed=True))
        return line_chart(series, title=title + ": error rate", y_label="error rate (%)", x_label=x_label,
                          x_ticks=ticks, x_range=x_range, y_max=top, y_unit="%", markers=markers)
    series = [
        Series("success rate (% of reports)", x,
               [None if p["success_rate"] is None else 100 * p["success_rate"] for p in points], PALETTE[1]),
        Series("updated (% of targets)", x, [100 * p["succeeded"] / max(1, progress["targets"]) for p in points],
               PALETTE[0], dashed=True),
    ]
    if not x:
        series = []
        title = "No reports yet"
    return line_chart(series, title=title, y_label="rate (%)", x_label=x_label, x_ticks=ticks, x_range=x_range,
                      y_max=100, y_unit="%", markers=markers)


def _wave(text: str | None) -> int | None:
    """The form's wave (1-based text, empty for all) as the domain's 0-based index."""
    if not text:
        return None
    number = int(text)
    if not 1 <= number <= INT32_MAX:
        raise rec.CampaignReasonError(f"wave: waves are numbered from 1, not {text}")
    return number - 1


def _query(wave: str | None, status: str | None, page: int) -> rec.VehicleQuery:
    return rec.VehicleQuery(wave=_wave(wave), status=status or None, page=page, size=PAGE_SIZE)


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(request: Request, campaign_id: CampaignId, wave: WaveQuery = None, status: StatusQuery = None,
                  page: PageQuery = 1) -> HTMLResponse:
    try:
        store = context_of(request).store()
        progress = campaign_progress(store, campaign_id)
        release = rdb.release(store, progress["release"])
        vehicles = vehicles_view(store, campaign_id, _query(wave, status, page))
        history = history_view(store, campaign_id)["history"]
        cohorts = cohorts_view(store, campaign_id)
        markets = roster.markets(store, campaign_id)
    except EvplatformError as error:
        return error_page(request, error)
    models = sorted({c["cohort"].split("/")[0] for c in cohorts})
    return render(request, "campaign.html", title=f"Campaign {campaign_id}", c=progress,
                  charts={p: timeline_svg(progress, p) for p in PANELS},
                  release=release_view(release) if release else None, vehicles=vehicles, history=history,
                  cohorts=cohorts, buttons=[(a.value, LABELS[a]) for a in BUTTONS],
                  allowed=set(progress["allowed_actions"]), statuses=rec.STATUSES,
                  exclude_choices=_exclude_choices(models, sorted({c["cohort"] for c in cohorts}), markets),
                  filters={"wave": int(wave) if wave else "", "status": status or ""})


def _exclude_choices(models: list[str], trims: list[str], markets: list[str]) -> list[tuple[str, str]]:
    """(value, label) of every cohort that may be excluded: models, model/trims and markets of the campaign."""
    return ([(f"model={m}", f"model {m}") for m in models]
            + [(f"model={t.split('/')[0]}&trim={t.split('/', 1)[1]}", f"trim {t}") for t in trims if "/" in t]
            + [(f"market={m}", f"market {m}") for m in markets])


@router.get("/campaigns/{campaign_id}/vehicles.csv")
def campaign_vehicles_csv(request: Request, campaign_id: CampaignId, wave: WaveQuery = None,
                          status: StatusQuery = None) -> Response:
    """Every vehicle matching the page's filters (not only the page shown), for a spreadsheet."""
    store = context_of(request).store()
    query = _query(wave, status, 1)  # checks the filters before the first byte is sent (422 otherwise)
    campaign_progress(store, campaign_id, timeline=False)  # 404 for an unknown campaign
    name = f"campaign-{campaign_id}-vehicles" + (f"-wave-{wave}" if wave else "") + (f"-{status}" if status else "")
    return StreamingResponse(vehicles_csv(store, campaign_id, wave=query.wave, status=query.status),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/campaigns/{campaign_id}/timeline.svg")
def campaign_chart(request: Request, campaign_id: CampaignId,
                   panel: Annotated[str, Query(pattern="^(rates|errors)$")] = "rates") -> Response:
    """The live chart's panels, re-fetched by the page every 2 s while the campaign changes."""
    progress = campaign_progress(context_of(request).store(), campaign_id)
    return Response(timeline_svg(progress, panel), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})
