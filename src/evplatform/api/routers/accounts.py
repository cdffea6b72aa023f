"""The signed-in operator, the audit log, and the bearer tokens (listed and revoked by admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from evplatform.api.auth import Admin, Viewer
from evplatform.api.context import Context
from evplatform.api.responses import AuditOut, MeOut, RevokedOut, TokensOut
from evplatform.service.params import INT32_MAX, OptionalName, OptionalSubject
from evplatform.store import audit_log, list_tokens, revoke_token

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


@router.get("/tokens", response_model=TokensOut, summary="Every bearer token: account, label, expiry, revoked (admin)")
def tokens(context: Context, _account: Admin, account: OptionalName = None) -> dict[str, Any]:
    return {"tokens": [t.to_dict() for t in list_tokens(context.store(), account)]}


@router.post("/tokens/{token_id}/revoke", response_model=RevokedOut,
             summary="Revoke one token at once; 404 when no live token has that id (admin)")
def revoke(context: Context, token_id: Annotated[int, Path(ge=1, le=INT32_MAX)], account: Admin) -> dict[str, Any]:
    return {"revoked": revoke_token(context.store(), token_id=token_id, actor=account.name)}
