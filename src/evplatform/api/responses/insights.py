"""Business figures, NPV scenarios and the risk register (``evplatform.insights``).

These payloads are wide and nested; the top-level keys are declared, deeper parts stay objects.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from evplatform.api.responses.common import Out


class BusinessOut(Out):
    """The ``insights business --json`` payload."""

    file: str
    entity: str
    entities: list[str]
    figures: int
    by_basis: dict[str, int]
    series: dict[str, Any] = Field(description="metric → {metric, unit, quarters: [{period, value, …}]}")
    margin_trend: dict[str, Any] | None
    implied_asp: list[dict[str, Any]]
    peers: list[dict[str, Any]]
    peer_margins: dict[str, list[dict[str, Any]]]
    facts: list[dict[str, Any]]


class NpvSummaryOut(Out):
    draws: int
    platform: dict[str, float]
    separate: dict[str, float]
    advantage: dict[str, float]
    probability_loss: float
    probability_separate_loss: float
    probability_platform_worse: float


class ScenarioOut(Out):
    name: str
    title: str
    description: str
    inputs: dict[str, Any]
    npv: NpvSummaryOut


class ScenariosOut(Out):
    """The ``insights scenarios --json`` payload: NPV under Monte Carlo draws, tornado, Sobol."""

    workspace: str
    file: str
    currency: str
    draws: int
    seed: int
    economics: dict[str, Any]
    scenarios: list[ScenarioOut]
    comparison: list[dict[str, Any]]


class RiskOut(Out):
    id: str
    title: str
    likelihood: int
    impact: int
    score: int
    rating: str
    owner: str
    mitigation: str
    features: list[str]
    markets: list[str]
    releases: list[str]
    line: int | None


class RiskMatrixOut(Out):
    likelihood: list[int]
    impact: list[int]
    ids: list[list[list[str]]]
    counts: list[list[int]]
    ratings: list[list[str]]


class RisksOut(Out):
    """The ``insights risks --json`` payload: the register by score, the matrix, counts and links."""

    workspace: str
    file: str
    risks: list[RiskOut]
    matrix: RiskMatrixOut
    by_rating: dict[str, int]
    links: dict[str, dict[str, list[str]]]
