"""The variability engine over HTTP: analyses, configurator sessions, completions (``/api/fm``)."""

from __future__ import annotations

from pydantic import Field

from evplatform.api.responses.common import Out


class ReasonPartOut(Out):
    kind: str = Field(description="root, parent, mandatory, group, constraint, or decision")
    text: str
    line: int | None = Field(description="line of the model file the rule is written on")
    where: str | None = Field(description="file:line")


class ExplanationOut(Out):
    subject: str
    feature: str | None = Field(description="the dead feature explained (null: the model is void)")
    reasons: list[ReasonPartOut] = Field(description="a minimal set: dropping any one removes the conflict")


class ExplanationsOut(Out):
    invalid: ExplanationOut | None = Field(description="why no configuration is valid (null when valid)")
    dead: list[ExplanationOut]
    dead_not_explained: int = Field(description="dead features beyond the explained ones")


class AnalysisOut(Out):
    """Every analysis of ``evplatform fm analyze`` at once (its ``result`` per op, keys with ``_``)."""

    file: str
    features: int
    constraints: int
    valid: bool
    core: list[str]
    dead: list[str]
    false_optional: list[str]
    atomic_sets: list[list[str]]
    count: str = Field(description="number of valid configurations, a decimal string (may exceed 64 bits)")
    explanations: ExplanationsOut
    seconds: float


class ConsequenceOut(Out):
    feature: str
    rule: str | None = Field(description="the model rule in words (null past the reasons given in one answer)")
    line: int | None = Field(description="line of the model file with the rule")
    where: str | None = Field(description="file:line")
    decisions: list[str] = Field(description="the decisions it follows from (empty: the model alone fixes it)")
    by: str = Field(description="unit (unit propagation) or backbone (the complete answer)")


class UnitOut(Out):
    forced: int
    forbidden: int
    seconds: float


class SessionOut(Out):
    """A configurator session: the decisions, what they force and forbid (with reasons), what is open."""

    id: str
    file: str
    trim: str | None
    market: str | None
    features: int
    selected: list[str]
    deselected: list[str]
    forced: list[ConsequenceOut]
    forbidden: list[ConsequenceOut]
    open: list[str]
    complete: bool
    pending: bool = Field(default=False, description="True: the unit-propagation answer only (answer=unit); "
                          "GET the session for the complete one")
    unit: UnitOut
    seconds: float


class CompletionOut(Out):
    id: str
    attribute: str
    selected: list[str]
    added: list[str] = Field(description="features beyond the selection")
    cost: float = Field(description="sum of the attribute over the selected features")
    added_cost: float


class SessionClosedOut(Out):
    id: str
    closed: bool


class TrimExportOut(Out):
    file: str = Field(description="where the text goes in the workspace, e.g. models/<model>.yaml")
    yaml: str = Field(description="the trim as YAML, to commit; nothing is written by the server")
    note: str
    complete: bool = Field(description="whether every feature is decided or forced")
    selected: int = Field(description="number of features the trim selects")
    problems: list[str] = Field(description="what the workspace reader would refuse, with the rule's line")


class SessionBomOut(Out):
    cost: float = Field(description="BOM cost of the selected and forced features, in the platform's currency")
    mass_kg: float = Field(description="their mass in kg")
    complete: bool = Field(description="False: a lower bound until every feature is decided")


class RegulationReasonOut(Out):
    regulation: str
    title: str
    requires: str = Field(description="the regulation's feature expression")
    status: str = Field(description="confirmed (decides) or unverified (a warning)")
    missing: list[str] = Field(description="features to add for this regulation")
    violating: list[str] = Field(description="features to take out for this regulation")


class ConfigurationVerdictOut(Out):
    status: str = Field(description="compliant, non-compliant or not-applicable")
    rules: int = Field(description="regulations in force on the date in the mode")
    missing: list[str] = Field(description="features the confirmed regulations miss")
    violating: list[str]
    reasons: list[RegulationReasonOut]
    warnings: list[RegulationReasonOut] = Field(description="unverified regulations broken (never change the status)")
    note: str


class BaseCostOut(Out):
    trim: str = Field(description="the base trim (model/trim)")
    market: str = Field(description="market of the base configuration (the base market when not sold there)")
    bom_cost: float
    development_per_unit: float
    unit_cost: float = Field(description="BOM cost + development share, in the platform's currency")
    price: float


class CostOut(Out):
    bom: float = Field(description="BOM cost in the session's market, in the platform's currency")
    development_per_unit: float | None = Field(description="the base trim's development share (null: no base)")
    unit: float | None = Field(description="BOM + development share (null: no base trim)")
    unit_delta: float | None = Field(description="unit cost − the base trim's (positive: dearer)")


class MarketFiguresOut(Out):
    market: str
    name: str
    homologation_cycle: str = Field(description="the market's cycle (CLTC, WLTC, …)")
    cycle: str = Field(description="the drive cycle simulated")
    bom_cost: float
    bom_delta: float | None = Field(description="BOM cost − the base trim's in this market (null: not sold there)")
    mass_kg: float
    range_km: float | None
    range_rule: str | None
    consumption_kwh_per_100km: float | None = Field(description="battery side, on the cycle")
    note: str = Field(description="why a figure is missing, if one is")
    problems: list[str] = Field(description="rules of the feature model the configuration breaks as sold there")
    verdict: ConfigurationVerdictOut


class SessionFiguresOut(Out):
    """Cost, mass, range and compliance of a session's configuration (its cheapest completion while partial)."""

    id: str
    market: str = Field(description="the session's market (cost and unit-cost delta are computed there)")
    on: str = Field(description="the date of the verdicts (YYYY-MM-DD)")
    mode: str
    currency: str
    basis: str = Field(description="complete, or cheapest completion (figures of a partial configuration)")
    complete: bool
    added_by_completion: list[str] = Field(description="features the completion assumes (not decided yet)")
    note: str
    base: BaseCostOut | None
    cost: CostOut
    mass_kg: float = Field(description="BOM mass in kg")
    features: int
    markets: list[MarketFiguresOut]
    seconds: float


class ChangeOut(Out):
    feature: str
    was: str = Field(description="selected or deselected (the decision)")
    now: str = Field(description="off or on in the compliant configuration")
    why: str


class FeatureWhyOut(Out):
    feature: str
    why: str


class ClosestOut(Out):
    """The compliant configuration closest to the session's decisions in a market on a date."""

    id: str
    market: str
    on: str
    mode: str
    basis: str = Field(description="what the 'before' verdict was computed on (complete or cheapest completion)")
    rules: list[str] = Field(description="the confirmed regulations in force it meets")
    changes: int = Field(description="decisions overturned (the minimised number)")
    overturned: list[ChangeOut]
    added: list[FeatureWhyOut]
    removed: list[FeatureWhyOut]
    before: ConfigurationVerdictOut
    after: ConfigurationVerdictOut
    bom_before: float
    bom_after: float
    bom_delta: float
    applied: bool = Field(description="True: the session now holds this configuration")
