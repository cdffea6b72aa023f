"""Exports of the vehicle and release detail views: update records, history and release tables, JSON or CSV.

``format=csv`` answers ``text/csv`` with a header row, as a download (``Content-Disposition``); the
default is JSON with a response model. An unknown VIN or release is 404 in the one error shape.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from evplatform.api.context import Context
from evplatform.api.responses.details import HistoryOut, ReleaseTableOut, UpdateRecordsOut
from evplatform.errors import NotFoundError
from evplatform.fleet.update_records import update_records
from evplatform.ota.records import to_csv, to_json
from evplatform.service import details
from evplatform.service.params import ReleaseId, Vin
from evplatform.store import vehicles as vdb

router = APIRouter(tags=["fleet"])

Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv (a download with a header row)")]
CampaignFilter = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="only this campaign's records")]
Table = Annotated[Literal["images", "fleet_versions", "approvals", "campaigns", "stability_over_time"],
                  Path(description="which table of the release view")]
CSV_DOC: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                 "description": "JSON by default; with format=csv a CSV file with a header row"}}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def csv_download(text: str, filename: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_safe(filename)}"'})


@router.get("/api/fleet/vehicles/{vin}/update-records", response_model=UpdateRecordsOut, responses=CSV_DOC,
            summary="The vehicle's UN R156 / GB 44496 update records (JSON document or CSV)")
def vehicle_update_records(context: Context, vin: Vin, format: Format = "json",
                           campaign: CampaignFilter = None) -> Any:
    store = context.store()
    if vdb.vehicle_by_vin(store, vin) is None:
        raise NotFoundError("vehicle", vin)
    records = update_records(store, vin=vin, campaign_id=campaign)
    if format == "csv":
        return csv_download(to_csv(records), f"update-records-{vin}.csv")
    return Response(to_json(records, generated_at=store.now()), media_type="application/json")


@router.get("/api/fleet/vehicles/{vin}/history", response_model=HistoryOut, responses=CSV_DOC,
            summary="The vehicle's update history: every campaign's targeting, offer and report (JSON or CSV)")
def vehicle_history(context: Context, vin: Vin, format: Format = "json") -> Any:
    payload = details.vehicle_payload(context.store(), vin)
    if format == "csv":
        return csv_download(details.history_csv(payload), f"history-{vin}.csv")
    return {"vin": vin, "history": payload["history"]}


@router.get("/api/releases/{release_id}/tables/{table}", response_model=ReleaseTableOut, responses=CSV_DOC,
            summary="One table of the release view (images, fleet_versions, approvals, campaigns, "
                    "stability_over_time) as JSON rows or CSV")
def release_table(context: Context, release_id: ReleaseId, table: Table, format: Format = "json") -> Any:
    payload = details.release_payload(context.store(), release_id, context.ota_root)
    if format == "csv":
        return csv_download(details.release_table_csv(payload, table), f"release-{release_id}-{table}.csv")
    return {"release": release_id, "table": table, "columns": list(details.RELEASE_TABLES[table]),
            "rows": payload[table]}
