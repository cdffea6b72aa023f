"""Compliance of every model × trim in a market on a date, and the roadmap (``evplatform.markets``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from evplatform.api.context import ApiContext, get_context
from evplatform.api.errors import Unavailable

router = APIRouter(prefix="/api/compliance", tags=["compliance"])
Context = Annotated[ApiContext, Depends(get_context)]


def markets_function(name: str) -> Callable[..., dict[str, Any]]:
    """``evplatform.markets.<name>``, or 501 when this build has no compliance engine."""
    function = getattr(importlib.import_module("evplatform.markets"), name, None)
    if function is None:
        raise Unavailable(f"compliance is not available in this build (evplatform.markets.{name} is missing)")
    return function


def compliance(context: ApiContext, market: str, on: date, mode: str = "new_types") -> dict[str, Any]:
    key = ("comply", market, on.isoformat(), mode)
    report = markets_function("compliance_report")
    return context.cached(key, lambda: report(context.workspace(), market, on, mode=mode))


def roadmap(context: ApiContext) -> dict[str, Any]:
    report = markets_function("roadmap_report")
    return context.cached(("roadmap",), lambda: report(context.workspace()))


@router.get("", summary="The `comply --json` verdicts of every model and trim in a market on a date")
def get_compliance(
    context: Context,
    market: str,
    on: Annotated[date, Query(alias="date", description="YYYY-MM-DD")],
    mode: Literal["new_types", "all"] = "new_types",
) -> dict[str, Any]:
    return compliance(context, market, on, mode)


@router.get("/roadmap", summary="The `comply --roadmap --json` payload: what changes when, per market")
def get_roadmap(context: Context) -> dict[str, Any]:
    return roadmap(context)
