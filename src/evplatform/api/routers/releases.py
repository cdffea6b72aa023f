"""Releases of the workspace's software components and their regulatory approval records."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from evplatform.api.auth import ReleaseManager
from evplatform.api.context import ApiContext, get_context
from evplatform.api.errors import NotFound
from evplatform.api.schemas import ApprovalIn, ReleaseIn, iso
from evplatform.errors import FleetError
from evplatform.store import campaigns as cdb
from evplatform.store import releases as rdb

router = APIRouter(prefix="/api/releases", tags=["releases"])
Context = Annotated[ApiContext, Depends(get_context)]


def release_view(r: rdb.ReleaseRecord) -> dict[str, Any]:
    return {"id": r.id, "component": r.component, "ecu": r.ecu, "hardware_id": r.hardware_id, "version": r.version,
            "compatible": r.compatible, "notes": r.notes, "created_at": iso(r.created_at)}


def approval_view(a: rdb.ApprovalRecord) -> dict[str, Any]:
    return {"market": a.market, "authority": a.authority, "reference": a.reference, "approved_by": a.approved_by,
            "approved_at": iso(a.approved_at)}


@router.get("", summary="Every release, oldest first")
def list_releases(context: Context) -> dict[str, Any]:
    return {"releases": [release_view(r) for r in rdb.list_releases(context.store())]}


@router.get("/{release_id}", summary="One release with its approvals and campaigns")
def get_release(context: Context, release_id: str) -> dict[str, Any]:
    store = context.store()
    found = rdb.release(store, release_id)
    if found is None:
        raise NotFound(f"no release {release_id!r}")
    data = release_view(found)
    data["approvals"] = [approval_view(a) for a in rdb.approvals(store, release_id)]
    data["campaigns"] = [{"id": c.id, "name": c.name, "state": c.state}
                         for c in cdb.list_campaigns(store, release_id=release_id)]
    return data


@router.post("", status_code=201, summary="Register a release of a workspace software component (release manager)")
def create_release(context: Context, body: ReleaseIn, account: ReleaseManager) -> dict[str, Any]:
    ws = context.workspace()
    component = ws.software.get(body.component)
    if component is None:
        raise FleetError(f"unknown software component {body.component!r} (known: {', '.join(ws.software)})")
    record = rdb.ReleaseRecord(body.id, component.id, component.ecu, component.hardware_id, body.version,
                               component.compatible_text, body.notes, context.clock())
    store = context.store()
    rdb.save_release(store, record, actor=account.name)
    found = rdb.release(store, body.id)
    assert found is not None
    return release_view(found)


@router.post("/{release_id}/approvals", status_code=201,
             summary="Record a regulatory approval of the release for a market (release manager)")
def add_approval(context: Context, release_id: str, body: ApprovalIn, account: ReleaseManager) -> dict[str, Any]:
    store = context.store()
    if rdb.release(store, release_id) is None:
        raise NotFound(f"no release {release_id!r}")
    approval = rdb.ApprovalRecord(release_id, body.market, body.authority, body.reference, account.name,
                                  body.approved_at or context.clock())
    rdb.save_approval(store, approval, actor=account.name)
    return approval_view(approval)
