"""EU Data Act routes: the owner portal (``/api/owner``), third-party data access (``/api/data``,
OAuth 2.0 client credentials at ``/oauth/token``) and the operators' view of data recipients.

Three kinds of caller, each authenticated before any body is read: owners (their own bearer
tokens, ``store.dataact``), data recipients (OAuth access tokens, checked by Authlib and against a
live consent on every read), operators (the usual roles). Domain rules live in ``evplatform.dataact``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from evplatform.api.auth import Admin, Engineer, Viewer, bearer_token
from evplatform.api.context import AppContext, Context, get_context
from evplatform.api.errors import Unauthenticated
from evplatform.api.responses.dataact import (
    AccessLogOut,
    AnalyticsOut,
    DataReadOut,
    DeadLettersOut,
    ExportOut,
    GrantOut,
    GrantsOut,
    OwnerVehicleOut,
    OwnerVehiclesOut,
    RecipientsOut,
    RegisteredRecipientOut,
    TokenOut,
    WebhookOut,
)
from evplatform.dataact import DataActError, analytics, oauth, portal, webhooks
from evplatform.service.dataact_views import catalogue, owner_for, pseudonym_key, scopes
from evplatform.store import dataact as db

router = APIRouter(tags=["data act"])

VIN = Annotated[str, Path(min_length=1, max_length=17, pattern=r"^[A-Za-z0-9]+$")]
CATEGORY = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
MAX_FORM = 4096  # bytes of a token request


def owner_caller(
    context: Annotated[AppContext, Depends(get_context)],
    authorization: Annotated[str | None, Header()] = None,
) -> db.OwnerInfo:
    """The signed-in owner (401 otherwise; an operator's token is not an owner's)."""
    token = bearer_token(authorization)
    if token is None:
        raise Unauthenticated("owners sign in: send 'Authorization: Bearer <owner token>'")
    owner = owner_for(context, token)
    if owner is None:
        raise Unauthenticated("unknown, expired or revoked owner token")
    return owner


Owner = Annotated[db.OwnerInfo, Depends(owner_caller)]


class GrantIn(BaseModel):
    vin: str = Field(min_length=1, max_length=17)
    recipient: str = Field(min_length=1, max_length=64)
    categories: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(min_length=1, max_length=32)
    days: int = Field(ge=1, le=portal.MAX_GRANT_PERIOD.days)


class RecipientIn(BaseModel):
    client_id: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1, max_length=200)


class WebhookIn(BaseModel):
    url: str = Field(min_length=8, max_length=500)


# --- owners ---------------------------------------------------------------------------------------


@router.get("/api/owner/vehicles", response_model=OwnerVehiclesOut,
            summary="The signed-in owner's vehicles: data categories collected and recent values")
def owner_vehicles(context: Context, owner: Owner) -> dict[str, Any]:
    store, cat = context.store(), catalogue(context)
    return {"owner": owner.name,
            "vehicles": [portal.vehicle_data(store, cat, owner, vin) for vin in db.owned_vins(store, owner.id)]}


@router.get("/api/owner/vehicles/{vin}", response_model=OwnerVehicleOut,
            summary="One owned vehicle: data categories collected and recent values")
def owner_vehicle(context: Context, owner: Owner, vin: VIN) -> dict[str, Any]:
    return portal.vehicle_data(context.store(), catalogue(context), owner, vin)


@router.get("/api/owner/vehicles/{vin}/export", response_model=ExportOut,
            summary="Export everything stored of an owned vehicle (JSON; logged)")
def owner_export(context: Context, owner: Owner, vin: VIN) -> JSONResponse:
    text = portal.export(context.store(), catalogue(context), owner, vin, "json")
    return JSONResponse(content=__import__("json").loads(text),
                        headers={"Content-Disposition": f'attachment; filename="{vin}-data.json"'})


@router.get("/api/owner/vehicles/{vin}/export.csv", response_class=Response,
            summary="Export everything stored of an owned vehicle (CSV; logged)",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "one row per value: " + ", ".join(portal.CSV_COLUMNS)}})
def owner_export_csv(context: Context, owner: Owner, vin: VIN) -> PlainTextResponse:
    text = portal.export(context.store(), catalogue(context), owner, vin, "csv")
    return PlainTextResponse(text, media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="{vin}-data.csv"'})


@router.get("/api/owner/grants", response_model=GrantsOut, summary="The owner's consents, newest first")
def owner_grants(context: Context, owner: Owner) -> dict[str, Any]:
    store = context.store()
    now = store.now()
    return {"grants": [portal.grant_dict(g, now) for g in db.grants(store, owner_id=owner.id)]}


@router.post("/api/owner/grants", response_model=GrantOut, status_code=201,
             summary="Grant a data recipient access to chosen categories of one vehicle for a period")
def owner_grant(context: Context, owner: Owner, body: GrantIn) -> dict[str, Any]:
    store = context.store()
    made = portal.grant(store, catalogue(context), owner, vin=body.vin, recipient=body.recipient,
                        categories=body.categories, days=body.days)
    return portal.grant_dict(made, store.now())


@router.post("/api/owner/grants/{grant_id}/revoke", response_model=GrantOut,
             summary="Revoke a consent now (the recipient's next read is refused)")
def owner_revoke(context: Context, owner: Owner,
                 grant_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> dict[str, Any]:
    store = context.store()
    return portal.grant_dict(portal.revoke(store, owner, grant_id), store.now())


@router.get("/api/owner/log", response_model=AccessLogOut,
            summary="Every grant, revocation, export and third-party access of the owner's vehicles")
def owner_log(context: Context, owner: Owner,
              limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:
    store = context.store()
    return {"entries": [portal.log_dict(e) for e in db.access_log(store, db.owned_vins(store, owner.id), limit)]}


@router.get("/api/owner/recipients", response_model=RecipientsOut,
            summary="The data recipients an owner may grant access to")
def owner_recipients(context: Context, _owner: Owner) -> dict[str, Any]:
    return {"recipients": [_recipient(r) for r in db.list_recipients(context.store()) if not r.disabled]}


# --- OAuth and the third-party read API -------------------------------------------------------------


@router.post("/oauth/token", response_model=TokenOut,
             summary="OAuth 2.0 token endpoint (client credentials; scopes are data categories)")
async def token(request: Request, context: Context) -> JSONResponse:
    # the client authenticates with HTTP Basic (client_secret_basic): BodyLimits refused a body without
    # an Authorization header and bounded this one before the route runs; Authlib checks the secret
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise DataActError("the token request must be application/x-www-form-urlencoded (RFC 6749 §4.4.2)")
    raw = await request.body()
    if len(raw) > MAX_FORM:
        raise DataActError(f"a token request is at most {MAX_FORM} bytes")
    form = await request.form()
    fields = {k: str(v) for k, v in form.items()}
    status, body, headers = await run_in_threadpool(
        oauth.token_response, context.store(), scopes(context), request.method, str(request.url),
        dict(request.headers), fields)
    if status != 200:
        message = str(body.get("error_description") or body.get("error", "token request refused"))
        error = {"status": status, "type": "OAuthError", "message": message, "oauth_error": body.get("error")}
        return JSONResponse({**body, "error": error}, status_code=status, headers=dict(headers))
    return JSONResponse(body, status_code=200, headers=dict(headers))


@router.get("/api/data/vehicles/{vin}/{category}", response_model=DataReadOut,
            summary="A data recipient reads one category of one vehicle (needs the scope and a live consent)")
def data_read(context: Context, vin: VIN, category: CATEGORY,
              authorization: Annotated[str | None, Header()] = None,
              limit: Annotated[int, Query(ge=1, le=db.MAX_ROWS)] = 100) -> dict[str, Any]:
    store = context.store()
    reader = oauth.authorize_read(store, authorization, vin, category)
    rows = portal.consented_read(store, catalogue(context), vin, reader.vehicle_id, category, reader.client_id, limit)
    return {"vin": vin, "category": category, "recipient": reader.client_id, "values": rows}


@router.post("/api/data/webhooks", response_model=WebhookOut, status_code=201,
             summary="A data recipient subscribes a URL to events within its consents (HMAC-SHA256 signed)")
def data_subscribe(context: Context, body: WebhookIn,
                   authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    store = context.store()
    info = oauth.authenticate(store, authorization)
    sub_id, secret = webhooks.subscribe(store, info.client_id, body.url)
    return {"id": sub_id, "url": body.url, "secret": secret}


# --- operators -----------------------------------------------------------------------------------


def _recipient(r: db.RecipientInfo) -> dict[str, Any]:
    return {"client_id": r.client_id, "name": r.name, "disabled": r.disabled, "created_at": r.created_at.isoformat()}


@router.get("/api/data/recipients", response_model=RecipientsOut, summary="Registered data recipients")
def recipients(context: Context, _account: Viewer) -> dict[str, Any]:
    return {"recipients": [_recipient(r) for r in db.list_recipients(context.store())]}


@router.post("/api/data/recipients", response_model=RegisteredRecipientOut, status_code=201,
             summary="Register a data recipient (OAuth client); the client secret is shown once")
def register(context: Context, _account: Admin, body: RecipientIn) -> dict[str, Any]:
    info, secret = db.register_recipient(context.store(), body.client_id, body.name)
    return {**_recipient(info), "client_secret": secret}


@router.get("/api/data/dead-letters", response_model=DeadLettersOut,
            summary="Webhook deliveries that exhausted their retries")
def dead_letters(context: Context, _account: Engineer) -> dict[str, Any]:
    return {"deliveries": [{"id": d.id, "recipient": d.recipient, "vin": d.vin, "category": d.category, "url": d.url,
                            "attempts": d.attempts, "last_error": d.last_error}
                           for d in webhooks.dead_letters(context.store())]}


@router.get("/api/data/analytics", response_model=AnalyticsOut,
            summary="Pseudonymised telemetry for fleet analytics (keyed hash, no VIN; coarse location)")
def pseudonymised(context: Context, _account: Viewer,
                  limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> dict[str, Any]:
    return {"rows": analytics.pseudonymised(context.store(), catalogue(context), pseudonym_key(), limit=limit)}
