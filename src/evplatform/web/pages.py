"""The dashboard: server-rendered pages (Jinja2), static assets, served by the API at ``/``.

Pages call the same functions as the JSON routes (``service.views``, ``service.presenters``), so
the numbers on a page are the numbers of the API; the dashboard never imports ``evplatform.api``.
Charts are SVG made on the server (``web.charts``); ``static/app.js`` signs in with a token, polls
live campaign progress every 2 s, sends the release manager's pause / resume / cancel, shows times
in the viewer's time zone and puts every table in its own scroll box (a phone never scrolls sideways).

Errors on a web path (anything outside ``/api``, ``/uptane`` and ``/openapi.json``) answer an HTML
page with the status and message of the API's one error shape; messages never show an absolute
server path (``public_message``).
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException as StarletteHTTPException

from evplatform.errors import EvplatformError
from evplatform.service.context import AppContext

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
FAVICON = HERE / "static" / "favicon.svg"
#: First path segments that belong to the JSON API: errors there keep the API's one JSON shape.
API_SEGMENTS = frozenset({"api", "uptane", "openapi.json", "metrics", "healthz", "readyz"})  # probes: JSON errors too
#: Page title per error status (others: "Error").
ERROR_TITLES = {400: "Bad request", 401: "Sign-in needed", 403: "Not allowed", 404: "Page not found",
                405: "Method not allowed", 409: "Conflict", 413: "Too large", 422: "Bad request",
                500: "Server error", 501: "Not available", 503: "Unavailable"}
#: An absolute POSIX path inside a message (stops at quotes, spaces, ``:line`` and punctuation).
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/+[^\s'\"<>:,;()\[\]]+")
templates = Jinja2Templates(directory=str(HERE / "templates"))

NAV = (
    ("/", "Overview"),
    ("/platform", "Platform"),
    ("/features", "Features"),
    ("/compliance", "Compliance"),
    ("/simulation", "Simulation"),
    ("/hub", "Hub"),
    ("/apps", "Apps"),
    ("/data-recipients", "Data"),
    ("/campaigns", "Campaigns"),
    ("/releases", "Releases"),
    ("/fleet", "Fleet"),
    ("/insights", "Insights"),
    ("/europe", "Europe 2027"),
    ("/features-on-demand", "On demand"),
    ("/configurator", "Configurator"),
    ("/evolution", "Evolution"),
    ("/audit", "Audit"),
    ("/admin", "Admin"),
)


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f} %"


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _when(value: datetime | str | None) -> Markup:
    """A ``<time>`` in UTC without microseconds; ``static/app.js`` shows it in the viewer's zone.

    The server's clock and database keep UTC: a time without a zone is read as UTC.
    """
    if value is None or value == "":
        return Markup("—")
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return escape(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC).replace(microsecond=0)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return Markup('<time datetime="{0}">{1} UTC</time>').format(stamp, moment.strftime("%Y-%m-%d %H:%M:%S"))


templates.env.filters["money"] = _money
templates.env.filters["when"] = _when
templates.env.filters["pct"] = _pct
templates.env.filters["num"] = _num


def context_of(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def render(request: Request, template: str, **values: Any) -> HTMLResponse:
    """A page with the navigation and the platform name."""
    try:
        platform = context_of(request).workspace().platform.name
    except EvplatformError:
        platform = "evplatform"
    return templates.TemplateResponse(
        request, template, {"nav": NAV, "path": request.url.path, "platform_name": platform, **values}
    )


def _server_path(text: str, roots: tuple[PurePosixPath, ...]) -> str:
    """``text`` if it is not a path on this server, else its name relative to a root (or its file name)."""
    path = PurePosixPath("/" + text.lstrip("/"))
    for root in roots:
        try:
            return str(path.relative_to(root)) or "."
        except ValueError:
            continue
    if len(path.parts) > 1 and Path("/", path.parts[1]).is_dir():
        return path.name or "."
    return text  # a URL path such as /fleet/NOPE, not a file


def public_message(message: str, workspace: Path | None = None) -> str:
    """``message`` without absolute server paths: relative to the workspace (or the working folder),
    else the file name — the folder layout of the server is nobody's business."""
    roots = tuple(PurePosixPath(Path(root).resolve()) for root in (workspace, Path.cwd())
                  if root is not None and len(Path(root).resolve().parts) > 1)
    return _ABSOLUTE_PATH.sub(lambda match: _server_path(match.group(0), roots), message)


