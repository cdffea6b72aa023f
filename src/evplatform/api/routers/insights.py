"""Business figures, NPV scenarios and risks (``evplatform.insights``), cached per workspace."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from evplatform.api.context import ApiContext, get_context
from evplatform.api.errors import Unavailable

router = APIRouter(prefix="/api/insights", tags=["insights"])
Context = Annotated[ApiContext, Depends(get_context)]
MAX_DRAWS = 20_000


def insights_function(name: str) -> Callable[..., dict[str, Any]]:
    """``evplatform.insights.<name>``, or 501 when this build has no insights engine."""
    function = getattr(importlib.import_module("evplatform.insights"), name, None)
    if function is None:
        raise Unavailable(f"insights are not available in this build (evplatform.insights.{name} is missing)")
    return function


def business(context: ApiContext) -> dict[str, Any]:
    report = insights_function("business_report")
    return context.cached(("business",), lambda: report(context.workspace_path))


def scenarios(context: ApiContext, draws: int = 2000, seed: int = 0, sobol_samples: int = 256) -> dict[str, Any]:
    report = insights_function("scenarios_report")
    return context.cached(
        ("scenarios", draws, seed, sobol_samples),
        lambda: report(context.workspace(), draws, seed, None, sobol_samples=sobol_samples),
    )


def risks(context: ApiContext) -> dict[str, Any]:
    report = insights_function("risks_report")
    return context.cached(("risks",), lambda: report(context.workspace()))


@router.get("/business", summary="The `insights business --json` payload")
def get_business(context: Context) -> dict[str, Any]:
    return business(context)


@router.get("/scenarios", summary="The `insights scenarios --json` payload: NPV under Monte Carlo draws")
def get_scenarios(
    context: Context,
    draws: Annotated[int, Query(ge=10, le=MAX_DRAWS)] = 2000,
    seed: int = 0,
    sobol_samples: Annotated[int, Query(ge=16, le=4096, description="Saltelli base samples")] = 256,
) -> dict[str, Any]:
    return scenarios(context, draws, seed, sobol_samples)


@router.get("/risks", summary="The `insights risks --json` payload: the risk register")
def get_risks(context: Context) -> dict[str, Any]:
    return risks(context)
