"""The ``evplatform europe --json`` payload for the dashboard and the API, cached per scenario.

Both surfaces pass the same plain inputs; the date incentives are evaluated on defaults to the
server clock's day, never the client's.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import date
from typing import Any

from evplatform.clock import aware_now
from evplatform.europe import (
    DEFAULT_LOGISTICS_EUR,
    DEFAULT_MARGIN,
    EuropeInputError,
    Origin,
    Scenario,
    europe_report,
    exchange_rate,
    load_eu_data,
    parse_duty,
)
from evplatform.service.context import AppContext


@dataclass(frozen=True, slots=True)
class EuropeQuery:
    country: str | None = None
    duty: str = "35.3"
    eur_per_unit: float | None = None
    rate_date: str | None = None
    logistics_eur: float = DEFAULT_LOGISTICS_EUR
    margin: float = DEFAULT_MARGIN
    assembly: str = "CN"
    battery: str = "CN"
    eco_score: float | None = None
    on: str | None = None


def europe_view(context: AppContext, query: EuropeQuery) -> dict[str, Any]:
    """Landed cost, customer price and incentives of every trim × country under the query's scenario."""
    try:
        day = date.fromisoformat(query.on) if query.on else aware_now(context.clock).date()
    except ValueError:
        raise EuropeInputError(f"date {query.on!r} is not a date (YYYY-MM-DD)") from None

    def compute() -> dict[str, Any]:
        ws = context.workspace()
        data = load_eu_data()
        scenario = Scenario(parse_duty(query.duty, data),
                            exchange_rate(ws.platform.currency, query.eur_per_unit, query.rate_date),
                            query.logistics_eur, query.margin,
                            Origin(query.assembly.upper(), query.battery.upper(), query.eco_score), day,
                            query.country)
        return europe_report(ws, data, scenario)
    return context.cached(("europe", day, *astuple(query)), compute)
