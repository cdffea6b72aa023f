"""Vehicle-facing endpoints, signed with the vehicle's own key: update check and campaign report.

The update check answers with ``poll_after_s`` and the same number in ``Retry-After``: the server's
hint when to check again (``fleet.polling``). With nothing new it writes and signs nothing. Its
``ETag`` comes from the vehicle's generation number (``fleet.generations``): a check sending it back
in ``If-None-Match`` while nothing concerning the vehicle changed gets 304 after one indexed read.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from evplatform.api.auth import VehicleAuth
from evplatform.api.conditional import held_check_tag
from evplatform.api.context import Context
from evplatform.api.observability import server_metrics
from evplatform.api.responses import ReportOut, UpdateCheckOut
from evplatform.api.schemas import ReportIn
from evplatform.fleet import answer_update_check, report
from evplatform.fleet.generations import CheckTag, LookupCache
from evplatform.store.generations import generation as generation_of

router = APIRouter(prefix="/api/vehicle", tags=["vehicle"])
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "If-None-Match holds the ETag of the last answer and nothing concerning the vehicle "
                         "changed since: no body, the same ETag and Retry-After"},
}


@router.post("/update-check", response_model=UpdateCheckOut, responses=NOT_MODIFIED,
             summary="What the signed-in vehicle should install now, if anything")
def check(context: Context, caller: VehicleAuth, request: Request, response: Response) -> Any:
    store, now = context.store(), context.clock()
    generation = generation_of(store, caller.vin)  # before the answer: a change in between moves the tag on
    held = held_check_tag(request.headers.get("if-none-match"), generation, now)
    if held is not None:
        server_metrics(request).update_check_not_modified()
        return Response(status_code=304, headers={"ETag": held.text(), "Retry-After": str(held.poll_after_s)})
    lookups: LookupCache = request.app.state.offer_lookups
    answer = answer_update_check(store, caller.vin, now, generation=generation, lookups=lookups)
    offer = answer.offer
    server_metrics(request).update_check(offered=offer is not None)  # refusals: counted by the observer
    response.headers["Retry-After"] = str(answer.poll_after_s)
    if generation is not None:
        response.headers["ETag"] = CheckTag(generation, answer.poll_after_s, answer.until).text()
    if offer is None:
        return {"vin": caller.vin, "update": None, "poll_after_s": answer.poll_after_s}
    return {
        "vin": caller.vin,
        "update": {"campaign_id": offer.campaign_id, "release_id": offer.release_id, "component": offer.component,
                   "ecu": offer.ecu, "hardware_id": offer.hardware_id, "version": offer.version,
                   "forced": offer.forced},
        "poll_after_s": answer.poll_after_s,
    }


@router.post("/report", response_model=ReportOut, summary="The vehicle's final answer to a campaign (idempotent)")
def post_report(context: Context, body: ReportIn, caller: VehicleAuth) -> dict[str, Any]:
    counted = report(context.store(), body.campaign_id, caller.vin, body.outcome, at=body.at or context.clock(),
                     detail=body.detail, conditions=body.conditions())
    return {"vin": caller.vin, "campaign_id": body.campaign_id, "outcome": body.outcome, "counted": counted}
