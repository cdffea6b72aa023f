"""The platform as code: platform, models × trims, feature tree, KPIs, bill of materials."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from evplatform.api.responses.common import Out


class PlatformModelOut(Out):
    id: str
    name: str
    segment: str
    trims: list[str]


class PlatformMarketOut(Out):
    id: str
    name: str
    parent: str | None
    homologation_cycle: str
    models: list[str]


class SoftwareComponentOut(Out):
    id: str
    name: str
    ecu: str
    hardware_id: str
    version: str
    compatible: str = Field(description="feature expression of the configurations it runs on")


class PlatformOut(Out):
    name: str
    version: str
    description: str
    currency: str
    base_market: str
    lifecycle_years: float | None
    development_cost: float | None
    features: int = Field(description="number of features in the feature model")
    constraints: int
    parts: int
    models: list[PlatformModelOut]
    markets: list[PlatformMarketOut]
    software: list[SoftwareComponentOut]


class TrimCostOut(Out):
    """Cost of one trim (``kpi --json``); money in the platform's currency, per vehicle."""

    id: str
    name: str
    price: float | None
    volume_per_year: float | None
    bom_cost: float
    development_per_unit: float | None
    unit_cost: float
    margin_per_unit: float | None
    parts: int
    bom_mass_kg: float


class ModelTrimOut(TrimCostOut):
    key: str = Field(description="model/trim")
    markets: list[str]
    selected: list[str]
    targets: dict[str, float]


class ModelRowOut(Out):
    id: str
    name: str
    segment: str
    trims: list[ModelTrimOut]


class ModelsOut(Out):
    currency: str
    base_market: str
    markets: list[str]
    models: list[ModelRowOut]


class FeatureGroupOut(Out):
    kind: str = Field(description="mandatory, optional, alternative, or, cardinality")
    bounds: list[int | None] = Field(description="[min, max] children selected (max null: unbounded)")
    children: list[FeatureNodeOut]


class FeatureNodeOut(Out):
    name: str
    abstract: bool
    attributes: dict[str, Any]
    groups: list[FeatureGroupOut]


class ConstraintOut(Out):
    text: str
    line: int | None


class FeaturesOut(Out):
    root: str
    features: int
    tree: FeatureNodeOut
    constraints: list[ConstraintOut]


class KpiModelOut(Out):
    id: str
    trims: list[TrimCostOut]


class ReuseOut(Out):
    part_share: float
    spend_share: float


class CommonalityOut(Out):
    dci: float | None
    tcci: float | None
    ci: float | None
    ci_c: float | None


class KpiOut(Out):
    """The ``evplatform kpi --json`` payload (DESIGN.md), with the platform-vs-separate comparison."""

    currency: str
    base_market: str
    models: list[KpiModelOut]
    reuse: ReuseOut
    commonality: CommonalityOut
    commonality_trims: dict[str, float | None]
    parts: dict[str, int]
    platform_vs_separate: dict[str, Any]


class BomLineOut(Out):
    part_no: str
    name: str
    module: str
    supplier: str
    qty: float
    unit_cost: float
    cost: float
    when: str


class BomOut(Out):
    """The ``evplatform bom --json`` payload: one trim's parts in one market."""

    trim: str
    market: str
    features: list[str]
    bom_cost: float
    bom_mass_kg: float
    cost_by_module: dict[str, float]
    lines: list[BomLineOut]


FeatureGroupOut.model_rebuild()
