"""Telemetry ingestion: health events, crash reports, state of charge, odometer → ``fleet.ingest``.

A vehicle posts its own events, signed with its key (every event must carry its VIN); a
telematics gateway posts batches for many vehicles with an engineer's bearer token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from evplatform.api.auth import TelemetryAuth, VehicleCaller
from evplatform.api.context import Context
from evplatform.api.errors import Forbidden
from evplatform.api.responses import TelemetryStoredOut
from evplatform.api.schemas import TelemetryBatch
from evplatform.fleet import ingest

router = APIRouter(prefix="/api", tags=["telemetry"])


@router.post("/telemetry", status_code=201, response_model=TelemetryStoredOut,
             summary="Store a batch of telemetry events (all or none)")
async def post_telemetry(context: Context, caller: TelemetryAuth, batch: TelemetryBatch) -> dict[str, Any]:
    if isinstance(caller, VehicleCaller):
        others = sorted({e.vin for e in batch.events} - {caller.vin})
        if others:
            raise Forbidden(f"vehicle {caller.vin} may only send its own telemetry, not {', '.join(others[:3])}")
    events = [e.to_event() for e in batch.events]
    stored = await run_in_threadpool(lambda: ingest(context.store(), events))  # database work off the event loop
    return {"stored": stored}
