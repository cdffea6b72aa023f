"""The Evolution page: the platform's KPIs over its git history, and the impact of any two versions.

``/evolution`` draws ``evplatform history`` as server-side SVG trends with the table (CSV twin:
``/evolution/history.csv``) and a form to diff two listed revisions (what ``evplatform diff``
prints). Only revisions git listed for the workspace are accepted, so nothing a client sends
reaches git. A workspace outside a git repository (the bundled demo installed in site-packages)
gets a sentence saying so and nothing to pick. The date of the compliance figures is the server's.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from evplatform.errors import EvplatformError, NotFoundError
from evplatform.evolution.history import csv_rows, workspace_history
from evplatform.evolution.impact import ImpactOptions, compare_sides
from evplatform.evolution.revisions import open_side, repository_of, revisions
from evplatform.service.context import AppContext
from evplatform.web import csv_tables
from evplatform.web.charts import PALETTE, Series, line_chart
from evplatform.web.pages import context_of, error_page, render
from evplatform.workspace.loader import demo_path

router = APIRouter(include_in_schema=False)

#: Newest commits the page evaluates (each is exported, loaded, costed and simulated once, then cached).
PAGE_COMMITS = 20
#: Monte Carlo draws per side for the page's NPV P50 (seeded: the same figures on every visit).
PAGE_DRAWS = 1_000
Revision = Annotated[str | None, Query(max_length=64, pattern=r"^[0-9a-f]{7,64}$")]


_RESULTS: OrderedDict[tuple[str, ...], dict[str, Any]] = OrderedDict()
_LOCK = threading.Lock()
#: Diff reports and histories kept (by folder, revisions and date): each takes about a second to make.
RESULTS_KEPT = 16


def _today(context: AppContext) -> date:
    return context.clock().date()


def _folder(context: AppContext) -> Path:
    """The served folder as given; not ``context.workspace()``, which refuses a version whose trims are invalid."""
    return context.workspace_path or demo_path()


def _cached(key: tuple[str, ...], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    with _LOCK:
        if key in _RESULTS:
            _RESULTS.move_to_end(key)
            return _RESULTS[key]
    value = compute()
    with _LOCK:
        _RESULTS[key] = value
        while len(_RESULTS) > RESULTS_KEPT:
            _RESULTS.popitem(last=False)
    return value


def history_of(context: AppContext) -> dict[str, Any] | None:
    """``evplatform history --json`` of the served workspace (newest PAGE_COMMITS), None outside git."""
    folder = _folder(context)
    if repository_of(folder) is None:
        return None
    on = _today(context)
    head = revisions(folder, None, 1)
    return _cached(("history", str(folder), head[0].revision if head else "", on.isoformat()),
                   lambda: workspace_history(folder, on=on, since=_since(folder)))


def _since(folder: Path) -> str | None:
    """The parent of the oldest of the newest PAGE_COMMITS commits (None: the whole history)."""
    listed = revisions(folder, None, PAGE_COMMITS + 1)
    return listed[0].revision if len(listed) > PAGE_COMMITS else None


def _trend_charts(data: dict[str, Any]) -> list[str]:
    rows = [r for r in data["rows"] if "error" not in r]
    if not rows:
        return []
    xs = [float(i) for i in range(len(rows))]
    ticks = [(float(i), r["short"][:7]) for i, r in enumerate(rows)]
    trims = sorted({t for r in rows for t in r["unit_cost"]})
    colour = {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(trims)}
    charts = [
        line_chart([Series(t, xs, [r["unit_cost"].get(t) for r in rows], colour[t]) for t in trims],
                   title="Unit cost per trim (base market)", y_label="cost", x_label="commit", x_ticks=ticks,
                   include_zero=False),
        line_chart([Series(t, xs, [r["range_km"].get(t) for r in rows], colour[t]) for t in trims],
                   title="Range per trim (km, base market cycle)", y_label="km", x_label="commit", x_ticks=ticks,
                   include_zero=False),
        line_chart([Series(label, xs, [r[key] for r in rows], PALETTE[i % len(PALETTE)])
                    for i, (key, label) in enumerate((("reuse_part_share", "part reuse"), ("tcci", "TCCI"),
                                                      ("ci", "CI")))],
                   title="Reuse and commonality across models (0–1)", y_label="index", x_label="commit",
                   x_ticks=ticks),
        line_chart([Series("features", xs, [float(r["features"]) for r in rows], PALETTE[0]),
                    Series("compliant trim × markets (new types)", xs, [float(r["compliant"]) for r in rows],
                           PALETTE[1]),
                    Series("DCI × 10", xs, [10 * r["dci"] for r in rows], PALETTE[2], dashed=True)],
                   title="Features, compliance and DCI", y_label="count", x_label="commit", x_ticks=ticks),
    ]
    return charts


def _pick(value: str | None, commits: list[dict[str, Any]], default: int, side: str) -> str | None:
    """A listed commit by (a prefix of) its id; the ``default``-th newest when none is given."""
    if value is None:
        return commits[default]["revision"] if len(commits) > default else None
    matches = [c["revision"] for c in commits if c["revision"].startswith(value)]
    if len(matches) != 1:
        raise NotFoundError("revision", f"{value!r} ({side}) among the commits that touched this workspace")
    return str(matches[0])


def _diff(context: AppContext, before: str, after: str) -> dict[str, Any]:
    """The impact report of two listed revisions (cached)."""
    folder = _folder(context)
    on = _today(context)

    def compute() -> dict[str, Any]:
        with ExitStack() as stack:
            a = stack.enter_context(open_side(before, folder, "before"))
            b = stack.enter_context(open_side(after, folder, "after"))
            return compare_sides(a, b, ImpactOptions(on=on, draws=PAGE_DRAWS))

    return _cached(("diff", str(folder), before, after, on.isoformat()), compute)


@router.get("/evolution", response_class=HTMLResponse)
def evolution_page(request: Request, before: Revision = None, after: Revision = None) -> HTMLResponse:
    """Trends over the commits that touched the workspace, and the impact of two chosen versions."""
    context = context_of(request)
    try:
        data = history_of(context)
        if data is None:
            return render(request, "evolution.html", title="Evolution", data=None, charts=[], report=None,
                          commits=[], before=None, after=None)
        commits = data["rows"][::-1]  # newest first in the form
        chosen_before = _pick(before, commits, 1, "before")
        chosen_after = _pick(after, commits, 0, "after")
        report = None
        if (before or after) and chosen_before and chosen_after:
            report = _diff(context, chosen_before, chosen_after)
    except EvplatformError as error:
        return error_page(request, error)
    changed = [r for r in report["trims"] if _changed(r)] if report else []
    return render(request, "evolution.html", title="Evolution", data=data, charts=_trend_charts(data),
                  report=report, changed=changed, commits=commits, before=chosen_before, after=chosen_after,
                  draws=PAGE_DRAWS)


def _changed(row: dict[str, Any]) -> bool:
    sim = row.get("simulation") or {}
    return bool(row["valid"]["before"] != row["valid"]["after"] or not row["valid"]["after"]
                or row["unit_cost"]["delta"] or row["mass_kg"]["delta"] or row["parts_added"]
                or row["parts_removed"] or any(c["changed"] for c in row["compliance"].values())
                or (sim.get("range_km") or {}).get("delta"))


@router.get("/evolution/history.csv")
def history_csv(request: Request) -> Response:
    """The history table of ``/evolution`` as CSV (unit cost and range per trim in their own columns)."""
    context = context_of(request)
    try:
        data = history_of(context)
        if data is None:
            raise NotFoundError("history", "the workspace is not inside a git repository")
    except EvplatformError as error:
        return error_page(request, error)
    return csv_tables.csv_response("evolution-history.csv", csv_rows(data))
