"""The feature-model explorer (issue 15, section 3): ``/features``, its CSV matrix and a source view.

The data comes from ``service.feature_explorer``; these routes only render it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from evplatform.errors import EvplatformError
from evplatform.service import configurator, feature_explorer
from evplatform.web.pages import context_of, error_page, render

router = APIRouter(include_in_schema=False)


@router.get("/features", response_class=HTMLResponse)
def features_page(request: Request) -> HTMLResponse:
    context = context_of(request)
    try:
        ws = context.workspace()
        analysis = context.cached(("fm-analysis",), lambda: configurator.workspace_analysis(ws))
        view = context.cached(("feature-explorer",), lambda: feature_explorer.explorer_view(ws, analysis))
    except EvplatformError as error:
        return error_page(request, error)
    return render(request, "features.html", title="Feature model", view=view)


@router.get("/features.csv")
def features_csv(request: Request) -> Response:
    """The trims × features matrix for a spreadsheet."""
    ws = context_of(request).workspace()
    return Response(feature_explorer.matrix_csv(ws), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="trims-features.csv"'})


@router.get("/features/source", response_class=HTMLResponse)
def features_source(request: Request) -> HTMLResponse:
    """The feature model's text with one anchor per line (``#L42``), where ``file:line`` links point."""
    context = context_of(request)
    try:
        ws = context.workspace()
        file, lines = feature_explorer.source_view(ws)
    except EvplatformError as error:
        return error_page(request, error)
    return render(request, "features_source.html", title=file, lines=lines)
