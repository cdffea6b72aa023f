"""The workspace as typed domain values: platform, parts, models and trims, markets, rules, software.

Everything here is immutable and fully validated by the loader: holding a ``Workspace`` means
every trim in every market it is sold in is a valid configuration of the feature model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from evplatform.errors import WorkspaceError
from evplatform.variability.model import AttributeValue, Expr, FeatureModel
from evplatform.workspace.roles import FeatureRoles

#: The date a regulation carries when its source says only "in force": it applies on every date the
#: tool is asked about (written ``in force`` in regulations.csv).
IN_FORCE = date.min

#: Attributes that add up over the selected features; every other one is a property of the
#: single selected feature that defines it (a battery's capacity, a body's drag coefficient).
SUMMED_ATTRIBUTES = frozenset({"cost", "mass_kg", "power_kw", "torque_nm"})


@dataclass(frozen=True, slots=True)
class Platform:
    name: str
    version: str
    currency: str
    base_market: str
    description: str = ""
    development_cost: float = 0.0
    lifecycle_years: float = 1.0
    standalone_development_share: float = 0.5
    scale_elasticity: float = 0.0


@dataclass(frozen=True, slots=True)
class Part:
    """A row of the 150 % BOM: in a configuration's BOM when ``when`` holds."""

    part_no: str
    name: str
    module: str
    unit_cost: float
    mass_kg: float
    supplier: str
    qty: float
    when: Expr
    when_text: str
    line: int


@dataclass(frozen=True, slots=True)
class Trim:
    id: str
    model_id: str
    name: str
    price: float
    volume_per_year: float
    selected: frozenset[str]
    deselected: frozenset[str] = frozenset()
    targets: Mapping[str, float] = field(default_factory=dict)
    line: int = 0

    @property
    def key(self) -> str:
        return f"{self.model_id}/{self.id}"


@dataclass(frozen=True, slots=True)
class VehicleModel:
    id: str
    name: str
    segment: str
    trims: tuple[Trim, ...]
    development_cost: float = 0.0
    file: Path | None = None

    @property
    def volume_per_year(self) -> float:
        return sum(t.volume_per_year for t in self.trims)


@dataclass(frozen=True, slots=True)
class Market:
    id: str
    name: str
    parent: str | None
    select: tuple[str, ...]
    regulations: tuple[str, ...]
    homologation_cycle: str
    launch_date: date | None
    unece: bool
    models: tuple[str, ...]
    time_zone: str  # IANA name; "UTC" when neither the market nor a parent declares one
    time_zone_declared: bool = True
    fleet_share: float | None = None  # share of the simulated fleet registered here (0–1)
    file: Path | None = None


@dataclass(frozen=True, slots=True)
class Regulation:
    id: str
    title: str
    markets: tuple[str, ...]
    requires: Expr
    requires_text: str
    applies_new_types: date | None
    applies_all: date | None
    source: str
    status: str
    line: int
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SoftwareComponent:
    id: str
    name: str
    ecu: str
    hardware_id: str
    compatible: Expr
    compatible_text: str
    version: str
    line: int = 0


@dataclass(frozen=True, slots=True)
class PaidFeature:
    """A software feature sold per vehicle after delivery (on-demand.yaml)."""

    id: str
    name: str
    description: str
    billing: str  # "one-off" | "monthly"
    price: float  # per purchase (one-off) or per month (monthly), in the platform's currency
    requires: Expr
    requires_text: str
    type_approval_relevant: bool
    regulation: str = ""
    estimated_take_up: float = 0.0  # ESTIMATE, for the simulated demo fleet only
    estimated_monthly_churn: float = 0.0  # ESTIMATE, for the simulated demo fleet only
    line: int = 0

    @property
    def monthly(self) -> bool:
        return self.billing == "monthly"


