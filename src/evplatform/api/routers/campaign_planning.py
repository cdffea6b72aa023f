"""Campaign planning (issue 16 §1): the live count, the dry run, a past campaign as a template.

Nothing here writes: creating and starting stay ``POST /api/campaigns`` (release manager). The
previews read the whole fleet, so they need a signed-in account (viewer or more) rather than being
open like the GET reads; they are POSTs because a filter with an expression does not fit a URL.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from evplatform.api.auth import Viewer
from evplatform.api.context import Context
from evplatform.api.planning_schemas import DryRunIn, PreviewIn
from evplatform.api.responses.campaign_planning import DryRunOut, PreviewOut, TemplateOut
from evplatform.fleet import campaign_planning as cp
from evplatform.service.params import CampaignId

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])


@router.post("/preview", response_model=PreviewOut, summary="Live count: vehicles a target filter matches, by "
             "model, trim and market (signed in)")
def preview(context: Context, body: PreviewIn, _account: Viewer) -> dict[str, Any]:
    found = cp.preview(context.store(), body.target.to_filter(), release_id=body.release_id,
                       workspace=context.workspace())
    return found.to_dict()


@router.post("/dry-run", response_model=DryRunOut, summary="Who a campaign would target, who not and why, its "
             "waves and missing approvals; nothing is written (signed in)")
def dry_run(context: Context, body: DryRunIn, _account: Viewer) -> dict[str, Any]:
    found = cp.dry_run(context.store(), body.to_plan(), now=context.clock(), workspace=context.workspace())
    return found.to_dict()


@router.get("/{campaign_id}/plan", response_model=TemplateOut,
            summary="A campaign's plan (target, waves, forced/soft, window) as the body of a new one")
def plan(context: Context, campaign_id: CampaignId) -> dict[str, Any]:
    return {**cp.plan_of(context.store(), campaign_id).to_dict(), "template_of": campaign_id}
