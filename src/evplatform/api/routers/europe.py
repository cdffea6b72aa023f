"""Europe market entry: landed cost, customer price and incentives per trim × EU country."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from evplatform.api.context import Context
from evplatform.api.responses.europe import EuropeOut
from evplatform.europe import DEFAULT_LOGISTICS_EUR, DEFAULT_MARGIN
from evplatform.service.europe_views import EuropeQuery, europe_view

router = APIRouter(prefix="/api", tags=["europe"])


@router.get("/europe", response_model=EuropeOut,
            summary="Landed cost, customer price and incentive eligibility of every trim per EU country")
def europe(
    context: Context,
    country: Annotated[str | None, Query(max_length=8, description="one country of the data")] = None,
    duty: Annotated[str, Query(max_length=40, description="35.3, 20.7 or undertaking:EUR")] = "35.3",
    eur_per_unit: Annotated[float | None, Query(gt=0, lt=1000, description="EUR per unit of the workspace "
                                                                             "currency")] = None,
    rate_date: Annotated[str | None, Query(max_length=10, description="date of the rate, YYYY-MM-DD")] = None,
    logistics_eur: Annotated[float, Query(ge=0, le=100_000, description="ESTIMATE per car")] = DEFAULT_LOGISTICS_EUR,
    margin: Annotated[float, Query(ge=0, le=5, description="ESTIMATE importer margin")] = DEFAULT_MARGIN,
    assembly: Annotated[str, Query(min_length=2, max_length=8)] = "CN",
    battery: Annotated[str, Query(min_length=2, max_length=8)] = "CN",
    eco_score: Annotated[float | None, Query(ge=0, le=100)] = None,
    on: Annotated[str | None, Query(max_length=10, description="incentives evaluated on (default: today)")] = None,
) -> dict[str, Any]:
    query = EuropeQuery(country, duty, eur_per_unit, rate_date, logistics_eur, margin, assembly, battery, eco_score, on)
    return europe_view(context, query)
