"""The fleet: vehicles (paged, filtered by a fleet filter query), counts, one vehicle, key provisioning,
saved groups (dynamic: their query is evaluated on every use)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from evplatform.api.auth import Admin, ReleaseManager
from evplatform.api.context import Context
from evplatform.api.responses import (
    CountsOut,
    FleetGroupDeletedOut,
    FleetGroupListOut,
    FleetGroupOut,
    FleetGroupVehiclesOut,
    KeyProvisionedOut,
    VehiclePageOut,
)
from evplatform.api.responses.details import VehicleFullOut
from evplatform.api.schemas import FleetGroupIn, PublicKeyIn
from evplatform.errors import NotFoundError
from evplatform.fleet import groups as fg
from evplatform.fleet import listing
from evplatform.fleet.query import MAX_LENGTH
from evplatform.service import details, fleet_views
from evplatform.service.params import Offset, OptionalMarket, OptionalName, Vin
from evplatform.store import record_audit
from evplatform.store import vehicles as vdb

router = APIRouter(prefix="/api/fleet", tags=["fleet"])

QueryText = Annotated[str, Query(max_length=MAX_LENGTH, description="a fleet filter query (README: Fleet filter "
                                                                   "queries)")]
Sort = Annotated[Literal[listing.SORTS], Query(description="the column to sort by")]  # type: ignore[valid-type]
Order = Annotated[Literal["asc", "desc"], Query()]
Limit = Annotated[int, Query(ge=1, le=listing.MAX_PAGE_SIZE)]
GroupName = Annotated[str, Path(min_length=1, max_length=fg.NAME_LENGTH, description="a saved fleet group's name")]


@router.get("/vehicles", response_model=VehiclePageOut,
            summary="A page of vehicles matching a fleet filter query (and model/trim/market, case-insensitive)")
def vehicles(
    context: Context,
    model: OptionalName = None,
    trim: OptionalName = None,
    market: OptionalMarket = None,
    vin: Annotated[str | None, Query(max_length=17, description="a VIN or part of one")] = None,
    q: QueryText = "",
    sort: Sort = "vin",
    order: Order = "asc",
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    form = listing.FilterForm(vin=vin or "", model=model or "", trim=trim or "", market=market or "", q=q)
    store = context.store()
    page = listing.search(store, form.query_text(), now=context.clock(), sort=sort, descending=order == "desc",
                          offset=offset, limit=limit, catalogue=listing.catalogue_for(store, context.workspace()))
    return fleet_views.page_view(page)


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


@router.get("/groups", response_model=FleetGroupListOut, summary="Saved fleet groups with their vehicle counts now")
def groups(context: Context) -> dict[str, Any]:
    found = fg.list_group_views(context.store(), now=context.clock(), ws=context.workspace())
    return {"groups": [fleet_views.group_view(g) for g in found]}


@router.post("/groups", status_code=201, response_model=FleetGroupOut,
             summary="Save a fleet filter query as a named, dynamic group (release manager)")
def create_group(context: Context, body: FleetGroupIn, account: ReleaseManager) -> dict[str, Any]:
    created = fg.create_group(context.store(), body.name, body.query, actor=account.name,
                              description=body.description, ws=context.workspace(), now=context.clock())
    return fleet_views.group_view(created)


@router.get("/groups/{name}", response_model=FleetGroupOut, summary="One saved group and its vehicle count now")
def group(context: Context, name: GroupName) -> dict[str, Any]:
    return fleet_views.group_view(fg.group_view(context.store(), name, now=context.clock(), ws=context.workspace()))


@router.delete("/groups/{name}", response_model=FleetGroupDeletedOut, summary="Delete a saved group (release manager)")
def delete_group(context: Context, name: GroupName, account: ReleaseManager) -> dict[str, Any]:
    fg.delete_group(context.store(), name, actor=account.name)
    return {"name": name, "deleted": True}


@router.get("/groups/{name}/vehicles", response_model=FleetGroupVehiclesOut,
            summary="A page of the vehicles in a saved group, evaluated now")
def group_vehicles(context: Context, name: GroupName, sort: Sort = "vin", order: Order = "asc", limit: Limit = 50,
                   offset: Offset = 0) -> dict[str, Any]:
    store = context.store()
    now = context.clock()
    found = fg.group_view(store, name, now=now, ws=context.workspace())
    page = listing.search(store, found.query, now=now, sort=sort, descending=order == "desc", offset=offset,
                          limit=limit, catalogue=listing.catalogue_for(store, context.workspace()))
    return {**fleet_views.page_view(page), "group": fleet_views.group_view(found)}
