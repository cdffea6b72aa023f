"""Landed cost of a trim in an EU country, the customer's price, and which incentives it gets.

Landed cost (the group's cost of one car at the EU border, EUR)::

    unit cost (workspace currency) × exchange rate + logistics            = CIF value
    customs value = CIF, or the minimum import price under an undertaking when higher
    landed cost   = CIF + MFN duty (10 %) × customs value + CVD (%) × customs value

Customer price: net price = landed cost × (1 + importer margin); gross = net + VAT; then the
registration tax; then the best eligible incentive is subtracted. Incentive eligibility is a set of
rules over the trim's price (cap at or below passes, above fails; a band's floor is exclusive), its
origin (EU final assembly, EU battery) and France's environmental score; each failing rule gives
its reason. Conditions on the buyer (income, scrapping) cannot be checked and are reported as assumed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from evplatform.europe.data import COUNTRIES_FILE, DUTIES_FILE, Country, EuData, EuropeDataError, IncentiveRule, Sourced

log = logging.getLogger(__name__)

EU_ORIGINS = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "EU",
})
ESTIMATE = "ESTIMATE"
DEFAULT_LOGISTICS_EUR = 1500.0  # ESTIMATE: ro-ro shipping China→EU port, insurance, port handling, per car
DEFAULT_MARGIN = 0.15  # ESTIMATE: importer and dealer margin on the landed cost


class EuropeInputError(EuropeDataError):
    """A command-line input the model cannot use (a duty scenario, an exchange rate)."""


@dataclass(frozen=True, slots=True)
class DutyScenario:
    """The countervailing duty outcome: a CVD rate, or a price undertaking with a minimum import price."""

    label: str
    cvd: Sourced  # percent
    min_import_price_eur: float | None = None


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """EUR per unit of the workspace currency on a date: the workspace prices in CNY, the data in EUR."""

    currency: str
    eur_per_unit: float
    on: date

    def sourced(self) -> Sourced:
        return Sourced(self.eur_per_unit, f"EUR/{self.currency}", f"input rate of {self.on.isoformat()}", "input")


@dataclass(frozen=True, slots=True)
class Origin:
    assembly: str = "CN"
    battery: str = "CN"
    eco_score: float | None = None  # France's environmental score (0-100), when known


@dataclass(frozen=True, slots=True)
class LandedCost:
    unit_cost: Sourced  # EUR
    logistics: Sourced
    cif: float
    customs_value: float
    mfn: Sourced  # EUR
    cvd: Sourced  # EUR

    @property
    def total(self) -> float:
        return self.cif + self.mfn.value + self.cvd.value

    def to_dict(self) -> dict[str, Any]:
        return {"unit_cost": self.unit_cost.to_dict(), "logistics": self.logistics.to_dict(),
                "cif_eur": round(self.cif, 2), "customs_value_eur": round(self.customs_value, 2),
                "mfn_duty": self.mfn.to_dict(), "countervailing_duty": self.cvd.to_dict(),
                "landed_cost_eur": round(self.total, 2)}


@dataclass(frozen=True, slots=True)
class Eligibility:
    rule: IncentiveRule
    reasons: tuple[dict[str, str], ...]
    assumptions: tuple[str, ...]

    @property
    def eligible(self) -> bool:
        return not self.reasons and self.rule.amount.value > 0

    def to_dict(self) -> dict[str, Any]:
        return {"scheme": self.rule.scheme, "amount": self.rule.amount.to_dict(), "eligible": self.eligible,
                "reasons": list(self.reasons), "assumptions": list(self.assumptions),
                "rule": f"{Path(self.rule.file).name}:{self.rule.line}"}


@dataclass(frozen=True, slots=True)
class CustomerPrice:
    country: Country
    net: Sourced
    vat: Sourced
    registration_tax: Sourced
    incentives: tuple[Eligibility, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def gross(self) -> float:
        return self.net.value + self.vat.value + self.registration_tax.value

    @property
    def best(self) -> Eligibility | None:
        eligible = [e for e in self.incentives if e.eligible]
        return max(eligible, key=lambda e: e.rule.amount.value) if eligible else None

    @property
    def after_incentives(self) -> float:
        best = self.best
        return self.gross - (best.rule.amount.value if best else 0.0)


def parse_duty(text: str, data: EuData) -> DutyScenario:
    """``35.3``, ``20.7`` (a CVD rate in the data) or ``undertaking:EUR`` (a minimum import price)."""
    path = data.folder / DUTIES_FILE
    if text.startswith("undertaking:"):
        price = text.removeprefix("undertaking:")
        try:
            mip = float(price)
        except ValueError:
            raise EuropeInputError(f"--duty: minimum import price {price!r} is not a number of EUR") from None
        if not 0 < mip < 10_000_000:
            raise EuropeInputError(f"--duty: minimum import price {mip} EUR out of range (0, 10,000,000)")
        row = data.duties.get("undertaking")
        if row is None:
            raise EuropeDataError("no row with scenario 'undertaking'", path)
        return DutyScenario(f"undertaking (MIP {mip:,.0f} EUR)", row.rate, mip)
    row = data.duties.get(text)
    if row is None or text == "mfn":
        known = [s for s in data.duties if s not in ("mfn", "undertaking")]
        raise EuropeInputError(f"--duty {text!r}: not a scenario of {path.name} (field 'scenario'; one of "
                               f"{', '.join(known)} or undertaking:EUR)")
    return DutyScenario(f"CVD {row.rate.value:g} %", row.rate)


def exchange_rate(currency: str, eur_per_unit: float | None, on: str | None) -> ExchangeRate | None:
    """The explicit rate and its date; a workspace not in EUR without one is an error, never a guess."""
    if currency.upper() == "EUR":
        return None
    if eur_per_unit is None or on is None:
        raise EuropeInputError(
            f"the workspace prices in {currency} and the EU data in EUR: pass the exchange rate "
            f"(--eur-per-{currency.lower()} R, or eur_per_unit in a query) and its date (--rate-date or rate_date, "
            "YYYY-MM-DD)")
    if not 0 < eur_per_unit < 1_000:
        raise EuropeInputError(f"--eur-per-{currency.lower()} {eur_per_unit}: out of range (0, 1000)")
    try:
        day = date.fromisoformat(on)
    except ValueError:
        raise EuropeInputError(f"--rate-date {on!r} is not a date (YYYY-MM-DD)") from None
    return ExchangeRate(currency.upper(), eur_per_unit, day)


def landed_cost(unit_cost: float, rate: ExchangeRate | None, logistics_eur: float, duty: DutyScenario,
                data: EuData) -> LandedCost:
    """The group's cost of one car at the EU border (see the module docstring for the formula)."""
    eur = unit_cost * (rate.eur_per_unit if rate else 1.0)
    source = f"workspace unit cost × {rate.eur_per_unit} EUR/{rate.currency} ({rate.on})" if rate else "workspace"
    unit = Sourced(eur, "EUR", source, "workspace")
    logistics = Sourced(logistics_eur, "EUR", "ESTIMATE input (--logistics)", "estimate")
    cif = eur + logistics_eur
    customs_value = max(cif, duty.min_import_price_eur) if duty.min_import_price_eur is not None else cif
    mfn_rate = data.duties["mfn"].rate
    mfn = Sourced(customs_value * mfn_rate.value / 100, "EUR", mfn_rate.source, mfn_rate.confidence)
    cvd = Sourced(customs_value * duty.cvd.value / 100, "EUR", duty.cvd.source, duty.cvd.confidence)
    return LandedCost(unit, logistics, cif, customs_value, mfn, cvd)


