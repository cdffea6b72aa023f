"""The insights page: business figures and peers, NPV scenarios (Monte Carlo, tornado, Sobol), risks.

The scenarios use the CLI's draws, seed and Sobol samples by default (``insights.scenarios``
``DEFAULT_*``), cached per workspace and parameters, so the page shows what
``evplatform insights scenarios --json`` prints. The peers table, the risk register and the NPV
summary have CSV twins (``/insights/peers.csv``, ``/insights/risks.csv``, ``/insights/npv.csv``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from evplatform.errors import EvplatformError
from evplatform.insights.scenarios import DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_SOBOL_SAMPLES
from evplatform.ondemand import revenue
from evplatform.service.params import INT32_MAX
from evplatform.service.presenters import business, risks, scenarios
from evplatform.web import csv_tables
from evplatform.web.charts import PALETTE, Series, bar_chart, line_chart
from evplatform.web.pages import context_of, error_page, message_of, render
from evplatform.web.sensitivity_charts import sobol_chart, tornado_chart

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

#: The page may ask for as many draws as the API allows, and no more (a page is not a batch job).
MAX_PAGE_DRAWS = max(20_000, DEFAULT_DRAWS)
Draws = Annotated[int, Query(ge=10, le=MAX_PAGE_DRAWS, description="Monte Carlo draws per scenario")]
Seed = Annotated[int, Query(ge=0, le=INT32_MAX, description="seed of the draws")]


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
    """The company's deliveries per quarter, and every peer's headline gross margin per quarter."""
    charts = []
    deliveries = data.get("series", {}).get("deliveries")
    if deliveries:
        charts.append(_quarter_chart({data["entity"]: deliveries["quarters"]},
                                     f"{data['entity']} deliveries per quarter ({deliveries.get('unit', '')})",
                                     deliveries.get("unit", "")))
    margins = {entity: points for entity, points in data.get("peer_margins", {}).items() if points}
    if margins:
        charts.append(_quarter_chart(margins, "Gross margin per quarter (%, each company's headline definition: "
                                              "see the peers table)", "%"))
    return charts


def _scenarios_timed(request: Request, draws: int, seed: int) -> dict[str, Any]:
    """The scenarios payload; logs how long a computation (not a cache hit) took."""
    started = time.perf_counter()
    report = scenarios(context_of(request), draws, seed, DEFAULT_SOBOL_SAMPLES)
    elapsed = time.perf_counter() - started
    if elapsed > 0.05:
        logger.info("insights scenarios: %d draws, seed %d computed in %.2f s", draws, seed, elapsed)
    return report


def _sensitivity_charts(report: dict[str, Any]) -> list[dict[str, str]]:
    """Per scenario: the tornado and the Sobol indices of the platform NPV."""
    unit = f"bn {report['currency']}"
    return [{"name": s["name"], "title": s["title"],
             "tornado": tornado_chart(s["tornado"]["platform"], title=f"Tornado: platform NPV, {s['title']} ({unit})",
                                      unit=unit),
             "sobol": sobol_chart(s["sobol"]["platform"], title=f"Sobol indices: platform NPV, {s['title']}")}
            for s in report["scenarios"]]


@router.get("/insights", response_class=HTMLResponse)
def insights_page(request: Request, draws: Draws = DEFAULT_DRAWS, seed: Seed = DEFAULT_SEED) -> HTMLResponse:
    """Business figures and peers, NPV scenarios (Monte Carlo, tornado, Sobol), the risk register and matrix."""
    context = context_of(request)
    sections: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    computations: tuple[tuple[str, Callable[[], dict[str, Any]]], ...] = (
        ("business", lambda: business(context)), ("scenarios", lambda: _scenarios_timed(request, draws, seed)),
        ("risks", lambda: risks(context)),
        ("on_demand", lambda: revenue.summary(context.store(), context.workspace(), at=context.clock())))
    for name, compute in computations:
        try:
            sections[name] = compute()
        except EvplatformError as error:
            unavailable[name] = message_of(request, error)
    if "business" in sections and not sections["business"].get("available", True):
        unavailable["business"] = sections.pop("business")["message"]
    charts = _business_charts(sections["business"]) if "business" in sections else []
    loss_chart, sensitivity = "", []
    if "scenarios" in sections:
        rows = sections["scenarios"].get("comparison", [])
        loss_chart = bar_chart([r["name"] for r in rows], [100 * r["probability_loss"] for r in rows],
                               title="Probability that the NPV is negative (%)", unit="%", colour=PALETTE[2], digits=1)
        sensitivity = _sensitivity_charts(sections["scenarios"])
    peers = csv_tables.peer_rows(sections["business"]) if "business" in sections else []
    return render(request, "insights.html", title="Insights", sections=sections, unavailable=unavailable,
                  business_charts=charts, loss_chart=loss_chart, sensitivity=sensitivity, peers=peers,
                  defaults={"draws": DEFAULT_DRAWS, "seed": DEFAULT_SEED, "sobol": DEFAULT_SOBOL_SAMPLES},
                  query=f"draws={draws}&seed={seed}", max_draws=MAX_PAGE_DRAWS)


def _csv(request: Request, filename: str, compute: Callable[[], dict[str, Any]],
         table: Callable[[dict[str, Any]], csv_tables.Table]) -> Response:
    try:
        payload = compute()
    except EvplatformError as error:
        return error_page(request, error)
    return csv_tables.csv_response(filename, table(payload))


@router.get("/insights/peers.csv")
def peers_csv(request: Request) -> Response:
    """The peers table (one row per company and measure, with definition, period and basis) as CSV."""
    return _csv(request, "peers.csv", lambda: business(context_of(request)), csv_tables.peers_table)


@router.get("/insights/risks.csv")
def risks_csv(request: Request) -> Response:
    """The risk register with scores and ratings as CSV."""
    return _csv(request, "risks.csv", lambda: risks(context_of(request)), csv_tables.risks_table)


@router.get("/insights/npv.csv")
def npv_csv(request: Request, draws: Draws = DEFAULT_DRAWS, seed: Seed = DEFAULT_SEED) -> Response:
    """The NPV summary of every scenario (P5/P50/P95, P(loss)) for the draws and seed, as CSV."""
    return _csv(request, f"npv-{draws}-draws-seed-{seed}.csv", lambda: _scenarios_timed(request, draws, seed),
                csv_tables.npv_table)
