"""``evplatform europe``: landed cost and customer price of every trim in every EU country of the data.

The workspace gives each trim's unit cost (``platform.trim_costs``: BOM + development per unit, in
the platform's currency); the EU data gives duties, taxes and incentives; the command line gives the
scenario (duty outcome, exchange rate, logistics, margin, origin, date). The payload lists every
figure with its source and confidence and names the low-confidence ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from evplatform.europe.data import EuData, Sourced, packaged_folder
from evplatform.europe.model import (
    CustomerPrice,
    DutyScenario,
    ExchangeRate,
    LandedCost,
    Origin,
    countries_of,
    customer_price,
    landed_cost,
)
from evplatform.platform import trim_costs
from evplatform.vehicle.simulate import simulate_vehicles, trim_params
from evplatform.workspace.model import Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Scenario:
    duty: DutyScenario
    rate: ExchangeRate | None
    logistics_eur: float
    margin: float
    origin: Origin
    on: date
    country: str | None = None


def _low(figures: dict[str, Sourced]) -> list[str]:
    return [name for name, figure in figures.items() if figure.low_confidence]


def _row(trim_key: str, trim_name: str, landed: LandedCost, price: CustomerPrice) -> dict[str, Any]:
    best = price.best
    figures = {"unit_cost": landed.unit_cost, "logistics": landed.logistics, "mfn_duty": landed.mfn,
               "countervailing_duty": landed.cvd, "net_price": price.net, "vat": price.vat,
               "registration_tax": price.registration_tax}
    if best is not None:
        figures["incentive"] = best.rule.amount
    return {
        "trim": trim_key, "name": trim_name, "country": price.country.code,
        "landed": landed.to_dict(),
        "customer": {"net_price": price.net.to_dict(), "vat": price.vat.to_dict(),
                     "registration_tax": price.registration_tax.to_dict(),
                     "gross_price_eur": round(price.gross, 2),
                     "incentive_eur": round(best.rule.amount.value, 2) if best else 0.0,
                     "incentive_scheme": best.rule.scheme if best else None,
                     "price_after_incentives_eur": round(price.after_incentives, 2)},
        "incentives": [e.to_dict() for e in price.incentives],
        "low_confidence": _low(figures),
        "warnings": list(price.warnings),
    }


def wltp_market(ws: Workspace) -> str | None:
    """The workspace market homologated on WLTP (the EU configuration), if any; else the base market's."""
    return next((m.id for m in ws.markets.values() if m.homologation_cycle.upper() in ("WLTP", "WLTC")), None)


def wltp_ranges(ws: Workspace, trims: list[Any]) -> dict[str, float]:
    """Each trim's WLTP range (km) from the simulator on WLTC, in its WLTP market's configuration."""
    market = wltp_market(ws)
    sold = set(ws.markets[market].models) if market is not None else set()
    vehicles = [trim_params(ws, t, market if t.model_id in sold else None) for t in trims]
    if not vehicles:
        return {}
    rows = simulate_vehicles(vehicles, "wltc").results
    return {t.key: float(r["range_km"]) for t, r in zip(trims, rows, strict=True)}


def europe_report(ws: Workspace, data: EuData, scenario: Scenario) -> dict[str, Any]:
    """The ``evplatform europe --json`` payload: one row per trim × country."""
    countries = countries_of(data, scenario.country)
    rows = []
    costs = trim_costs(ws)
    ranges = wltp_ranges(ws, [cost.trim for cost in costs])
    for cost in costs:
        landed = landed_cost(cost.unit_cost, scenario.rate, scenario.logistics_eur, scenario.duty, data)
        for country in countries:
            price = customer_price(landed.total, country, scenario.margin, scenario.origin, scenario.on, data)
            rows.append({**_row(cost.trim.key, cost.trim.name, landed, price),
                         "wltp_range_km_simulated": ranges[cost.trim.key]})
    log.info("europe: %d trims × %d countries under %s", len(rows) // max(len(countries), 1), len(countries),
             scenario.duty.label)
    rate = scenario.rate
    return {
        "currency": "EUR",
        "workspace_currency": ws.platform.currency,
        "exchange_rate": None if rate is None else {"eur_per_unit": rate.eur_per_unit, "currency": rate.currency,
                                                    "date": rate.on.isoformat()},
        "duty_scenario": {"label": scenario.duty.label, "cvd": scenario.duty.cvd.to_dict(),
                          "min_import_price_eur": scenario.duty.min_import_price_eur},
        "inputs": {"logistics_eur": scenario.logistics_eur, "margin": scenario.margin,
                   "assembly": scenario.origin.assembly, "battery": scenario.origin.battery,
                   "eco_score": scenario.origin.eco_score, "date": scenario.on.isoformat(),
                   "estimates": ["logistics_eur", "margin"]},
        "data": "packaged demo copy (evplatform/europe/data)" if data.folder == packaged_folder() else str(data.folder),
        "countries": [c.code for c in countries],
        "rows": rows,
        "wltp_range": "simulated on WLTC, WLTP rule (usable kWh / battery-side kWh/100 km), global parameters",
        "not_done": ["TCO over N years", "supply chain and local content",
                     "NPV of import vs EU assembly", "roadmap cost of EU-specific features"],
    }