def message_of(request: Request, error: Exception) -> str:
    """The error's text as a page may show it."""
    return public_message(str(error), context_of(request).workspace_path)


def error_page(request: Request, error: EvplatformError) -> HTMLResponse:
    """A page that could not be built says why (the database is down, the workspace is invalid …)."""
    status = int(getattr(error, "http_status", 400))
    return status_page(request, status, message_of(request, error))


def status_page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    """The HTML error page: title from the status, the (path-free) message, the navigation."""
    response = render(request, "error.html", title=ERROR_TITLES.get(status, "Error"), status=status,
                      error=public_message(message, context_of(request).workspace_path))
    response.status_code = status
    response.headers.update(headers or {})
    return response


def is_web_path(path: str) -> bool:
    """A dashboard path (errors as HTML pages), not the JSON API's (errors in the one JSON shape)."""
    return path.lstrip("/").split("/", 1)[0] not in API_SEGMENTS


Handler = Callable[[Request, Any], Response | Awaitable[Response]]


def _html_for_web_paths(json_handler: Handler) -> Callable[[Request, Exception], Awaitable[Response]]:
    """Wrap an API error handler: it still runs (and logs), a web path gets its status as a page."""

    async def handler(request: Request, error: Exception) -> Response:
        answer = json_handler(request, error)
        response = await answer if inspect.isawaitable(answer) else answer
        if not is_web_path(request.url.path):
            return response
        try:
            body = json.loads(bytes(response.body))["error"]
            headers = {"WWW-Authenticate": response.headers["WWW-Authenticate"]} \
                if "WWW-Authenticate" in response.headers else None
            return status_page(request, response.status_code, str(body["message"]), headers)
        except Exception:  # the page itself failed: the JSON answer still says what happened
            logger.exception("error page for %s failed", request.url.path)
            return response

    return handler


def install_error_pages(app: FastAPI) -> None:
    """Web paths get HTML error pages; the API's handlers (installed before) keep answering JSON."""
    for kind in (Exception, EvplatformError, RequestValidationError, StarletteHTTPException):
        if kind in app.exception_handlers:
            app.add_exception_handler(kind, _html_for_web_paths(app.exception_handlers[kind]))


async def favicon() -> FileResponse:
    """``/favicon.ico``: browsers ask for it whatever the page links; it is the SVG icon."""
    return FileResponse(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


def install(app: FastAPI) -> None:
    """Mount the static assets, include every page router and the HTML error pages."""
    from evplatform.web import (
        admin_pages,
        api_docs,
        apps_pages,
        campaign_wizard_pages,
        compliance_pages,
        configurator_pages,
        dataact_pages,
        detail_pages,
        europe_pages,
        evolution_pages,
        feature_pages,
        fleet_pages,
        insights_pages,
        ondemand_pages,
        platform_pages,
        simulation_pages,
    )

    install_error_pages(app)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_api_route("/favicon.ico", favicon, include_in_schema=False)
    app.include_router(platform_pages.router)
    app.include_router(campaign_wizard_pages.router)  # before /campaigns/{campaign_id}, which "new" would match
    app.include_router(fleet_pages.router)
    app.include_router(detail_pages.router)
    app.include_router(feature_pages.router)
    app.include_router(api_docs.router)
    app.include_router(configurator_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(simulation_pages.router)
    app.include_router(insights_pages.router)
    app.include_router(ondemand_pages.router)
    app.include_router(compliance_pages.router)
    app.include_router(evolution_pages.router)
    app.include_router(apps_pages.router)
    app.include_router(dataact_pages.router)
    app.include_router(europe_pages.router)
