"""Third-party apps as platform artefacts: a manifest per app, the store policy, as typed values.

A manifest (``apps/<id>.yaml``) says what the app touches on the vehicle (VSS signals it reads,
actuates, provides), what the car must have (a feature expression), where it may be offered
(markets), what it collects (data categories) and the oldest hub software it runs on. The store
policy (``apps/store-policy.yaml``) is the platform owner's rules for every app: which signals no
app may ever actuate or provide, which data categories exist and which need the owner's consent,
which markets forbid a category. Both are workspace data, so a second platform brings its own.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from evplatform.variability.model import Expr


@dataclass(frozen=True, slots=True)
class AppManifest:
    """One app, validated: every signal is a VSS path of the hub's catalogue, every name known."""

    id: str
    name: str
    publisher: str
    version: str
    reads: tuple[str, ...]
    actuates: tuple[str, ...]
    provides: tuple[str, ...]
    features: Expr
    features_text: str
    markets: tuple[str, ...]
    data_categories: tuple[str, ...]
    owner_consent: bool
    min_hub_version: tuple[int, ...]
    min_hub_version_text: str
    file: Path
    line: int = 1

    @property
    def signals(self) -> frozenset[str]:
        """Every signal the app needs the hub to carry."""
        return frozenset(self.reads) | frozenset(self.actuates) | frozenset(self.provides)


@dataclass(frozen=True, slots=True)
class DataCategory:
    id: str
    consent: bool  # the owner must opt in before the app may collect it
    description: str = ""
    signals: tuple[str, ...] = ()  # VSS patterns of the signals in this category (owner data access)
    retention_days: int | None = None  # how long telemetry of this category is kept (None: the store's default)


@dataclass(frozen=True, slots=True)
class MarketRule:
    """What one market (and the markets under it) forbids apps to collect, and why."""

    market: str
    forbid_data_categories: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class StorePolicy:
    """The platform owner's rules for every app (``apps/store-policy.yaml``)."""

    hub_component: str | None
    data_categories: Mapping[str, DataCategory]
    never_actuate: tuple[str, ...]
    never_provide: tuple[str, ...]
    markets: Mapping[str, MarketRule] = field(default_factory=dict)
    file: Path | None = None

    def forbidden_actuation(self, signal: str) -> str | None:
        """The policy pattern that forbids any app to actuate ``signal``, or None."""
        return _first_match(signal, self.never_actuate)

    def forbidden_provision(self, signal: str) -> str | None:
        """The policy pattern that forbids any app to provide ``signal``, or None."""
        return _first_match(signal, self.never_provide)


def _first_match(signal: str, patterns: tuple[str, ...]) -> str | None:
    return next((p for p in patterns if fnmatch.fnmatchcase(signal, p)), None)


@dataclass(frozen=True, slots=True)
class AppCatalogue:
    """The apps of a workspace and its store policy (empty when the workspace has no ``apps/``)."""

    apps: Mapping[str, AppManifest]
    policy: StorePolicy | None
