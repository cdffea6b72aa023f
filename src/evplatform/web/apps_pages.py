"""The apps page: ``evplatform apps check`` as a matrix per app (trims × markets), the reasons, a CSV.

The check is the domain's (``evplatform.apps.compat``), cached per workspace by
``service.apps_views`` (as ``GET /api/apps/check`` serves it); this module renders.
``/apps.csv`` holds every verdict of the same payload.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from evplatform.errors import EvplatformError
from evplatform.service.apps_views import apps_check
from evplatform.web import csv_tables
from evplatform.web.pages import context_of, error_page, render

router = APIRouter(include_in_schema=False)


def _matrix(data: dict[str, Any]) -> dict[str, Any]:
    """Per app: the trims (rows), the markets (columns) and each cell's verdict (None: not sold there)."""
    trims = list(dict.fromkeys(c["trim"] for c in data["configurations"]))
    markets = list(dict.fromkeys(c["market"] for c in data["configurations"]))
    cells: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for verdict in data["verdicts"]:
        cells.setdefault(verdict["app"], {})[(verdict["trim"], verdict["market"])] = verdict
    return {"trims": trims, "markets": markets, "cells": cells}


@router.get("/apps", response_class=HTMLResponse)
def apps_page(request: Request) -> HTMLResponse:
    """Which app runs on which trim in which market, and why not."""
    try:
        data = apps_check(context_of(request))
    except EvplatformError as error:
        return error_page(request, error)
    incompatible = [v for v in data["verdicts"] if not v["compatible"]]
    return render(request, "apps.html", title="Apps", data=data, matrix=_matrix(data), incompatible=incompatible)


@router.get("/apps.csv")
def apps_csv(request: Request) -> Response:
    """Every app × trim × market verdict as CSV."""
    try:
        data = apps_check(context_of(request))
    except EvplatformError as error:
        return error_page(request, error)
    return csv_tables.csv_response("apps-check.csv", csv_tables.apps_table(data))
