"""Watching a campaign and recovering it after a halt: its vehicles, its history, and the release
manager's decisions (acknowledge, exclude a cohort, open the next wave, retry the failed vehicles).

Every decision is checked against the domain's transition table (409 naming the allowed actions),
needs the release manager role (403 for a viewer) and is recorded with the signed-in account as
the actor, its reason, and the server's time.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from evplatform.api.auth import ReleaseManager
from evplatform.api.campaign_schemas import AckIn, ExcludeIn, ReasonIn, RetryIn
from evplatform.api.context import Context
from evplatform.api.responses import CampaignActionOut, CampaignVehiclesOut, HistoryOut
from evplatform.fleet import campaign_recovery as rec
from evplatform.service.campaign_views import history_view, vehicles_view
from evplatform.service.params import INT32_MAX, MAX_OFFSET, CampaignId
from evplatform.service.presenters import campaign_progress
from evplatform.store import campaigns as cdb

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])

StatusQuery = Annotated[str | None, Query(max_length=16, description=", ".join(rec.STATUSES))]
WaveQuery = Annotated[int | None, Query(ge=1, le=INT32_MAX, description="a wave, 1-based")]
PageQuery = Annotated[int, Query(ge=1, le=MAX_OFFSET // 1000, description="page number, from 1")]
SizeQuery = Annotated[int, Query(ge=1, le=rec.MAX_PAGE_SIZE, description="vehicles per page")]
AfterQuery = Annotated[int | None, Query(ge=0, le=2**63 - 1, description="keyset cursor: the previous page's "
                                         "next_after (page is then not used); a deep page costs an index probe")]


@router.get("/{campaign_id}/vehicles", response_model=CampaignVehiclesOut,
            summary="The campaign's vehicles by wave and status, with failure reasons and reported detail (paged)")
def vehicles(context: Context, campaign_id: CampaignId, wave: WaveQuery = None, status: StatusQuery = None,
             page: PageQuery = 1, size: SizeQuery = 50, after: AfterQuery = None) -> dict[str, Any]:
    query = rec.VehicleQuery(wave=None if wave is None else wave - 1, status=status or None, page=page, size=size,
                             after=after)
    return vehicles_view(context.store(), campaign_id, query)


@router.get("/{campaign_id}/history", response_model=HistoryOut,
            summary="Every state change and decision: who, when (server clock), from → to, why")
def history(context: Context, campaign_id: CampaignId) -> dict[str, Any]:
    return history_view(context.store(), campaign_id)


def _known(context: Context, campaign_id: int) -> None:
    cdb.campaign(context.store(), campaign_id)  # 404 before anything else


@router.post("/{campaign_id}/ack", response_model=CampaignActionOut, response_model_exclude_unset=True,
             summary="Acknowledge a halt with a comment; resume is allowed after (release manager)")
def ack(context: Context, campaign_id: CampaignId, account: ReleaseManager, body: AckIn) -> dict[str, Any]:
    _known(context, campaign_id)
    rec.acknowledge(context.store(), campaign_id, actor=account.name, comment=body.comment, now=context.clock())
    return campaign_progress(context.store(), campaign_id, timeline=False)


@router.post("/{campaign_id}/exclude", response_model=CampaignActionOut, response_model_exclude_unset=True,
             summary="Leave a model, model/trim or market out (never offered again), optionally resume "
                     "(release manager)")
def exclude(context: Context, campaign_id: CampaignId, account: ReleaseManager, body: ExcludeIn) -> dict[str, Any]:
    _known(context, campaign_id)
    store = context.store()
    count = rec.exclude(store, campaign_id, rec.Cohort(body.model, body.trim, body.market), actor=account.name,
                        reason=body.reason, resume=body.resume, now=context.clock())
    return {**campaign_progress(store, campaign_id, timeline=False), "vehicles_affected": count}


@router.post("/{campaign_id}/next-wave", response_model=CampaignActionOut, response_model_exclude_unset=True,
             summary="Open the next wave now, before its gate passes (release manager)")
def next_wave(context: Context, campaign_id: CampaignId, account: ReleaseManager, body: ReasonIn) -> dict[str, Any]:
    _known(context, campaign_id)
    opened = rec.open_next_wave(context.store(), campaign_id, actor=account.name, reason=body.reason,
                                now=context.clock())
    return {**campaign_progress(context.store(), campaign_id, timeline=False), "opened_wave": opened + 1}


@router.post("/{campaign_id}/retry", response_model=CampaignActionOut, response_model_exclude_unset=True,
             summary="Offer the release again to the failed and rolled-back vehicles (release manager)")
def retry(context: Context, campaign_id: CampaignId, account: ReleaseManager, body: RetryIn) -> dict[str, Any]:
    _known(context, campaign_id)
    count = rec.retry_failed(context.store(), campaign_id, actor=account.name, reason=body.reason,
                             wave=None if body.wave is None else body.wave - 1)
    return {**campaign_progress(context.store(), campaign_id, timeline=False), "vehicles_affected": count}
