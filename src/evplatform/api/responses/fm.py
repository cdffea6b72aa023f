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
