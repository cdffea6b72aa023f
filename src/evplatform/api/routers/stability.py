"""Stability KPIs per release and the fleet's update saturation (updates per vehicle per quarter)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from evplatform.api.context import Context
from evplatform.api.errors import NotFound
from evplatform.api.responses import StabilityOut, StabilityReleaseOut
from evplatform.fleet import release_stability, updates_per_vehicle_per_quarter
from evplatform.service.params import ReleaseId

router = APIRouter(prefix="/api/stability", tags=["stability"])


@router.get("", response_model=StabilityOut,
            summary="Install success, rollback, crash-free over 7 days per release; updates per quarter")
def stability(context: Context) -> dict[str, Any]:
    store = context.store()
    return {"releases": [k.to_dict() for k in release_stability(store)],
            "quarters": updates_per_vehicle_per_quarter(store)}


@router.get("/{release_id}", response_model=StabilityReleaseOut, summary="The stability KPIs of one release")
def release(context: Context, release_id: ReleaseId) -> dict[str, Any]:
    for kpi in release_stability(context.store()):
        if kpi.release == release_id:
            return kpi.to_dict()
    raise NotFound(f"no reports for release {release_id!r}")
