"""Detail pages: one vehicle (``/fleet/{vin}``) and one release (``/releases/{release_id}``).

Both render the payload of their API route (``service.details``), so the page and
``GET /api/fleet/vehicles/{vin}`` / ``GET /api/releases/{release_id}`` show the same numbers. Their
tables link to the CSV exports of ``api.routers.details``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from evplatform.errors import EvplatformError
from evplatform.fleet.mqtt_commands import ACTIONS, COMMAND_ROLE
from evplatform.service import details
from evplatform.service.params import ReleaseId, Vin
from evplatform.store.accounts import ROLES
from evplatform.web.charts import PALETTE, Series, line_chart
from evplatform.web.pages import context_of, error_page, render

router = APIRouter(include_in_schema=False)

#: ``?back=`` carries the fleet list's query string (filters, page) so the way back keeps them.
Back = Annotated[str | None, Query(max_length=500, description="the fleet list's query string")]


def back_link(back: str | None) -> str:
    """``/fleet`` with the list's query string re-encoded: only a query, never another site or path."""
    pairs = parse_qsl(back or "", keep_blank_values=False)
    return "/fleet" + (f"?{urlencode(pairs)}" if pairs else "")


def _hours_since(points: list[dict[str, Any]]) -> list[float]:
    start = datetime.fromisoformat(points[0]["at"])
    return [(datetime.fromisoformat(p["at"]) - start).total_seconds() / 3600 for p in points]


def telemetry_chart(series: dict[str, Any]) -> str:
    """A small line chart of one telemetry kind's readings (value in its unit over hours); none for one reading."""
    points = [p for p in series["series"] if p["value"] is not None]
    if len(points) < 2:
        return ""  # one reading is the table's "latest" already
    x = _hours_since(points)
    label = f"{series['name']} ({series['unit']})" if series["unit"] else series["name"]
    return line_chart([Series(label, x, [p["value"] for p in points], PALETTE[0])], title=label,
                      y_label=series["unit"] or "", x_label="hours since the first reading shown", width=360,
                      height=180)


def stability_chart(points: list[dict[str, Any]]) -> str:
    """Install success and crash-free (7 d) over time; crash-free is absent while the release is too young."""
    if not points:
        return ""  # the table says "No reports yet"
    x = [h / 24 for h in _hours_since(points)]
    series = [
        Series("install success", x, [None if p["install_success_rate"] is None else 100 * p["install_success_rate"]
                                      for p in points], PALETTE[1]),
        Series("crash-free 7 d", x, [None if p["crash_free_7d"] is None else 100 * p["crash_free_7d"]
                                     for p in points], PALETTE[0]),
    ]
    return line_chart(series, title="Stability over time", y_label="%", x_label="days since the first report",
                      y_max=100)


@router.get("/fleet/{vin}", response_class=HTMLResponse)
def vehicle_page(request: Request, vin: Vin, back: Back = None) -> HTMLResponse:
    try:
        data = details.vehicle_payload(context_of(request).store(), vin)
    except EvplatformError as error:
        return error_page(request, error)
    charts = {s["kind"]: telemetry_chart(s) for s in data["telemetry_series"]}
    return render(request, "vehicle.html", title=vin, v=data, back=back_link(back), charts=charts,
                  command_actions=list(ACTIONS), command_roles=ROLES[ROLES.index(COMMAND_ROLE):])


@router.get("/releases/{release_id}", response_class=HTMLResponse)
def release_page(request: Request, release_id: ReleaseId) -> HTMLResponse:
    context = context_of(request)
    try:
        data = details.release_payload(context.store(), release_id, context.ota_root)
    except EvplatformError as error:
        return error_page(request, error)
    return render(request, "release.html", title=f"Release {release_id}", r=data,
                  chart=stability_chart(data["stability_over_time"]))
