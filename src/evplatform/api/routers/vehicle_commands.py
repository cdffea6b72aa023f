"""Commands to vehicles over MQTT (``fleet.mqtt_commands``): send one, list them with their answers.

The command is recorded (pending, audited, expiring on the server's clock) whether or not a broker
is configured; with ``serve --mqtt URL`` it is also published on the vehicle's command topic.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from evplatform.api.auth import Viewer, require_role
from evplatform.api.context import Context
from evplatform.api.responses.common import Out
from evplatform.api.routers.details import CSV_DOC, Format, csv_download
from evplatform.fleet.mqtt_commands import COMMAND_ROLE, issue_command, publish_command
from evplatform.service.csv_text import csv_text, vehicle_commands_table
from evplatform.service.params import Vin
from evplatform.store.accounts import AccountInfo
from evplatform.store.telemetry_batches import CommandRecord, commands

router = APIRouter(prefix="/api/fleet", tags=["fleet"])

#: Who may send a command: ``COMMAND_ROLE`` or a more privileged role (the web page reads the same constant).
CommandSender = Annotated[AccountInfo, Depends(require_role(COMMAND_ROLE))]


class CommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["precondition_cabin", "lock", "upload_logs"]
    ttl_s: int = Field(default=300, ge=1, le=86_400, description="seconds until the command expires (server clock)")


class CommandOut(Out):
    id: str
    vin: str
    action: str
    state: str = Field(description="pending, accepted, rejected or expired (server clock)")
    issued_by: str
    issued_at: str
    expires_at: str
    answered_at: str | None
    detail: str


class CommandSentOut(CommandOut):
    published: bool = Field(description="false when the server has no MQTT broker (serve --mqtt)")


class CommandListOut(Out):
    commands: list[CommandOut]


def _payload(record: CommandRecord) -> dict[str, Any]:
    return {"id": record.id, "vin": record.vin, "action": record.action, "state": record.state,
            "issued_by": record.issued_by, "issued_at": record.issued_at.isoformat(),
            "expires_at": record.expires_at.isoformat(),
            "answered_at": record.answered_at.isoformat() if record.answered_at else None, "detail": record.detail}


@router.post("/vehicles/{vin}/commands", status_code=201, response_model=CommandSentOut,
             summary="Send a command (pre-condition cabin, lock, log upload) to a vehicle (engineer)")
async def send_command(request: Request, context: Context, vin: Vin, body: CommandIn,
                       account: CommandSender) -> dict[str, Any]:
    store = context.store()
    record = await run_in_threadpool(issue_command, store, vin, body.action, account.name,
                                     timedelta(seconds=body.ttl_s))
    url = getattr(request.app.state, "mqtt_url", None)
    if url:
        await publish_command(url, record)
    return {**_payload(record), "published": bool(url)}


@router.get("/vehicles/{vin}/commands", response_model=CommandListOut, responses=CSV_DOC,
            summary="A vehicle's commands, newest first, with their answers (JSON or CSV)")
def list_commands(context: Context, vin: Vin, _account: Viewer, format: Format = "json") -> Any:
    rows = [_payload(r) for r in commands(context.store(), vin=vin)]
    if format == "csv":
        return csv_download(csv_text(*vehicle_commands_table(rows)), f"commands-{vin}.csv")
    return {"commands": rows}
