"""The ``evplatform apps check --json`` payload for the dashboard and the API, cached per workspace."""

from __future__ import annotations

from typing import Any

from evplatform.apps.compat import report
from evplatform.apps.manifest import load_apps
from evplatform.service.context import AppContext


def apps_check(context: AppContext) -> dict[str, Any]:
    """Apps, configurations and every app × trim × market verdict of the served workspace."""
    def compute() -> dict[str, Any]:
        ws = context.workspace()
        return report(ws, load_apps(ws))
    return context.cached(("apps-check",), compute)
