"""Compliance of every model × trim in a market on a date, and the roadmap (``evplatform.markets``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from evplatform.api.context import Context
from evplatform.api.responses import ComplianceOut, MarketViewOut, RegulationViewOut, RoadmapOut
from evplatform.service import compliance_views
from evplatform.service.params import MARKET_LENGTH, NAME_LENGTH
from evplatform.service.presenters import compliance, roadmap

router = APIRouter(prefix="/api/compliance", tags=["compliance"])


@router.get("", response_model=ComplianceOut,
            summary="The `comply --json` verdicts of every model and trim in a market on a date")
def get_compliance(
    context: Context,
    market: Annotated[str, Query(max_length=MARKET_LENGTH)],
    on: Annotated[date, Query(alias="date", description="YYYY-MM-DD")],
    mode: Literal["new_types", "all"] = "new_types",
) -> dict[str, Any]:
    return compliance(context, market, on, mode)


@router.get("/roadmap", response_model=RoadmapOut,
            summary="The `comply --roadmap --json` payload: what changes when, per market")
def get_roadmap(context: Context) -> dict[str, Any]:
    return roadmap(context)


@router.get("/regulations/{regulation_id}", response_model=RegulationViewOut,
            summary="The `comply regulation ID --json` payload: one regulation, where it applies, who breaks it")
def get_regulation(
    context: Context,
    regulation_id: Annotated[str, Path(max_length=NAME_LENGTH)],
    on: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD (default: today)")] = None,
) -> dict[str, Any]:
    return compliance_views.regulation(context, regulation_id, on or context.clock().date())


@router.get("/markets/{market}", response_model=MarketViewOut,
            summary="The `comply market CODE --json` payload: what applies when, failing trims, cheapest fix")
def get_market(
    context: Context,
    market: Annotated[str, Path(max_length=MARKET_LENGTH)],
    on: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD (default: today)")] = None,
) -> dict[str, Any]:
    return compliance_views.market(context, market, on or context.clock().date())
