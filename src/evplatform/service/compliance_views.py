"""The compliance lookups as the API and the dashboard serve them, cached per workspace and date.

``markets.lookup`` builds them; here they are keyed in the application's cache so that the JSON
route and the page of the same regulation or market on the same day compute once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from evplatform.errors import NotFoundError
from evplatform.markets.lookup import market_view, regulation_view
from evplatform.service.context import AppContext


def regulation(context: AppContext, regulation_id: str, on: date) -> dict[str, Any]:
    """The ``comply regulation ID --json`` payload on ``on``."""
    return context.cached(("comply-regulation", regulation_id, on.isoformat()),
                          lambda: regulation_view(context.workspace(), regulation_id, on))


def market(context: AppContext, market_id: str, on: date) -> dict[str, Any]:
    """The ``comply market CODE --json`` payload on ``on``; an unknown market is a 404 (a thing asked by id)."""
    if market_id not in context.workspace().markets:
        raise NotFoundError("market", market_id)
    return context.cached(("comply-market", market_id, on.isoformat()),
                          lambda: market_view(context.workspace(), market_id, on))
