"""The features-on-demand page: the catalogue, MRR over the last twelve months, attach rates per trim ×
market, churn, and CSV twins of its tables (``/features-on-demand/attach.csv``, ``…/features.csv``,
``…/months.csv``). The figures are ``evplatform fod revenue --json`` at the server clock; a ledger seeded
by ``fleet demo`` is labelled ESTIMATE on the page and in the files' basis column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from evplatform.errors import EvplatformError
from evplatform.ondemand import revenue
from evplatform.web import csv_tables
from evplatform.web.charts import PALETTE, Series, bar_chart, line_chart
from evplatform.web.pages import context_of, error_page, render

router = APIRouter(include_in_schema=False)


def _summary(request: Request) -> dict[str, Any]:
    context = context_of(request)
    return revenue.summary(context.store(), context.workspace(), at=context.clock())


def _charts(report: dict[str, Any]) -> list[str]:
    """MRR per month (line) and the share of vehicles with a paid feature per trim × market (bars)."""
    months = report["series"]
    if not months:
        return []
    cur = report["currency"]
    x = list(range(len(months)))
    mrr = line_chart([Series("MRR", x, [m["mrr"] for m in months], PALETTE[0])],
                     title=f"Monthly recurring revenue ({cur}/month), at each month's end", y_label=f"{cur}/month",
                     x_label="month", x_ticks=[(i, m["month"]) for i, m in enumerate(months) if i % 2 == 0],
                     width=760)
    rows = [r for r in report["attach"] if r["attach_rate"] is not None]
    attach = bar_chart([f"{r['trim']} {r['market']}" for r in rows], [100 * r["attach_rate"] for r in rows],
                       title="Vehicles with at least one paid feature, per trim × market (%)", unit="%",
                       colour=PALETTE[1], digits=1, label_width=190) if rows else ""
    return [c for c in (mrr, attach) if c]


@router.get("/features-on-demand", response_class=HTMLResponse)
def features_on_demand_page(request: Request) -> HTMLResponse:
    """MRR, one-off sales, churn and attach rates of the paid features, with the catalogue."""
    context = context_of(request)
    ws = context.workspace()
    try:
        report = _summary(request)
    except EvplatformError as error:
        return error_page(request, error)
    return render(request, "features_on_demand.html", title="Features on demand", report=report,
                  catalogue=list(ws.on_demand.features.values()), charts=_charts(report),
                  features=list(ws.on_demand.features))


def attach_table(report: dict[str, Any]) -> csv_tables.Table:
    features = [f["feature"] for f in report["by_feature"]]
    header = ["trim", "market", "vehicles", "with a paid feature", "attach rate (share)", "basis"]
    for feature in features:
        header += [f"{feature} eligible", f"{feature} holders", f"{feature} attach rate (share)"]
    rows = []
    for r in report["attach"]:
        row = [r["trim"], r["market"], r["vehicles"], r["with_any"], r["attach_rate"], report["basis"]]
        for feature in features:
            cell = r["features"][feature]
            row += [cell["eligible"], cell["holders"], cell["attach_rate"]]
        rows.append(row)
    return header, rows


def features_table(report: dict[str, Any]) -> csv_tables.Table:
    cur = report["currency"]
    header = ["feature", "billing", f"price ({cur}; per month when monthly)", "type approval relevant", "holders",
              "eligible vehicles", "attach rate (share)", f"MRR ({cur}/month)", "basis"]
    rows = [[f["feature"], f["billing"], f["price"], f["type_approval_relevant"], f["holders"], f["eligible"],
             f["attach_rate"], f["mrr"], report["basis"]] for f in report["by_feature"]]
    return header, rows


def months_table(report: dict[str, Any]) -> csv_tables.Table:
    cur = report["currency"]
    header = ["month", f"MRR at month end ({cur}/month)", f"one-off sales ({cur})", "churn (share)",
              "subscriptions ended", "subscriptions a month before", "basis"]
    rows = [[m["month"], m["mrr"], m["one_off"], m["churn_rate"], m["churned"], m["subscribers_at_start"],
             report["basis"]] for m in report["series"]]
    return header, rows


def _csv(request: Request, filename: str, table: Callable[[dict[str, Any]], csv_tables.Table]) -> Response:
    try:
        report = _summary(request)
    except EvplatformError as error:
        return error_page(request, error)
    return csv_tables.csv_response(filename, table(report))


@router.get("/features-on-demand/attach.csv")
def attach_csv(request: Request) -> Response:
    """Attach rates per trim × market (any paid feature and per feature) as CSV."""
    return _csv(request, "fod-attach.csv", attach_table)


@router.get("/features-on-demand/features.csv")
def features_csv(request: Request) -> Response:
    """Per paid feature: price, holders, eligible vehicles, attach rate, MRR, as CSV."""
    return _csv(request, "fod-features.csv", features_table)


@router.get("/features-on-demand/months.csv")
def months_csv(request: Request) -> Response:
    """MRR, one-off sales and churn per month (the last twelve) as CSV."""
    return _csv(request, "fod-months.csv", months_table)
