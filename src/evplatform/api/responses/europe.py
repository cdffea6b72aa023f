"""Response body of ``GET /api/europe`` (``evplatform europe --json``)."""

from __future__ import annotations

from evplatform.api.responses.common import Out


class EuropeSourcedOut(Out):
    value: float
    unit: str
    source: str
    confidence: str
    low_confidence: bool


class EuropeLandedOut(Out):
    unit_cost: EuropeSourcedOut
    logistics: EuropeSourcedOut
    cif_eur: float
    customs_value_eur: float
    mfn_duty: EuropeSourcedOut
    countervailing_duty: EuropeSourcedOut
    landed_cost_eur: float


class EuropeCustomerOut(Out):
    net_price: EuropeSourcedOut
    vat: EuropeSourcedOut
    registration_tax: EuropeSourcedOut
    gross_price_eur: float
    incentive_eur: float
    incentive_scheme: str | None
    price_after_incentives_eur: float


class EuropeReasonOut(Out):
    rule: str
    message: str


class EuropeIncentiveOut(Out):
    scheme: str
    amount: EuropeSourcedOut
    eligible: bool
    reasons: list[EuropeReasonOut]
    assumptions: list[str]
    rule: str


class EuropeRowOut(Out):
    trim: str
    name: str
    country: str
    landed: EuropeLandedOut
    customer: EuropeCustomerOut
    incentives: list[EuropeIncentiveOut]
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
