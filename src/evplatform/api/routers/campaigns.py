"""Campaigns: list, progress with waves and rates over time, and the release manager's controls.

Every control is audit-logged by the store with the signed-in account as the actor.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from evplatform.api.auth import ReleaseManager
from evplatform.api.campaign_schemas import ReasonIn
from evplatform.api.context import Context
from evplatform.api.responses import CampaignListOut, CampaignOut, StartedCampaignOut
from evplatform.api.schemas import CampaignIn
from evplatform.errors import NotFoundError
from evplatform.fleet import campaigns as fc
from evplatform.service.params import CampaignId, OptionalReleaseId
from evplatform.service.presenters import campaign_progress
from evplatform.store import Store
from evplatform.store import campaigns as cdb

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])


@router.get("", response_model=CampaignListOut, response_model_exclude_unset=True,
            summary="Every campaign with its state, waves and halt reason")
def list_campaigns(context: Context, release_id: OptionalReleaseId = None) -> dict[str, Any]:
    store = context.store()
    return {"campaigns": [campaign_progress(store, c.id, timeline=False)
                          for c in cdb.list_campaigns(store, release_id=release_id)]}


@router.get("/{campaign_id}", response_model=CampaignOut, response_model_exclude_unset=True,
            summary="Progress: waves, counts, success and error rates over time")
def get_campaign(context: Context, campaign_id: CampaignId) -> dict[str, Any]:
    return campaign_progress(context.store(), campaign_id)


@router.post("", status_code=201, response_model=StartedCampaignOut, response_model_exclude_unset=True,
             summary="Create a campaign (draft, or started at once) (release manager)")
def create_campaign(context: Context, body: CampaignIn, account: ReleaseManager) -> dict[str, Any]:
    store = context.store()
    now = context.clock()
    settings: dict[str, Any] = {
        "name": body.name, "release_id": body.release_id, "target": body.target.to_filter(),
        "waves": body.policies(), "forced": body.forced, "consent": body.consent,
        "window": body.maintenance_window(),
        "seed": body.seed, "actor": account.name, "now": now, "workspace": context.workspace(),
    }
    if not body.start:
        cid = fc.create_campaign(store, **settings)
        return campaign_progress(store, cid, timeline=False)
    cid, summary = fc.create_and_start_campaign(store, **settings)  # refused: nothing is left behind
    return {**campaign_progress(store, cid, timeline=False), "excluded": summary.excluded}


def _exists(store: Store, campaign_id: CampaignId) -> None:
    if not any(c.id == campaign_id for c in cdb.list_campaigns(store)):
        raise NotFoundError("campaign", campaign_id)


@router.post("/{campaign_id}/start", response_model=StartedCampaignOut, response_model_exclude_unset=True,
             summary="Choose targets, check approvals, open the first wave (release manager)")
def start(context: Context, campaign_id: CampaignId, account: ReleaseManager) -> dict[str, Any]:
    store = context.store()
    _exists(store, campaign_id)
    summary = fc.start_campaign(store, campaign_id, actor=account.name, now=context.clock())
    return {**campaign_progress(store, campaign_id, timeline=False), "excluded": summary.excluded}


@router.post("/{campaign_id}/pause", response_model=CampaignOut, response_model_exclude_unset=True,
             summary="Stop offering until resumed (release manager)")
def pause(context: Context, campaign_id: CampaignId, account: ReleaseManager) -> dict[str, Any]:
    store = context.store()
    _exists(store, campaign_id)
    fc.pause_campaign(store, campaign_id, actor=account.name, now=context.clock())
    return campaign_progress(store, campaign_id, timeline=False)


@router.post("/{campaign_id}/resume", response_model=CampaignOut, response_model_exclude_unset=True,
             summary="Offer again after a pause or a halt (release manager)")
def resume(context: Context, campaign_id: CampaignId, account: ReleaseManager) -> dict[str, Any]:
    store = context.store()
    _exists(store, campaign_id)
    fc.resume_campaign(store, campaign_id, actor=account.name, now=context.clock())
    return campaign_progress(store, campaign_id, timeline=False)


@router.post("/{campaign_id}/cancel", response_model=CampaignOut, response_model_exclude_unset=True,
             summary="Stop for good, with a reason; vehicles not yet offered never are (release manager)")
def cancel(context: Context, campaign_id: CampaignId, account: ReleaseManager, body: ReasonIn) -> dict[str, Any]:
    """A cancel needs its reason; a halt's reason and the waves' states stay as they were (issue 16 §1)."""
    store = context.store()
    _exists(store, campaign_id)
    fc.cancel_campaign(store, campaign_id, actor=account.name, reason=body.reason, now=context.clock())
    return campaign_progress(store, campaign_id, timeline=False)
