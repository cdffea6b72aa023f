"""Simulation results of the workspace's trims (``vehicle.simulate_workspace``), cached per workspace."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from evplatform.api.context import ApiContext, get_context
from evplatform.vehicle.drive_cycles import canonical_name
from evplatform.vehicle.simulate import simulate_workspace, workspace_cycle

router = APIRouter(prefix="/api", tags=["simulation"])
Context = Annotated[ApiContext, Depends(get_context)]


def simulation_results(
    context: ApiContext, model: str | None = None, cycle: str | None = None, market: str | None = None
) -> dict[str, Any]:
    """The ``simulate --json`` payload; the same question is simulated once per workspace."""
    ws = context.workspace()
    name = canonical_name(cycle) if cycle else workspace_cycle(ws, market)
    rows = context.cached(("simulate", model, name, market), lambda: simulate_workspace(ws, model, name, market))
    return {"cycle": name, "market": market or ws.platform.base_market, "results": rows}


@router.get("/simulation", summary="Consumption, range, charging, acceleration of every trim on a cycle")
def simulation(
    context: Context,
    model: Annotated[str | None, Query(description="only this model's trims")] = None,
    cycle: Annotated[str | None, Query(description="wltc, cltc, udds, hwfet, nedc (default: the market's)")] = None,
    market: Annotated[str | None, Query(description="trims sold in this market (default: base market)")] = None,
) -> dict[str, Any]:
    return simulation_results(context, model, cycle, market)