def _validity(rule: IncentiveRule, on: date) -> list[dict[str, str]]:
    if rule.valid_from is not None and on < rule.valid_from:
        return [{"rule": "validity", "message": f"not in force on {on}: starts {rule.valid_from}"}]
    if rule.valid_to is not None and on > rule.valid_to:
        return [{"rule": "validity", "message": f"ended {rule.valid_to} (evaluated on {on})"}]
    return []


def _price_rules(rule: IncentiveRule, net: float, gross: float) -> list[dict[str, str]]:
    price = net if rule.price_basis == "net" else gross
    basis = "net price (before VAT)" if rule.price_basis == "net" else "price incl. VAT"
    out = []
    if rule.price_cap_eur is not None and price > rule.price_cap_eur:
        out.append({"rule": "price_cap",
                    "message": f"{basis} {price:,.2f} EUR above the cap {rule.price_cap_eur:,.0f} EUR"})
    if rule.price_floor_eur is not None and price <= rule.price_floor_eur:
        out.append({"rule": "price_floor",
                    "message": f"{basis} {price:,.2f} EUR not above the band's floor {rule.price_floor_eur:,.0f} EUR"})
    return out


def _origin_rules(rule: IncentiveRule, origin: Origin) -> tuple[list[dict[str, str]], list[str]]:
    reasons: list[dict[str, str]] = []
    assumptions: list[str] = []
    if rule.requires_eu_assembly and origin.assembly.upper() not in EU_ORIGINS:
        reasons.append({"rule": "origin", "message": f"requires EU final assembly; assembled in {origin.assembly}"})
    if rule.requires_eu_battery and origin.battery.upper() not in EU_ORIGINS:
        reasons.append({"rule": "origin", "message": f"requires an EU-assembled battery pack; battery from "
                                                      f"{origin.battery}"})
    if rule.min_eco_score is not None:
        if origin.eco_score is None:
            reasons.append({"rule": "eco_score", "message": f"environmental score unknown (pass --eco-score): "
                                                            f"assumed below {rule.min_eco_score:g}"})
            assumptions.append(f"environmental score assumed below {rule.min_eco_score:g} (ADEME's score counts "
                               "transport emissions; most China-built cars fall below it)")
        elif origin.eco_score < rule.min_eco_score:
            reasons.append({"rule": "eco_score", "message": f"environmental score {origin.eco_score:g} below "
                                                            f"{rule.min_eco_score:g}"})
    return reasons, assumptions


