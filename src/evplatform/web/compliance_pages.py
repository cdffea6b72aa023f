"""The compliance workbench (issue 15 §4): matrix in both modes, roadmap, timeline, regulation and market pages.

Every page is a GET with its controls in the query (as-of date, markets, mode), so it works
without JavaScript and a link reproduces what was seen. The date defaults to the server's clock.
What is grouped and how lines are ordered is the domain's (``markets.grouping``, ``markets.lookup``,
the same as ``evplatform comply``); this module parses, calls, caches and renders.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from evplatform.errors import EvplatformError, MarketsError
from evplatform.markets import MODES, roadmap_report
from evplatform.markets.grouping import (
    MATRIX_COLUMNS,
    collapse_members,
    matrix_rows,
    roadmap_columns,
    roadmap_lines,
    roadmap_rows,
    stop_dates,
)
from evplatform.markets.lookup import compliance_years
from evplatform.markets.roadmap import at_risk_summary
from evplatform.markets.rules import MODE_MEANING, require_market
from evplatform.service import compliance_views
from evplatform.service.context import AppContext
from evplatform.service.params import MARKET_LENGTH, NAME_LENGTH
from evplatform.service.presenters import compliance
from evplatform.web.pages import context_of, error_page, render
from evplatform.web.timeline_chart import TimelineRow, timeline_chart

router = APIRouter(include_in_schema=False)

MODE_LABEL = {"new_types": "new type", "all": "registration"}
#: The mode control: both side by side (the default, as the CLI prints), or one of them.
MODE_CHOICES = {"both": "both (new type and registration)", "new_types": "type approval of a new type",
                "all": "registration of a new vehicle"}
MAX_MARKETS = 64
FIRST_YEAR, LAST_YEAR = 1950, 2200
DateQuery = Annotated[str | None, Query(max_length=10, description="as-of date YYYY-MM-DD (default: today)")]
ModeQuery = Annotated[str, Query(max_length=12)]
MarketsQuery = Annotated[list[str] | None, Query(description="markets (repeat; none: every market)")]


@dataclass(frozen=True, slots=True)
class Controls:
    """The parsed query: the as-of day, the modes shown and the chosen markets (never empty)."""

    day: date
    mode: str
    modes: tuple[str, ...]
    markets: list[str]
    selected: list[str]  # as asked (empty: all)

    def query(self, **override: Any) -> str:
        """The query string of these controls (for links to the CSV exports and between pages)."""
        values: list[tuple[str, str]] = [("on", self.day.isoformat()), ("mode", self.mode)]
        values += [("market", m) for m in self.selected]
        return urlencode(values + list(override.items()))


def _day(context: AppContext, on: str | None) -> date:
    """The as-of date of the query, else today on the server's clock."""
    if not on:
        return context.clock().date()
    try:
        day = date.fromisoformat(on)
    except ValueError:
        raise MarketsError(f"date must be YYYY-MM-DD, got {on!r}") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:  # the timeline and the yearly table need a few years after it
        raise MarketsError(f"date must be between {FIRST_YEAR} and {LAST_YEAR}, got {on!r}")
    return day


def _controls(context: AppContext, on: str | None, mode: str, markets: list[str] | None) -> Controls:
    """Parse and bound the query; a bad value is a MarketsError (a 400 page naming it)."""
    ws = context.workspace()
    day = _day(context, on)
    if mode not in MODE_CHOICES:
        raise MarketsError(f"mode must be one of {', '.join(MODE_CHOICES)}, not {mode[:20]!r}")
    asked = [m for m in (markets or []) if m]
    if len(asked) > MAX_MARKETS or any(len(m) > MARKET_LENGTH for m in asked):
        raise MarketsError(f"at most {MAX_MARKETS} markets of at most {MARKET_LENGTH} characters")
    for market in asked:
        require_market(ws, market)
    chosen = [m for m in ws.markets if m in asked] if asked else list(ws.markets)
    modes = MODES if mode == "both" else (mode,)
    return Controls(day, mode, modes, chosen, [m for m in ws.markets if m in asked])


def _roadmap(context: AppContext, day: date) -> dict[str, Any]:
    """The roadmap of every market as of ``day`` (cached: the pages filter it by market and mode)."""
    return context.cached(("comply-roadmap", day.isoformat()), lambda: roadmap_report(context.workspace(), as_of=day))


def _lines(context: AppContext, controls: Controls) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    plan = _roadmap(context, controls.day)
    lines = roadmap_lines(context.workspace(), plan, controls.markets)
    return [line for line in lines if line["mode"] in controls.modes], plan


def _matrix(context: AppContext, controls: Controls) -> dict[str, Any]:
    """The ``compliance_matrix`` shape for the chosen markets, from the cached per-market reports."""
    return {"date": controls.day.isoformat(),
            "markets": [{"market": m, "modes": {mode: compliance(context, m, controls.day, mode) for mode in MODES}}
                        for m in controls.markets]}


