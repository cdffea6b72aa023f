"""Response body of ``GET /api/europe`` (``evplatform europe --json``)."""

from __future__ import annotations

from evplatform.api.responses.common import Out


class SourcedOut(Out):
    value: float
    unit: str
    source: str
    confidence: str
    low_confidence: bool


class LandedOut(Out):
    unit_cost: SourcedOut
    logistics: SourcedOut
    cif_eur: float
    customs_value_eur: float
    mfn_duty: SourcedOut
    countervailing_duty: SourcedOut
    landed_cost_eur: float


class CustomerOut(Out):
    net_price: SourcedOut
    vat: SourcedOut
    registration_tax: SourcedOut
    gross_price_eur: float
    incentive_eur: float
    incentive_scheme: str | None
    price_after_incentives_eur: float


class ReasonOut(Out):
    rule: str
    message: str


class IncentiveOut(Out):
    scheme: str
    amount: SourcedOut
    eligible: bool
    reasons: list[ReasonOut]
    assumptions: list[str]
    rule: str


class EuropeRowOut(Out):
    trim: str
    name: str
    country: str
    landed: LandedOut
    customer: CustomerOut
    incentives: list[IncentiveOut]
    low_confidence: list[str]
    warnings: list[str]


class EuropeOut(Out):
    currency: str
    workspace_currency: str
    exchange_rate: dict[str, float | str] | None
    duty_scenario: dict[str, object]
    inputs: dict[str, object]
    data: str
    countries: list[str]
    rows: list[EuropeRowOut]
    not_done: list[str]
