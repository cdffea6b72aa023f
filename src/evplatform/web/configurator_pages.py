"""The configurator page (issue 15 section 2): a feature list whose states come from ``/api/fm/sessions``.

The page is rendered once with the tree, the trims and the markets; ``static/configurator.js`` opens a
session with the signed-in account's token and redraws the states after each decision. The rules,
reasons, completion, BOM figures and the YAML export all come from the service layer through the API.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from evplatform.errors import EvplatformError
from evplatform.service.configurator import feature_rows, model_label
from evplatform.web.pages import context_of, error_page, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


@router.get("/configurator", response_class=HTMLResponse)
def configurator_page(request: Request) -> HTMLResponse:
    try:
        ws = context_of(request).workspace()
    except EvplatformError as error:
        return error_page(request, error)
    trims = [{"key": t.key, "name": t.name, "markets": [m.id for m in ws.markets.values()
                                                         if (t.key, m.id) in ws.configurations]}
             for t in ws.trims()]
    roots = [m.id for m in ws.markets.values() if m.parent is None]  # CN and EU on the demo: one per cycle
    others = [m for m in roots if m != ws.platform.base_market]
    return render(request, "configurator.html", title="Configurator", features=feature_rows(ws.feature_model),
                  trims=trims, markets=list(ws.markets), base_market=ws.platform.base_market,
                  file=model_label(ws), currency=ws.platform.currency, figure_markets=roots,
                  closest_market=others[0] if others else ws.platform.base_market,
                  today=context_of(request).clock().date().isoformat())
