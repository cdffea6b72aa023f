"""Response bodies of the apps routes (``evplatform apps check --json``)."""

from __future__ import annotations

from evplatform.api.responses.common import Out


class AppOut(Out):
    id: str
    name: str
    publisher: str
    version: str
    reads: list[str]
    actuates: list[str]
    provides: list[str]
    features: str
    markets: list[str]
    data_categories: list[str]
    owner_consent: bool
    min_hub_version: str
    compatible: int
    incompatible: int


class AppConfigurationOut(Out):
    trim: str
    market: str


class AppReasonOut(Out):
    code: str
    message: str


class AppVerdictOut(Out):
    app: str
    trim: str
    market: str
    compatible: bool
    reasons: list[AppReasonOut]


class AppsCheckOut(Out):
    """Every app of the workspace against every trim × market configuration."""

    apps: list[AppOut]
    configurations: list[AppConfigurationOut]
    verdicts: list[AppVerdictOut]
