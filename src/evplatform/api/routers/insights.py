"""Business figures, NPV scenarios and risks (``evplatform.insights``), cached per workspace."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from evplatform.api.context import Context
from evplatform.api.responses import BusinessOut, RisksOut, ScenariosOut
from evplatform.insights.scenarios import DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_SOBOL_SAMPLES
from evplatform.service.presenters import business, risks, scenarios

router = APIRouter(prefix="/api/insights", tags=["insights"])
MAX_DRAWS = max(20_000, DEFAULT_DRAWS)


@router.get("/business", response_model=BusinessOut, summary="The `insights business --json` payload")
def get_business(context: Context) -> dict[str, Any]:
    return business(context)


@router.get("/scenarios", response_model=ScenariosOut,
            summary="The `insights scenarios --json` payload: NPV under Monte Carlo draws")
def get_scenarios(
    context: Context,
    draws: Annotated[int, Query(ge=10, le=MAX_DRAWS)] = DEFAULT_DRAWS,
    seed: Annotated[int, Query(ge=0, le=2**63 - 1, description="random seed of the draws")]
    = DEFAULT_SEED,
    sobol_samples: Annotated[int, Query(ge=16, le=4096, description="Saltelli base samples")]
    = DEFAULT_SOBOL_SAMPLES,
) -> dict[str, Any]:
    return scenarios(context, draws, seed, sobol_samples)


@router.get("/risks", response_model=RisksOut, summary="The `insights risks --json` payload: the risk register")
def get_risks(context: Context) -> dict[str, Any]:
    return risks(context)
