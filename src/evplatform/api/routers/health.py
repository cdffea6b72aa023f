"""Probes and metrics for the servers' operators: ``/healthz``, ``/readyz``, ``/metrics``.

- ``/healthz``: the process is alive and its event loop answers; no I/O, so a slow database never
  gets a healthy server restarted (liveness probe).
- ``/readyz``: the database answers a ``SELECT 1`` and the OTA folder, when configured, can be
  listed (readiness probe; a load balancer stops sending requests while it answers 503). A failure
  is 503 in the one error shape naming the failed checks; the reasons go to the server's log only.
- ``/metrics``: Prometheus text format (``api.observability.ServerMetrics``), for a **viewer**
  token: request rates per route template and traffic reveal who uses the fleet server how, and a
  bearer token works the same behind a reverse proxy, where "only from loopback" would not
  (docs/threat-model.md, docs/deploying.md).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from evplatform.api.auth import Viewer
from evplatform.api.context import Context
from evplatform.api.errors import error_body
from evplatform.api.observability import server_metrics
from evplatform.api.responses.health import HealthOut, ReadyOut
from evplatform.service.health import readiness

router = APIRouter(tags=["operations"])

PROMETHEUS_TEXT: dict[int | str, dict[str, Any]] = {200: {
    "description": "Prometheus text exposition format 0.0.4",
    "content": {CONTENT_TYPE_PLAIN_0_0_4.split(";")[0]: {"schema": {"type": "string"}}},
}}
NOT_READY: dict[int | str, dict[str, Any]] = {503: {"description": "a check failed: the one error shape with "
                                                    "`checks` naming each check's state"}}


@router.get("/healthz", response_model=HealthOut, summary="Liveness: the process answers (no I/O)")
async def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@router.get("/readyz", response_model=ReadyOut, responses=NOT_READY,
            summary="Readiness: the database answers and the OTA folder (when configured) is readable")
def readyz(context: Context) -> Any:
    checks = readiness(context)
    states = {check.name: check.state for check in checks}
    failed = [check.name for check in checks if check.failed]
    if failed:
        return JSONResponse(error_body(503, "NotReady", f"not ready: {', '.join(failed)} check failed",
                                       checks=states), status_code=503, headers={"Cache-Control": "no-store"})
    return {"status": "ready", "checks": states}


@router.get("/metrics", response_class=Response, responses=PROMETHEUS_TEXT,
            summary="Prometheus metrics: requests, latency, database pool, campaigns, update checks (viewer)")
def metrics(request: Request, _account: Viewer) -> Response:
    return Response(server_metrics(request).render(), media_type=CONTENT_TYPE_PLAIN_0_0_4)
