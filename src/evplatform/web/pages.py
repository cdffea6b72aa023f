"""The dashboard: server-rendered pages (Jinja2), static assets, served by the API at ``/``.

Pages call the same functions as the JSON routes (``service.views``, ``service.presenters``), so
the numbers on a page are the numbers of the API; the dashboard never imports ``evplatform.api``.
Charts are SVG made on the server (``web.charts``); ``static/app.js`` signs in with a token, polls
live campaign progress every 2 s and sends the release manager's pause / resume / cancel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from evplatform.errors import EvplatformError
from evplatform.service.context import AppContext

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

NAV = (
    ("/", "Overview"),
    ("/platform", "Platform"),
    ("/compliance", "Compliance"),
    ("/simulation", "Simulation"),
    ("/campaigns", "Campaigns"),
    ("/releases", "Releases"),
    ("/fleet", "Fleet"),
    ("/insights", "Insights"),
)


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f} %"


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


templates.env.filters["money"] = _money
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


def error_page(request: Request, error: EvplatformError) -> HTMLResponse:
    """A page that could not be built says why (the database is down, the workspace is invalid …)."""
    status = int(getattr(error, "http_status", 400))
    response = render(request, "error.html", title="Unavailable", error=str(error), status=status)
    response.status_code = status
    return response


def install(app: FastAPI) -> None:
    """Mount the static assets and include every page router."""
    from evplatform.web import api_docs, fleet_pages, platform_pages

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(platform_pages.router)
    app.include_router(fleet_pages.router)
    app.include_router(api_docs.router)
