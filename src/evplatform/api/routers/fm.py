"""The variability engine: analyses of the workspace's feature model, configurator sessions, uploads.

Role rules: the analysis is a read, open like every read. Sessions and uploads change nothing in the
workspace or the database but hold memory and CPU on the server, so they need a signed-in account
of any role (viewer and up); a session is visible only to the account that opened it (another's id
answers 404, as an unknown one does).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from evplatform.api.auth import Viewer
from evplatform.api.context import Context
from evplatform.api.responses.fm import (
    AnalysisOut,
    CompletionOut,
    SessionBomOut,
    SessionClosedOut,
    SessionOut,
    TrimExportOut,
)
from evplatform.api.schemas import NO_NUL
from evplatform.service import configurator
from evplatform.variability.cnf import CNF, encode
from evplatform.workspace import Workspace

router = APIRouter(prefix="/api/fm", tags=["feature model"])

#: A feature name as sent (longer or NUL-holding names are no feature: 422 before the engine looks).
FeatureName = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
Names = Annotated[list[FeatureName], Field(default_factory=list, max_length=10_000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionIn(_Strict):
    trim: str | None = Field(default=None, max_length=200, pattern=NO_NUL,
                             description="model/trim to start from (null: nothing)")
    market: str | None = Field(default=None, max_length=100, pattern=NO_NUL,
                               description="default: the platform's base market")


class DecisionsIn(_Strict):
    """Applied in order: retract, then select and deselect (a feature may change sides)."""

    select: Names
    deselect: Names
    retract: Names


class CompletionIn(_Strict):
    attribute: str = Field(default="cost", min_length=1, max_length=100, pattern=NO_NUL,
                           description="the numeric feature attribute whose sum is minimised")


@router.get("/analysis", response_model=AnalysisOut,
            summary="Valid, core, dead, false-optional, atomic sets and count of the workspace's feature model")
def analysis(context: Context) -> dict[str, Any]:
    return context.cached(("fm-analysis",), lambda: configurator.workspace_analysis(context.workspace()))


@router.post("/upload", response_model=AnalysisOut,
             summary="Analyse an uploaded model file (UVL, FeatureIDE XML, DIMACS); unreadable: 422 file:line:column")
async def upload(
    request: Request,
    _account: Viewer,
    filename: Annotated[str, Query(min_length=1, max_length=200,
                                   description="the file's name; its suffix (.uvl, .xml, .dimacs) names the format")],
) -> dict[str, Any]:
    data = await request.body()
    return await run_in_threadpool(configurator.analyse_upload, filename, data)


def _workspace_model(context: Context) -> tuple[Workspace, CNF, str]:
    ws = context.workspace()
    cnf = context.cached(("fm-cnf",), lambda: encode(ws.feature_model))
    return ws, cnf, configurator.model_label(ws)


@router.post("/sessions", response_model=SessionOut, status_code=201,
             summary="Open a configurator session from a trim in a market, or from nothing decided")
def open_session(context: Context, account: Viewer, body: SessionIn) -> dict[str, Any]:
    ws, cnf, label = _workspace_model(context)
    start = configurator.start_from(ws, body.trim, body.market)
    session = context.fm_sessions().open(account.name, ws.feature_model, cnf, label, start)
    return session.state()


@router.get("/sessions/{session_id}", response_model=SessionOut,
            summary="The decisions, forced and forbidden features with their reasons, and the open features")
def get_session(context: Context, account: Viewer, session_id: str) -> dict[str, Any]:
    return context.fm_sessions().get(account.name, session_id).state()


@router.post("/sessions/{session_id}/decisions", response_model=SessionOut,
             summary="Retract, select, deselect; a decision no valid configuration allows is 409 with its reasons")
def decide(context: Context, account: Viewer, session_id: str, body: DecisionsIn) -> dict[str, Any]:
    session = context.fm_sessions().get(account.name, session_id)
    return session.apply(body.select, body.deselect, body.retract)


@router.post("/sessions/{session_id}/completion", response_model=CompletionOut,
             summary="The valid completion of the decisions with the least sum of an attribute")
def completion(context: Context, account: Viewer, session_id: str, body: CompletionIn) -> dict[str, Any]:
    return context.fm_sessions().get(account.name, session_id).complete(body.attribute)


@router.delete("/sessions/{session_id}", response_model=SessionClosedOut, summary="Close a configurator session")
def close_session(context: Context, account: Viewer, session_id: str) -> dict[str, Any]:
    context.fm_sessions().delete(account.name, session_id)
    return {"id": session_id, "closed": True}


#: A model or trim id for the exported file (letters, digits, '-' and '_'; pydantic-core's ``$`` is the very end).
ExportId = Annotated[str, Query(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_-]+$",
                                description="the id to give it in the exported file")]


@router.get("/sessions/{session_id}/export", response_model=TrimExportOut,
            summary="The configuration as the models/<model>.yaml text a trim needs (to commit; nothing is written)")
def export(context: Context, account: Viewer, session_id: str, model: ExportId = "configured",
           trim: ExportId = "custom") -> dict[str, Any]:
    session = context.fm_sessions().get(account.name, session_id)
    return configurator.export_trim(context.workspace(), session, model, trim)


@router.get("/sessions/{session_id}/bom", response_model=SessionBomOut,
            summary="BOM cost and mass of what is selected so far (decided or forced); a lower bound until complete")
def bom(context: Context, account: Viewer, session_id: str) -> dict[str, Any]:
    return configurator.bom_figures(context.workspace(), context.fm_sessions().get(account.name, session_id))
