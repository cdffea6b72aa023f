"""Europe market entry: landed cost per trim and country under the EU duties, customer price, incentives.

``europe_report(ws, data, scenario)`` is the ``evplatform europe --json`` payload; the inputs are in
``europe.data`` (a packaged demo copy of the project's EU data, with sources and confidence), the
rules in ``europe.model``.
"""

from evplatform.europe.data import EuData, EuropeDataError, Sourced, load_eu_data, packaged_folder
from evplatform.europe.model import (
    DEFAULT_LOGISTICS_EUR,
    DEFAULT_MARGIN,
    DutyScenario,
    EuropeInputError,
    ExchangeRate,
    Origin,
    customer_price,
    eligibility,
    exchange_rate,
    landed_cost,
    parse_duty,
)
from evplatform.europe.report import Scenario, europe_report

__all__ = [
    "DEFAULT_LOGISTICS_EUR",
    "DEFAULT_MARGIN",
    "DutyScenario",
    "EuData",
    "EuropeDataError",
    "EuropeInputError",
    "ExchangeRate",
    "Origin",
    "Scenario",
    "Sourced",
    "customer_price",
    "eligibility",
    "europe_report",
    "exchange_rate",
    "landed_cost",
    "load_eu_data",
    "packaged_folder",
    "parse_duty",
]