def eligibility(rule: IncentiveRule, net: float, gross: float, origin: Origin, on: date) -> Eligibility:
    """Every rule of one scheme over the trim's price and origin on a date, with each failure's reason."""
    reasons = _validity(rule, on) + _price_rules(rule, net, gross)
    origin_reasons, assumptions = _origin_rules(rule, origin)
    reasons += origin_reasons
    if rule.amount.value <= 0:
        reasons.append({"rule": "amount", "message": "no purchase subsidy in this scheme"})
    if rule.buyer_conditions:
        assumptions.append(f"buyer conditions assumed met: {rule.buyer_conditions}")
    return Eligibility(rule, tuple(reasons), tuple(assumptions))


def customer_price(landed: float, country: Country, margin: float, origin: Origin, on: date,
                   data: EuData) -> CustomerPrice:
    """Net, VAT, registration tax and every incentive scheme of the country with its verdict."""
    net = landed * (1 + margin)
    vat = net * country.vat.value / 100
    rules = tuple(r for r in data.incentives if r.country == country.code)
    verdicts = tuple(eligibility(r, net, net + vat, origin, on) for r in rules)
    warnings = () if rules else (f"{country.code}: no incentive rows in the data: none assumed",)
    return CustomerPrice(
        country,
        Sourced(net, "EUR", f"landed cost × (1 + {margin:g}) — ESTIMATE margin (--margin)", "estimate"),
        Sourced(vat, "EUR", country.vat.source, country.vat.confidence),
        Sourced(country.registration_tax.value, "EUR", country.registration_tax.source,
                country.registration_tax.confidence),
        verdicts, warnings)


def countries_of(data: EuData, wanted: str | None) -> list[Country]:
    """One country (an unknown code names the file and field) or every country of the data."""
    if wanted is None:
        return list(data.countries.values())
    if not wanted.strip():
        raise EuropeDataError("field 'country': empty country code", data.folder / COUNTRIES_FILE)
    return [data.country(wanted)]
