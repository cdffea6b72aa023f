"""Compliance of every model × trim in a market on a date, and the roadmap (``evplatform.markets``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from evplatform.api.context import Context
from evplatform.api.responses import ComplianceOut, RoadmapOut
from evplatform.service.params import MARKET_LENGTH
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
