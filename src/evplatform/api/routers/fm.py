"""The variability engine: analyses of the workspace's feature model, configurator sessions, uploads.

Role rules: the analysis is a read, open like every read. Sessions and uploads change nothing in the
workspace or the database but hold memory and CPU on the server, so they need a signed-in account
of any role (viewer and up); a session is visible only to the account that opened it (another's id
answers 404, as an unknown one does).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from evplatform.api.auth import Viewer
from evplatform.api.context import Context
from evplatform.api.responses.fm import (
    AnalysisOut,
    ClosestOut,
    CompletionOut,
    SessionBomOut,
    SessionClosedOut,
    SessionFiguresOut,
    SessionOut,
    TrimExportOut,
)
from evplatform.api.schemas import NO_NUL
from evplatform.service import configurator, configurator_figures, upload_worker
from evplatform.service.params import MARKET_LENGTH
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


class ClosestIn(_Strict):
    market: str = Field(min_length=1, max_length=MARKET_LENGTH, pattern=NO_NUL)
    on: date | None = Field(default=None, alias="date", description="YYYY-MM-DD (default: the server's today)")
    mode: Literal["new_types", "all"] = "new_types"
    apply: bool = Field(default=False, description="True: the session takes the configuration found")


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
    if len(data) > configurator.UPLOAD_MAX_BYTES:  # before a worker starts (the reader would say the same)
        return configurator.analyse_upload(filename, data)
    return await run_in_threadpool(upload_worker.analyse_upload_bounded, filename, data)


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
def decide(context: Context, account: Viewer, session_id: str, body: DecisionsIn,
           answer: Annotated[Literal["complete", "unit"], Query(
               description="unit: answer with unit propagation at once (pending: true); GET the session for "
                           "the complete answer")] = "complete") -> dict[str, Any]:
    session = context.fm_sessions().get(account.name, session_id)
    return session.apply(body.select, body.deselect, body.retract, unit_only=answer == "unit")


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


#: ``markets=CN,EU``: comma-separated market ids (each at most MARKET_LENGTH; a dozen at most).
MarketList = Annotated[str, Query(max_length=(MARKET_LENGTH + 1) * configurator_figures.MAX_MARKETS,
                                  pattern=NO_NUL, description="comma-separated markets (default: the session's)")]


@router.get("/sessions/{session_id}/figures", response_model=SessionFiguresOut,
            summary="Cost and unit-cost delta to the base trim, mass, range and consumption on each market's "
                    "cycle, verdicts on a date (of the cheapest completion while partial)")
def figures(context: Context, account: Viewer, session_id: str, markets: MarketList = "",
            on: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD (default: today)")] = None,
            mode: Literal["new_types", "all"] = "new_types",
            base: Annotated[str | None, Query(min_length=1, max_length=200, pattern=NO_NUL,
                                              description="base trim model/trim (default: the session's)")] = None,
            ) -> dict[str, Any]:
    session = context.fm_sessions().get(account.name, session_id)
    wanted = [m.strip() for m in markets.split(",") if m.strip()]
    day = on or context.clock().date()
    return configurator_figures.session_figures(context.workspace(), session, wanted, day, mode, base)


@router.post("/sessions/{session_id}/closest", response_model=ClosestOut,
             summary="The configuration complying in a market on a date that overturns the fewest decisions, "
                     "then costs least; what changes and why (apply: the session takes it)")
def closest(context: Context, account: Viewer, session_id: str, body: ClosestIn) -> dict[str, Any]:
    session = context.fm_sessions().get(account.name, session_id)
    day = body.on or context.clock().date()
    return configurator_figures.session_closest(context.workspace(), session, body.market, day, body.mode,
                                                apply=body.apply)
