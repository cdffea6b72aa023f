"""The vehicle payloads of the dashboard beyond ``simulate --json``: one trim's traces and the hub reports.

Each is the JSON of a CLI command (``simulate --traces --json``, ``hub faults|aeb|alks --json``) computed
by the ``vehicle`` domain and cached per workspace (``AppContext.cached``), so a page, its CSV
export and the command show the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evplatform.service.context import AppContext
from evplatform.vehicle.drive_cycles import canonical_name
from evplatform.vehicle.scenarios import absent_roles, aeb_report, alks_report, api_signals_report, fault_report
from evplatform.vehicle.simulate import trim_trace, workspace_cycle
from evplatform.workspace import Workspace

HUB_REPORTS = ("faults", "aeb", "alks")
_REPORTS: dict[str, Callable[[Workspace], list[dict[str, Any]]]] = {
    "faults": fault_report, "aeb": aeb_report, "alks": alks_report}


def simulation_trace(context: AppContext, trim: str, cycle: str | None = None,
                     market: str | None = None) -> dict[str, Any]:
    """One trim's ``simulate`` row and its speed, battery power and SOC traces on the cycle."""
    ws = context.workspace()
    name = canonical_name(cycle) if cycle else workspace_cycle(ws, market)
    key = ws.trim(trim).key
    return context.cached(("trace", key, name, market), lambda: trim_trace(ws, key, name, market))


def hub_report(context: AppContext, report: str) -> dict[str, Any]:
    """The ``hub <report> --json`` payload of every trim, with the absent roles it reads (always a list)."""
    compute = _REPORTS[report]

    def build() -> dict[str, Any]:
        ws = context.workspace()
        return {report: compute(ws), "absent_roles": absent_roles(ws, report)}

    return context.cached(("hub", report), build)


def hub_api_signals(context: AppContext) -> dict[str, Any]:
    """The signals the vehicle API serves per trim (``hub serve``), cached with the workspace."""
    return context.cached(("hub", "api-signals"), lambda: api_signals_report(context.workspace()))
