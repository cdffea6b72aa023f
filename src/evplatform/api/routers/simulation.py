"""Simulation results of the workspace's trims (``vehicle.simulate_workspace``), cached per workspace."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from evplatform.api.context import Context
from evplatform.api.responses import SimulationOut
from evplatform.service.params import MARKET_LENGTH, NAME_LENGTH
from evplatform.service.presenters import simulation_results

router = APIRouter(prefix="/api", tags=["simulation"])


@router.get("/simulation", response_model=SimulationOut,
            summary="Consumption, range, charging, acceleration of every trim on a cycle")
def simulation(
    context: Context,
    model: Annotated[str | None, Query(max_length=NAME_LENGTH, description="only this model's trims")] = None,
    cycle: Annotated[str | None, Query(max_length=NAME_LENGTH,
                                       description="wltc, cltc, udds, hwfet, nedc (default: the market's)")] = None,
    market: Annotated[str | None, Query(max_length=MARKET_LENGTH,
                                        description="trims sold in this market (default: base market)")] = None,
) -> dict[str, Any]:
    return simulation_results(context, model, cycle, market)
