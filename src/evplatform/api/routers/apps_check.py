"""Third-party apps of the workspace: which runs on which trim in which market, and why not."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from evplatform.api.context import Context
from evplatform.api.responses.apps import AppsCheckOut
from evplatform.service.apps_views import apps_check

router = APIRouter(prefix="/api", tags=["apps"])


@router.get("/apps/check", response_model=AppsCheckOut,
            summary="Every app × trim × market: compatible or not, with the reasons")
def check(context: Context) -> dict[str, Any]:
    return apps_check(context)
