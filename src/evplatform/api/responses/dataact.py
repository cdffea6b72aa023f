"""Response bodies of the Data Act routes: the owner portal, the third-party data API, OAuth tokens."""

from __future__ import annotations

from typing import Any

from evplatform.api.responses.common import Out


class CategoryOut(Out):
    id: str
    description: str
    consent: bool
    signals: list[str]
    telemetry_kinds: list[str]
    apps: list[str]
    retention_days: int | None


class ValueOut(Out):
    vin: str
    category: str
    kind: str
    signal: str
    at: str
    value: float | None
    unit: str


class OwnerVehicleOut(Out):
    vin: str
    model: str
    trim: str
    market: str
    categories: list[CategoryOut]
    recent: list[ValueOut]


class OwnerVehiclesOut(Out):
    owner: str
    vehicles: list[OwnerVehicleOut]


class ExportOut(Out):
    vin: str
    exported_at: str
    categories: list[CategoryOut]
    values: list[ValueOut]


class GrantOut(Out):
    id: int
    vin: str
    recipient: str
    categories: list[str]
    starts_at: str
    expires_at: str
    revoked_at: str | None
    live: bool


class GrantsOut(Out):
    grants: list[GrantOut]


class AccessEntryOut(Out):
    id: int
    at: str
    vin: str
    actor: str
    action: str
    categories: list[str]
    detail: dict[str, Any]


class AccessLogOut(Out):
    entries: list[AccessEntryOut]


class RecipientOut(Out):
    client_id: str
    name: str
    disabled: bool
    created_at: str


class RecipientsOut(Out):
    recipients: list[RecipientOut]


class RegisteredRecipientOut(RecipientOut):
    client_secret: str


class TokenOut(Out):
    access_token: str
    token_type: str
    expires_in: int
    scope: str


class DataReadOut(Out):
    vin: str
    category: str
    recipient: str
    values: list[ValueOut]


class WebhookOut(Out):
    id: int
    url: str
    secret: str


class DeliveryOut(Out):
    id: int
    recipient: str
    vin: str
    category: str
    url: str
    attempts: int
    last_error: str


class DeadLettersOut(Out):
    deliveries: list[DeliveryOut]


class AnalyticsRowOut(Out):
    vehicle: str
    model: str
    category: str
    kind: str
    hour: str
    value: float | None
    unit: str
    detail: dict[str, Any]


class AnalyticsOut(Out):
    rows: list[AnalyticsRowOut]
