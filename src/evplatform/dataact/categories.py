"""Data categories of a vehicle: the store policy's categories, their signals, telemetry kinds and apps.

The workspace names the categories (``apps/store-policy.yaml``, each with the VSS patterns of its
signals); the hub's catalogue says which signals a vehicle has; telemetry kinds are product-level
and each carries one VSS signal (``KIND_SIGNALS``). A workspace without a store policy has no
categories: the portal then shows none and grants none.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from evplatform.apps.model import AppCatalogue
from evplatform.vehicle.hub.vss import SIGNALS, SOC, TRAVELED_DISTANCE

#: The VSS signal each stored telemetry kind carries (health and crash are safety records of no category).
KIND_SIGNALS: dict[str, str] = {"soc": SOC, "odometer": TRAVELED_DISTANCE}
#: Units of the telemetry kinds' values.
KIND_UNITS: dict[str, str] = {"soc": "%", "odometer": "km"}


@dataclass(frozen=True, slots=True)
class Category:
    """One data category as the owner sees it."""

    id: str
    description: str
    consent: bool
    signals: tuple[str, ...]  # hub signals in the category
    kinds: tuple[str, ...]  # stored telemetry kinds in the category
    apps: tuple[str, ...]  # apps of the catalogue that collect it
    retention_days: int | None

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "description": self.description, "consent": self.consent,
                "signals": list(self.signals), "telemetry_kinds": list(self.kinds), "apps": list(self.apps),
                "retention_days": self.retention_days}


def categories(catalogue: AppCatalogue) -> dict[str, Category]:
    """Every category of the store policy with its hub signals, telemetry kinds and collecting apps."""
    policy = catalogue.policy
    if policy is None:
        return {}
    out: dict[str, Category] = {}
    for cid, spec in policy.data_categories.items():
        signals = tuple(sorted(s for s in SIGNALS if any(fnmatch.fnmatchcase(s, p) for p in spec.signals)))
        kinds = tuple(k for k, s in KIND_SIGNALS.items() if s in signals)
        apps = tuple(sorted(a.id for a in catalogue.apps.values() if cid in a.data_categories))
        out[cid] = Category(cid, spec.description, spec.consent, signals, kinds, apps, spec.retention_days)
    return out


def collected(catalogue: AppCatalogue) -> dict[str, Category]:
    """The categories the platform collects: those with a hub signal or an app collecting them."""
    return {cid: c for cid, c in categories(catalogue).items() if c.signals or c.apps}


def kinds_of(catalogue: AppCatalogue, wanted: set[str]) -> dict[str, str]:
    """Telemetry kind → its category, for the categories in ``wanted``."""
    return {k: c.id for c in categories(catalogue).values() if c.id in wanted for k in c.kinds}
