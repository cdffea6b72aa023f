"""The FastAPI application: one router per domain, one error shape, the dashboard at ``/``.

``create_app(workspace, database_url)`` builds an independent application (tests make many);
``evplatform serve`` runs one with uvicorn. OpenAPI is at ``/openapi.json`` and ``/docs``.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

import evplatform
from evplatform.api.auth import ReplayGuard
from evplatform.api.body_limits import ASGIApp, BodyLimits, Message, Receive, Scope, Send
from evplatform.api.errors import install_error_handlers
from evplatform.api.input_guard import NulGuard
from evplatform.api.observability import RequestObserver, ServerMetrics
from evplatform.api.routers import (
    accounts,
    apps_check,
    campaign_planning,
    campaign_recovery,
    campaigns,
    compliance,
    dataact,
    details,
    europe,
    features_on_demand,
    fleet,
    fm,
    health,
    insights,
    release_publishing,
    releases,
    simulation,
    stability,
    telemetry,
    uptane,
    vehicle,
    vehicle_commands,
)
from evplatform.api.routers import workspace as workspace_router
from evplatform.clock import Clock, system_clock
from evplatform.errors import EvplatformError
from evplatform.fleet.generations import LookupCache
from evplatform.logs import configure_logging
from evplatform.service.context import AppContext
from evplatform.service.rate_limits import RateLimit, RateLimits

#: The settings ``evplatform serve --workers N`` hands its worker processes (JSON): uvicorn starts
#: each worker in a fresh interpreter that imports ``app_from_environment`` by name, so the
#: command's options travel through the environment the workers inherit.
ENV_SERVE_CONFIG = "EVPLATFORM_SERVE_CONFIG"

DESCRIPTION = """\
The evplatform backend: the platform as code (models, trims, features, BOM, KPIs, simulation,
compliance), the fleet, releases and staged campaigns with stability KPIs, and the vehicle-facing
update endpoints.

**Operators** send `Authorization: Bearer <token>` (accounts with roles viewer < engineer <
release_manager < admin; `evplatform serve --create-admin NAME` or `make run` issues one). Reads
are open; every write names the least role it needs and answers 401 without a token, 403 with too
small a role. **Vehicles** sign each request with their ed25519 key (`X-Vehicle-VIN`,
`X-Vehicle-Timestamp`, `X-Vehicle-Signature`; see `evplatform.api.auth`).

Every error is `{"error": {"status", "type", "message"}}`; a malformed body is 422 with the
fields that are wrong.
"""


def create_app(
    workspace: Path | None = None,
    database_url: str | None = None,
    *,
    clock: Clock = system_clock,
    ota_root: Path | None = None,
    rate_limits: RateLimits | None = None,
    redis_url: str | None = None,
) -> FastAPI:
    """The API and dashboard for a workspace (None: the bundled demo) and a database URL
    (None: ``EVPLATFORM_DATABASE_URL`` or the workspace's ``.evplatform/`` SQLite file).

    ``ota_root`` is the OTA server folder (``OtaService``; default ``EVPLATFORM_OTA_ROOT``); without
    one the Uptane routes answer 501. ``rate_limits`` (default ``RateLimits()``) are counted in Redis
    at ``redis_url`` when given, else in the database (``service.rate_limits``).
    """
    context = AppContext(workspace, database_url, clock, ota_root, rate_limits=rate_limits, redis_url=redis_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        context.close()

    # docs_url/redoc_url off: their pages load Swagger UI / ReDoc from a CDN; web.api_docs serves /docs
    app = FastAPI(title="evplatform", version=evplatform.__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.context = context
    app.state.replay = ReplayGuard(context)  # kept in the database, so it survives restarts
    app.state.offer_lookups = LookupCache()  # valid per vehicle generation: see fleet.generations
    app.state.metrics = metrics = ServerMetrics(context)  # this app's own registry: tests make many apps
    install_error_handlers(app)
    app.add_middleware(BodyLimits)  # runs before any route reads a body
    app.add_middleware(NulGuard)  # a NUL in the path or query: 422 before routing or the guard's 401
    app.add_middleware(SecurityHeaders)  # the guard's own 401/413 get the headers too
    app.add_middleware(RequestObserver, metrics=metrics)  # outermost: times, counts and logs the guards' answers too
    for module in (workspace_router, simulation, compliance, details, fleet, telemetry, releases, campaigns,
                   campaign_recovery, stability, vehicle, uptane, insights, features_on_demand, accounts, fm, health,
                   apps_check, dataact, europe):
        app.include_router(module.router)
    app.include_router(release_publishing.router)
    app.include_router(campaign_planning.router)
    app.include_router(vehicle_commands.router)
    from evplatform.web import pages  # the dashboard is part of this application

    pages.install(app)
    return app


def serve_config(*, workspace: Path | None, database_url: str, ota_root: Path | None, limits: RateLimits,
                 redis_url: str | None, log_level: str, log_format: str) -> str:
    """The JSON ``app_from_environment`` reads back (``ENV_SERVE_CONFIG``)."""
    return json.dumps({
        "workspace": None if workspace is None else str(workspace), "database": database_url,
        "ota_root": None if ota_root is None else str(ota_root), "redis": redis_url,
        "vehicle_rate": [limits.vehicle.requests, limits.vehicle.window_s],
        "token_rate": [limits.token.requests, limits.token.window_s],
        "log_level": log_level, "log_format": log_format,
    })


def app_from_environment() -> FastAPI:
    """The application of one worker of ``evplatform serve --workers N`` (uvicorn's ``factory=True``).

    Each worker is its own process with its own database pool, caches and configurator sessions;
    what they must agree on (accounts, the replay guard, rate limits) is in the database or Redis.
    """
    if not os.environ.get(ENV_SERVE_CONFIG):
        raise EvplatformError(f"{ENV_SERVE_CONFIG} is not set: start workers with evplatform serve --workers N")
    config: dict[str, Any] = json.loads(os.environ[ENV_SERVE_CONFIG])
    configure_logging(config["log_level"], config["log_format"])  # a fresh interpreter: set up again
    limits = RateLimits(RateLimit(*config["vehicle_rate"]), RateLimit(*config["token_rate"]))
    workspace, ota_root = config["workspace"], config["ota_root"]
    return create_app(None if workspace is None else Path(workspace), config["database"],
                      ota_root=None if ota_root is None else Path(ota_root), rate_limits=limits,
                      redis_url=config["redis"])


#: Every response: no framing (the campaign page's pause/cancel buttons cannot be clickjacked),
#: scripts only from this server, no type sniffing, no full URLs leaked to other sites. Styles may be
#: inline: the SVG charts and progress bars set widths in style attributes.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_RAW_HEADERS = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]


class SecurityHeaders:
    """Pure ASGI: adds ``SECURITY_HEADERS`` to every response start a route has not set itself.

    Not ``app.middleware("http")``: that wraps every request and response in extra objects, on
    the path every vehicle's update check takes.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((n, v) for n, v in _RAW_HEADERS if n not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)
