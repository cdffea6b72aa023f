"""Releases of the workspace's software components and their regulatory approval records."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from evplatform.api.auth import ReleaseManager
from evplatform.api.context import Context
from evplatform.api.responses import ApprovalOut, ReleaseListOut, ReleaseOut
from evplatform.api.responses.details import ReleaseFullOut
from evplatform.api.schemas import ApprovalIn, ReleaseIn
from evplatform.errors import FleetError
from evplatform.fleet.approvals import record_approval
from evplatform.service import details
from evplatform.service.params import ReleaseId
from evplatform.service.presenters import approval_view, release_view
from evplatform.store import releases as rdb

router = APIRouter(prefix="/api/releases", tags=["releases"])


@router.get("", response_model=ReleaseListOut, summary="Every release, oldest first")
def list_releases(context: Context) -> dict[str, Any]:
    return {"releases": [release_view(r) for r in rdb.list_releases(context.store())]}


@router.get("/{release_id}", response_model=ReleaseFullOut,
            summary="One release: approvals, campaigns, images and deltas against the fleet's versions, RXSWIN, "
                    "stability over time ('too young' until 7 days after its first install)")
def get_release(context: Context, release_id: ReleaseId) -> dict[str, Any]:
    return details.release_payload(context.store(), release_id, context.ota_root)


@router.post("", status_code=201, response_model=ReleaseOut,
             summary="Register a release of a workspace software component (release manager)")
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
    if found is None:
        raise AssertionError("cannot happen")  # an invariant, kept under python -O
    return release_view(found)


@router.post("/{release_id}/approvals", status_code=201, response_model=ApprovalOut,
             summary="Record a regulatory approval of the release for a market (a release manager other than "
                     "the release's creator)")
def add_approval(context: Context, release_id: ReleaseId, body: ApprovalIn, account: ReleaseManager) -> dict[str, Any]:
    """422 for a market the workspace lacks or a date in the future or before the release; 403 for its creator."""
    approval = rdb.ApprovalRecord(release_id, body.market, body.authority, body.reference, account.name,
                                  body.approved_at or context.clock())
    markets = context.workspace().markets
    return approval_view(record_approval(context.store(), approval, markets=markets, now=context.clock()))
