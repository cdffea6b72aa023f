"""The signed-in operator, and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from evplatform.api.auth import Viewer
from evplatform.api.context import Context
from evplatform.api.responses import AuditOut, MeOut
from evplatform.service.params import OptionalSubject
from evplatform.store import audit_log

router = APIRouter(prefix="/api", tags=["accounts"])


@router.get("/me", response_model=MeOut, summary="The account a bearer token belongs to (401 when none)")
def me(account: Viewer) -> dict[str, Any]:
    return {"name": account.name, "role": account.role}


@router.get("/audit", response_model=AuditOut, summary="Newest audit entries first (viewer)")
def audit(
    context: Context, _account: Viewer, subject: OptionalSubject = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    return {"entries": [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "subject": e.subject,
                         "detail": e.detail} for e in audit_log(context.store(), limit=limit, subject=subject)]}
