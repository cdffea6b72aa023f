"""The signed-in operator, the audit log, accounts with their roles and bearer tokens (admins manage them).

Every write here is an admin's and is audit-logged under the admin's account name by the store
(``store.accounts``); the last-admin rule lives there too, so the CLI and the API share it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from evplatform.api.account_schemas import ACCOUNT_NAME_LENGTH, AccountIn, RoleIn, TokenIn
from evplatform.api.auth import Admin, Viewer
from evplatform.api.context import Context
from evplatform.api.responses import (
    AccountOut,
    AccountsOut,
    AuditOut,
    IssuedTokenOut,
    MeOut,
    RevokedOut,
    TokensOut,
)
from evplatform.service.params import INT32_MAX, MAX_OFFSET, OptionalName, OptionalSubject
from evplatform.store import (
    ROLES,
    AccountInfo,
    AuditQuery,
    audit_log,
    count_audit,
    create_account,
    issue_token_record,
    list_accounts,
    list_tokens,
    revoke_token,
    set_role,
)

AccountName = Annotated[str, Path(min_length=1, max_length=ACCOUNT_NAME_LENGTH, description="an account's name")]
OptionalActor = Annotated[str | None, Query(max_length=ACCOUNT_NAME_LENGTH, description="who did it (exact name)")]
OptionalAction = Annotated[str | None, Query(max_length=64, description="an action, or a dotted prefix: "
                                             "'token' finds token.issue and token.revoke")]
OptionalTime = Annotated[datetime | None, Query(description="ISO 8601; without a zone it is UTC")]

router = APIRouter(prefix="/api", tags=["accounts"])


@router.get("/me", response_model=MeOut, summary="The account a bearer token belongs to (401 when none)")
def me(account: Viewer) -> dict[str, Any]:
    return {"name": account.name, "role": account.role}


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment)


@router.get("/audit", response_model=AuditOut,
            summary="Newest audit entries first, filtered by who, action, subject and time [since, until) (viewer)")
def audit(
    context: Context, _account: Viewer, subject: OptionalSubject = None, who: OptionalActor = None,
    action: OptionalAction = None, since: OptionalTime = None, until: OptionalTime = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    query = AuditQuery(actor=who, action=action, subject=subject, since=_utc(since), until=_utc(until))
    store = context.store()
    entries = audit_log(store, limit=limit, offset=offset, query=query)
    return {"entries": [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                         "subject": e.subject, "detail": e.detail} for e in entries],
            "total": count_audit(store, query), "limit": limit, "offset": offset}


def _account_view(info: AccountInfo) -> dict[str, Any]:
    return {"name": info.name, "role": info.role, "disabled": info.disabled}


@router.get("/accounts", response_model=AccountsOut, summary="Every account with its role, by name (admin)")
def accounts(context: Context, _account: Admin) -> dict[str, Any]:
    return {"accounts": [_account_view(a) for a in list_accounts(context.store())], "roles": list(ROLES)}


@router.post("/accounts", status_code=201, response_model=AccountOut,
             summary="Create an account with a role; 409 when the name is taken (admin, audit-logged)")
def create(context: Context, body: AccountIn, account: Admin) -> dict[str, Any]:
    return _account_view(create_account(context.store(), body.name, body.role, actor=account.name))


@router.put("/accounts/{name}/role", response_model=AccountOut,
            summary="Change an account's role; 409 when it would leave no admin (admin, audit-logged)")
def change_role(context: Context, name: AccountName, body: RoleIn, account: Admin) -> dict[str, Any]:
    return _account_view(set_role(context.store(), name, body.role, actor=account.name))


@router.post("/accounts/{name}/tokens", status_code=201, response_model=IssuedTokenOut,
             summary="Issue a bearer token, shown in this answer only, expiring after 'days' (admin, audit-logged)")
def issue(context: Context, name: AccountName, body: TokenIn, account: Admin) -> dict[str, Any]:
    token, info = issue_token_record(context.store(), name, label=body.label, lifetime=timedelta(days=body.days),
                                     actor=account.name)
    return {**info.to_dict(), "token": token}


@router.get("/tokens", response_model=TokensOut, summary="Every bearer token: account, label, expiry, revoked (admin)")
def tokens(context: Context, _account: Admin, account: OptionalName = None) -> dict[str, Any]:
    return {"tokens": [t.to_dict() for t in list_tokens(context.store(), account)]}


@router.post("/tokens/{token_id}/revoke", response_model=RevokedOut,
             summary="Revoke one token at once; 404 when no live token has that id (admin)")
def revoke(context: Context, token_id: Annotated[int, Path(ge=1, le=INT32_MAX)], account: Admin) -> dict[str, Any]:
    return {"revoked": revoke_token(context.store(), token_id=token_id, actor=account.name)}
