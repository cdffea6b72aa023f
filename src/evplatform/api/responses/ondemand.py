"""Response models of the features-on-demand routes (``/api/fod``)."""

from __future__ import annotations

from pydantic import Field

from evplatform.api.responses.common import Out


class OfferOut(Out):
    feature: str
    name: str
    billing: str = Field(description="one-off or monthly")
    price: float = Field(description="per purchase (one-off) or per month (monthly), in `currency`")
    currency: str
    requires: str = Field(description="the hardware it needs: a feature expression over the configuration")
    type_approval_relevant: bool = Field(description="switching it renews the RXSWIN (UN R156 / GB 44496)")
    eligible: bool
    reasons: list[str] = Field(description="what the configuration lacks when not eligible")


class OffersOut(Out):
    for_: str = Field(alias="for", description="the VIN, trim × market or 'the catalogue'")
    currency: str
    offers: list[OfferOut]


class EntitlementOut(Out):
    id: int
    vin: str
    feature: str
    valid_from: str
    valid_to: str | None = Field(description="exclusive end; null: open-ended (one-off for ever, subscription "
                                             "renewing)")
    price: float
    billing: str
    currency: str
    channel: str
    basis: str = Field(description="recorded, or estimate (seeded demo take-up)")
    active: bool = Field(description="valid at the server clock")


class EntitlementListOut(Out):
    entitlements: list[EntitlementOut]


class FeatureChangeOut(Out):
    feature: str
    change: str = Field(description="activate or deactivate")
    reason: str = Field(description="purchase, cancel, expiry or withdrawn")
    type_approval_relevant: bool


class SyncOut(Out):
    vin: str
    counter: int = Field(description="the vehicle's configuration number (the Uptane release counter)")
    target: str | None = Field(description="the configuration target path to sign and assign; null: no change")
    changes: list[FeatureChangeOut]
    rxswin_changed: bool


class EntitlementChangeOut(Out):
    entitlement: EntitlementOut
    sync: SyncOut


class ChangeRecordOut(Out):
    vin: str
    feature: str
    change: str
    reason: str
    at: str
    type_approval_relevant: bool
    rxswin_changed: bool
    rxswin_before: dict[str, str]
    rxswin_after: dict[str, str]
    counter: int
    target: str | None


class ChangeRecordsOut(Out):
    records: list[ChangeRecordOut]


class RevenueOut(Out):
    at: str
    currency: str
    mrr: float = Field(description="monthly recurring revenue: active subscriptions' monthly prices (currency/month)")
    subscribers: int
    one_off_last_month: float
    churn_rate: float | None = Field(description="subscriptions ended in the last month / active a month ago")
    basis: str = Field(description="recorded, estimate or mixed")
    by_feature: list[dict[str, object]]
    attach: list[dict[str, object]]
    series: list[dict[str, object]]