@dataclass(frozen=True, slots=True)
class OnDemand:
    """The paid features, the channels they are sold through and the component receiving activations."""

    features: Mapping[str, PaidFeature] = field(default_factory=dict)
    channels: tuple[str, ...] = ()
    delivery: SoftwareComponent | None = None
    file: Path | None = None


@dataclass(frozen=True)
class Workspace:
    """A loaded, validated workspace. Configurations are precomputed at load time."""

    root: Path
    platform: Platform
    feature_model: FeatureModel
    parts: tuple[Part, ...]
    models: Mapping[str, VehicleModel]
    markets: Mapping[str, Market]
    regulations: Mapping[str, Regulation]
    software: Mapping[str, SoftwareComponent]
    configurations: Mapping[tuple[str, str], frozenset[str]]
    roles: FeatureRoles
    on_demand: OnDemand = field(default_factory=OnDemand)

    def trims(self) -> list[Trim]:
        """Every trim of every model, in file order."""
        return [t for m in self.models.values() for t in m.trims]

    def trim(self, key: str) -> Trim:
        """A trim by ``model/trim`` key (or a unique trim id)."""
        matches = [t for t in self.trims() if key in (t.key, t.id)]
        if len(matches) != 1:
            known = ", ".join(t.key for t in self.trims())
            raise WorkspaceError(f"unknown or ambiguous trim {key!r} (known: {known})", self.root)
        return matches[0]

    def sold_in(self, market_id: str) -> list[Trim]:
        """The trims of the models a market sells."""
        market = self.markets[market_id]
        return [t for t in self.trims() if t.model_id in market.models]

    def configuration(self, trim: Trim, market_id: str | None = None) -> frozenset[str]:
        """The complete, valid configuration of a trim in a market (default: the base market)."""
        market = market_id or self.platform.base_market
        try:
            return self.configurations[(trim.key, market)]
        except KeyError:
            raise WorkspaceError(
                f"{trim.key} is not sold in market {market!r}", self.root
            ) from None

    def attributes(self, trim: Trim, market_id: str | None = None) -> dict[str, AttributeValue]:
        """The trim's feature attributes aggregated: sums for SUMMED_ATTRIBUTES, else the one value."""
        return aggregate_attributes(self.feature_model, self.configuration(trim, market_id))

    def lineage(self, market_id: str) -> list[str]:
        """The market and its ancestors, nearest first (``ES`` → ``["ES", "EU"]``)."""
        return market_lineage(market_id, {m.id: m.parent for m in self.markets.values()})


def market_lineage(market_id: str, parents: Mapping[str, str | None]) -> list[str]:
    """The market and its ancestors, nearest first: a rule or approval for any of them covers it.

    It takes only each market's parent, so code that holds no ``Workspace`` (the fleet reads its
    markets from the database) walks the same chain as the compliance rules. A market absent from
    ``parents`` ends the chain; a cycle (the loader rejects them, a database row might not) ends it
    before the first repeat, so the walk always terminates.
    """
    chain: list[str] = []
    current: str | None = market_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def aggregate_attributes(model: FeatureModel, selected: frozenset[str]) -> dict[str, AttributeValue]:
    """Sum the additive attributes; take the others from the one feature that defines them.

    Raises a WorkspaceError when two selected features give the same non-additive attribute
    different values, since the vehicle would then be ambiguous.
    """
    out: dict[str, AttributeValue] = {}
    owner: dict[str, str] = {}
    for name in sorted(selected):
        feature = model.features[name]
        for key, value in feature.attributes.items():
            if key == "abstract":
                continue
            if key in SUMMED_ATTRIBUTES and isinstance(value, int | float) and not isinstance(value, bool):
                out[key] = float(out.get(key, 0.0)) + float(value)
            elif key in out and out[key] != value:
                raise WorkspaceError(
                    f"attribute {key!r} is given both by {owner[key]} ({out[key]!r}) and by "
                    f"{name} ({value!r}) in one configuration",
                    model.source,
                    feature.line,
                )
            else:
                out[key] = value
                owner[key] = name
    return out
