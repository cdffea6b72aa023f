"""The fleet: vehicles (paged, filtered), counts by model/trim/market, one vehicle, key provisioning."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from evplatform.api.auth import Admin
from evplatform.api.context import Context
from evplatform.api.responses import CountsOut, KeyProvisionedOut, VehiclePageOut
from evplatform.api.responses.details import VehicleFullOut
from evplatform.api.schemas import PublicKeyIn
from evplatform.errors import NotFoundError
from evplatform.service import details, views
from evplatform.service.params import Offset, OptionalMarket, OptionalName, Vin
from evplatform.store import dashboard as ddb
from evplatform.store import record_audit
from evplatform.store import vehicles as vdb

router = APIRouter(prefix="/api/fleet", tags=["fleet"])


@router.get("/vehicles", response_model=VehiclePageOut,
            summary="A page of vehicles in registration order, optionally filtered")
def vehicles(
    context: Context,
    model: OptionalName = None,
    trim: OptionalName = None,
    market: OptionalMarket = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    store = context.store()
    page = vdb.list_vehicles(store, model=model, trim=trim, market=market, limit=limit, offset=offset)
    return {
        "total": ddb.count_vehicles(store, model=model, trim=trim, market=market),
        "limit": limit,
        "offset": offset,
        "vehicles": [views.vehicle_view(v) for v in page],
    }


@router.get("/counts", response_model=CountsOut, summary="Vehicles per model, trim and market")
def counts(context: Context) -> dict[str, Any]:
    cells = vdb.fleet_counts(context.store())
    return {"total": sum(c["vehicles"] for c in cells), "cells": cells}


@router.get("/vehicles/{vin}", response_model=VehicleFullOut,
            summary="One vehicle: configuration, ECUs, software, RXSWIN, update history, last seen, telemetry")
def vehicle(context: Context, vin: Vin) -> dict[str, Any]:
    return details.vehicle_payload(context.store(), vin)


@router.put("/vehicles/{vin}/key", response_model=KeyProvisionedOut,
            summary="Provision (or rotate) the vehicle's ed25519 public key (admin)")
def provision_key(context: Context, vin: Vin, body: PublicKeyIn, account: Admin) -> dict[str, Any]:
    store = context.store()
    if vdb.vehicle_by_vin(store, vin) is None:
        raise NotFoundError("vehicle", vin)
    vdb.set_public_key(store, vin, body.public_key.lower())
    record_audit(store, account.name, "vehicle.key", f"vehicle:{vin}", {})
    return {"vin": vin, "key_provisioned": True}