def _timeline(lines: list[dict[str, Any]], day: date) -> str:
    """When each model stops complying, per mode and market line, unless something changes."""
    rows = [TimelineRow(f"{item['model']} · {' '.join(item['markets'])} · {MODE_LABEL[item['mode']]}",
                        [(date.fromisoformat(e["date"]), ", ".join(e["new_regulations"]))
                         for e in item["events"] if e["date"][:1].isdigit()])
            for item in stop_dates(lines)]
    if not rows:
        return ""
    last = max((d for row in rows for d, _ in row.dates), default=day)
    end = date(max(last.year + 1, day.year + 3), 1, 1)
    return timeline_chart(rows, start=day, end=end,
                          title=f"When each model stops complying unless something changes (from {day.isoformat()})")


@router.get("/compliance", response_class=HTMLResponse)
def compliance_page(request: Request, on: DateQuery = None, mode: ModeQuery = "both",
                    market: MarketsQuery = None) -> HTMLResponse:
    """The matrix (trim × market, both modes, reasons and warnings in each cell), by year, the roadmap."""
    context = context_of(request)
    try:
        controls = _controls(context, on, mode, market)
        ws = context.workspace()
        matrix = _matrix(context, controls)
        years = compliance_years(ws, controls.day)
        by_year = {(m, year, md): compliance(context, m, date(year, 1, 1), md).get("summary", {})
                   for m in controls.markets for year in years for md in controls.modes}
        lines, plan = _lines(context, controls)
    except EvplatformError as error:
        return error_page(request, error)
    cells = {(f"{v['model']}/{v['trim']}", entry["market"], md): v
             for entry in matrix["markets"] for md in MODES for v in entry["modes"][md]["verdicts"]}
    unverified = {w["regulation"]: w for entry in matrix["markets"] for md in controls.modes
                  for w in entry["modes"][md]["warnings"]}
    risks = []
    for risk in at_risk_summary(plan):
        markets = [m for m in risk["markets"] if m in controls.markets]
        if markets:
            shown, members = collapse_members(ws, markets)
            risks.append({**risk, "markets": shown, "members": members})
    return render(request, "compliance.html", title="Compliance", c=controls, all_markets=list(ws.markets),
                  trims=[t.key for t in ws.trims()], cells=cells, day=controls.day.isoformat(),
                  mode_label=MODE_LABEL, mode_choices=MODE_CHOICES, mode_meaning=MODE_MEANING,
                  unverified=list(unverified.values()), years=years, by_year=by_year, roadmap=lines, risks=risks,
                  timeline=_timeline(lines, controls.day), currency=ws.platform.currency,
                  regulations=ws.regulations)


def _cell(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP CSV injection); numbers stay numbers."""
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def _csv(columns: tuple[str, ...], rows: list[dict[str, str]], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: _cell(value) for key, value in row.items()} for row in rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/compliance/matrix.csv")
def matrix_csv(request: Request, on: DateQuery = None, mode: ModeQuery = "both",
               market: MarketsQuery = None) -> Response:
    """The matrix, one row per market × mode × trim (the controls of the page)."""
    context = context_of(request)
    try:
        controls = _controls(context, on, mode, market)
        rows = matrix_rows(_matrix(context, controls), controls.modes)
    except EvplatformError as error:
        return error_page(request, error)
    return _csv(MATRIX_COLUMNS, rows, f"compliance-matrix-{controls.day.isoformat()}.csv")


@router.get("/compliance/roadmap.csv")
def roadmap_csv(request: Request, on: DateQuery = None, mode: ModeQuery = "both",
                market: MarketsQuery = None) -> Response:
    """The roadmap lines in date order from the as-of date; costs cumulative, per vehicle and per year."""
    context = context_of(request)
    try:
        controls = _controls(context, on, mode, market)
        lines, plan = _lines(context, controls)
    except EvplatformError as error:
        return error_page(request, error)
    currency = plan["currency"]
    return _csv(roadmap_columns(currency), roadmap_rows(lines, currency),
                f"compliance-roadmap-{controls.day.isoformat()}.csv")


@router.get("/compliance/regulations/{regulation_id}", response_class=HTMLResponse)
def regulation_page(request: Request, regulation_id: Annotated[str, Path(max_length=NAME_LENGTH)],
                    on: DateQuery = None) -> HTMLResponse:
    """One regulation: title, source, dates, status, where it applies and which trims break it."""
    context = context_of(request)
    try:
        day = _day(context, on)
        view = compliance_views.regulation(context, regulation_id, day)
    except EvplatformError as error:
        return error_page(request, error)
    return render(request, "compliance_regulation.html", title=f"Regulation {view['regulation']}", r=view,
                  mode_label=MODE_LABEL, modes=MODES)


@router.get("/compliance/markets/{market}", response_class=HTMLResponse)
def market_page(request: Request, market: Annotated[str, Path(max_length=MARKET_LENGTH)],
                on: DateQuery = None) -> HTMLResponse:
    """One market: what applies and from when, which trims fail, and the cheapest fix at each date."""
    context = context_of(request)
    try:
        day = _day(context, on)
        view = compliance_views.market(context, market, day)
    except EvplatformError as error:
        return error_page(request, error)
    return render(request, "compliance_market.html", title=f"Compliance in {view['market']} ({view['name']})",
                  m=view, mode_label=MODE_LABEL, modes=MODES)
