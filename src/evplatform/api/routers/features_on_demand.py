"""Features on demand (``evplatform.ondemand``): offers per car, the entitlement ledger, R156 change records,
revenue. Selling and cancelling need the release-manager role (they change what a vehicle runs and,
for type-approval relevant features, its RXSWIN) and are audit-logged by the domain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from evplatform.api.auth import ReleaseManager
from evplatform.api.context import Context
from evplatform.api.responses.ondemand import (
    ChangeRecordsOut,
    EntitlementChangeOut,
    EntitlementListOut,
    OffersOut,
    RevenueOut,
)
from evplatform.api.schemas import NO_NUL, Strict
from evplatform.errors import NotFoundError
from evplatform.ondemand import activation, catalogue, ledger, revenue
from evplatform.service.params import MARKET_LENGTH, NAME_LENGTH, VIN_LENGTH
from evplatform.store import vehicles as vdb

router = APIRouter(prefix="/api/fod", tags=["features on demand"])

FEATURE_LENGTH = 64
OptionalVin = Annotated[str | None, Query(min_length=1, max_length=VIN_LENGTH, description="a vehicle's VIN")]
OptionalFeature = Annotated[str | None, Query(min_length=1, max_length=FEATURE_LENGTH, description="a paid feature")]


class PurchaseIn(Strict):
    vin: str = Field(min_length=1, max_length=VIN_LENGTH, pattern=NO_NUL)
    feature: str = Field(min_length=1, max_length=FEATURE_LENGTH, pattern=NO_NUL)
    channel: str = Field(min_length=1, max_length=32, pattern=NO_NUL)
    months: int | None = Field(default=None, ge=1, le=ledger.MAX_MONTHS, description="fixed term; null: open-ended")


class CancelIn(Strict):
    vin: str = Field(min_length=1, max_length=VIN_LENGTH, pattern=NO_NUL)
    feature: str = Field(min_length=1, max_length=FEATURE_LENGTH, pattern=NO_NUL)


@router.get("/offers", response_model=OffersOut, response_model_by_alias=True,
            summary="Paid features with price and whether a car (VIN or trim × market) can run each, and why not")
def offers(context: Context, vin: OptionalVin = None,
           trim: Annotated[str | None, Query(max_length=NAME_LENGTH * 2 + 1)] = None,
           market: Annotated[str | None, Query(max_length=MARKET_LENGTH)] = None) -> dict[str, Any]:
    ws = context.workspace()
    currency = ws.platform.currency
    if vin is not None:
        vehicle = vdb.vehicle_by_vin(context.store(), vin)
        if vehicle is None:
            raise NotFoundError("vehicle", vin)
        rows = catalogue.offers(ws, vehicle.configuration)
        where = f"{vin} ({vehicle.trim_key} in {vehicle.market})"
    elif trim is not None:
        chosen = ws.trim(trim)
        rows = catalogue.offers(ws, ws.configuration(chosen, market))
        where = f"{chosen.key} in {market or ws.platform.base_market}"
    else:
        rows = [catalogue.Eligibility(f, True, ()) for f in ws.on_demand.features.values()]
        where = "the catalogue"
    return {"for": where, "currency": currency, "offers": [r.to_dict(currency) for r in rows]}


@router.get("/entitlements", response_model=EntitlementListOut, summary="The entitlement ledger, oldest first")
def entitlements(context: Context, vin: OptionalVin = None, feature: OptionalFeature = None,
                 limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> dict[str, Any]:
    store = context.store()
    return {"entitlements": ledger.listing(store, vin=vin, feature=feature, now=context.clock(), limit=limit)}


@router.post("/entitlements", status_code=201, response_model=EntitlementChangeOut,
             summary="Sell a paid feature to a vehicle (release manager; 422 with the reason when its hardware "
                     "cannot run it)")
def buy(context: Context, body: PurchaseIn, account: ReleaseManager) -> dict[str, Any]:
    store = context.store()
    now = context.clock()
    record, result = ledger.buy(store, context.workspace(), body.vin, body.feature, channel=body.channel,
                                actor=account.name, months=body.months, now=now)
    return {"entitlement": ledger.entitlement_view(record, now), "sync": result.to_dict()}


@router.post("/entitlements/cancel", response_model=EntitlementChangeOut,
             summary="End a vehicle's entitlement to a feature now (release manager)")
def cancel(context: Context, body: CancelIn, account: ReleaseManager) -> dict[str, Any]:
    store = context.store()
    now = context.clock()
    record, result = ledger.cancel(store, context.workspace(), body.vin, body.feature, actor=account.name, now=now)
    return {"entitlement": ledger.entitlement_view(record, now), "sync": result.to_dict()}


@router.get("/changes", response_model=ChangeRecordsOut,
            summary="UN R156 / GB 44496 records of feature changes: reason, type-approval relevance, RXSWIN")
def changes(context: Context, vin: OptionalVin = None) -> dict[str, Any]:
    store = context.store()
    if vin is not None and vdb.vehicle_by_vin(store, vin) is None:
        raise NotFoundError("vehicle", vin)
    return {"records": activation.change_records(store, vin)}


@router.get("/revenue", response_model=RevenueOut,
            summary="MRR, one-off sales, churn and attach rates per trim × market at the server clock")
def revenue_summary(context: Context) -> dict[str, Any]:
    return revenue.summary(context.store(), context.workspace(), at=context.clock())
