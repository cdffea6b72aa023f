"""The Europe 2027 page: landed cost, customer price after incentives and eligibility per country × trim.

The payload is ``service.europe_views`` (as ``GET /api/europe`` serves it); this module renders it
and its CSV. The scenario comes from the query string (the form on the page); a workspace not in EUR
needs an exchange rate with its date, and the page asks for it instead of guessing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from evplatform.errors import EvplatformError
from evplatform.europe import DEFAULT_LOGISTICS_EUR, DEFAULT_MARGIN, EuropeInputError
from evplatform.service.europe_views import EuropeQuery, europe_view
from evplatform.web import csv_tables
from evplatform.web.pages import context_of, error_page, message_of, render

router = APIRouter(include_in_schema=False)

FIGURES = (("landed", "unit_cost", "unit cost"), ("landed", "logistics", "logistics"),
           ("landed", "mfn_duty", "EU customs duty"), ("landed", "countervailing_duty", "countervailing duty"),
           ("customer", "net_price", "net price"), ("customer", "vat", "VAT"),
           ("customer", "registration_tax", "registration tax"))


def _query(
    country: Annotated[str | None, Query(max_length=8)] = None,
    duty: Annotated[str, Query(max_length=40)] = "35.3",
    eur_per_unit: Annotated[str | None, Query(max_length=20)] = None,
    rate_date: Annotated[str | None, Query(max_length=10)] = None,
    logistics_eur: Annotated[float, Query(ge=0, le=100_000)] = DEFAULT_LOGISTICS_EUR,
    margin: Annotated[float, Query(ge=0, le=5)] = DEFAULT_MARGIN,
    assembly: Annotated[str, Query(min_length=2, max_length=8)] = "CN",
    battery: Annotated[str, Query(min_length=2, max_length=8)] = "CN",
    eco_score: Annotated[str | None, Query(max_length=20)] = None,
    on: Annotated[str | None, Query(max_length=10)] = None,
) -> EuropeQuery:
    return EuropeQuery(country or None, duty, _optional_number(eur_per_unit, "eur_per_unit", 1000),
                       rate_date or None, logistics_eur, margin, assembly, battery,
                       _optional_number(eco_score, "eco_score", 100), on or None)


def _optional_number(text: str | None, name: str, largest: float) -> float | None:
    """A form's number field: empty is "not given"; anything else must be a number in (0, largest]."""
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise EuropeInputError(f"{name}: {text!r} is not a number") from None
    if not 0 <= value <= largest:
        raise EuropeInputError(f"{name}: {value:g} out of range [0, {largest:g}]")
    return value


def sources(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every distinct figure source with its confidence (the page's sources table)."""
    seen: dict[tuple[str, str, str], None] = {}
    for row in data["rows"]:
        for part, key, label in FIGURES:
            figure = row[part][key]
            seen[(label, figure["source"], figure["confidence"])] = None
        for incentive in row["incentives"]:
            seen[(f"incentive: {incentive['scheme']}", incentive["amount"]["source"],
                  incentive["amount"]["confidence"])] = None
    low = {"low", "estimate"}
    return [{"figure": f, "source": s, "confidence": c, "low": c.lower() in low} for f, s, c in seen]


def europe_table(data: dict[str, Any]) -> csv_tables.Table:
    header = ["trim", "country", "landed cost EUR", "net price EUR", "VAT EUR", "registration tax EUR",
              "gross price EUR", "incentive EUR", "incentive scheme", "price after incentives EUR",
              "not eligible (reasons)", "low-confidence inputs"]
    rows = []
    for r in data["rows"]:
        c = r["customer"]
        reasons = "; ".join(f"{i['scheme']}: {x['message']}" for i in r["incentives"] for x in i["reasons"])
        rows.append([r["trim"], r["country"], r["landed"]["landed_cost_eur"], c["net_price"]["value"],
                     c["vat"]["value"], c["registration_tax"]["value"], c["gross_price_eur"], c["incentive_eur"],
                     c["incentive_scheme"], c["price_after_incentives_eur"], reasons, ", ".join(r["low_confidence"])])
    return header, rows


@router.get("/europe", response_class=HTMLResponse)
def europe_page(request: Request, query: Annotated[EuropeQuery, Depends(_query)]) -> HTMLResponse:
    """Per country × trim: what landing a trim costs and what a customer pays after incentives, and why not."""
    return _page(request, query)


def _page(request: Request, query: EuropeQuery) -> HTMLResponse:
    context = context_of(request)
    try:
        currency = context.workspace().platform.currency
        data = europe_view(context, query)
    except EuropeInputError as error:  # the scenario is incomplete: show the form with what is missing
        response = render(request, "europe.html", title="Europe 2027", data=None, query=query, currency=currency,
                          problem=message_of(request, error), sources=[])
        response.status_code = 400 if request.url.query else 200  # the first visit asks; a bad query is a 400
        return response
    except EvplatformError as error:
        return error_page(request, error)
    return render(request, "europe.html", title="Europe 2027", data=data, query=query, currency=currency,
                  problem=None, sources=sources(data))


@router.get("/europe.csv")
def europe_csv(request: Request, query: Annotated[EuropeQuery, Depends(_query)]) -> Response:
    """Every trim × country row of the page, with the reasons and the low-confidence inputs."""
    try:
        data = europe_view(context_of(request), query)
    except EvplatformError as error:
        return error_page(request, error)
    return csv_tables.csv_response("europe.csv", europe_table(data))
