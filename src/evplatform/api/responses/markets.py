"""Compliance verdicts, the regulatory roadmap and vehicle simulation results."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from evplatform.api.responses.common import Out


class ReasonOut(Out):
    """One regulation a trim fails: the features it misses and those it must not have."""

    regulation: str
    missing: list[str]
    violating: list[str]


class VerdictOut(Out):
    model: str
    trim: str
    status: Literal["compliant", "non-compliant", "not-applicable"]
    reasons: list[ReasonOut]


class ComplianceOut(Out):
    """The ``evplatform comply --json`` payload (DESIGN.md)."""

    market: str
    date: str = Field(description="YYYY-MM-DD")
    mode: str = Field(description="new_types or all")
    summary: dict[str, int] = Field(description="trims per status")
    verdicts: list[VerdictOut]
    warnings: list[dict[str, Any]]


class RoadmapTrimOut(Out):
    trim: str
    failing: list[str] = Field(description="regulations the trim fails on that date")
    added_since_previous: list[str]
    cost_per_year: float | None


class RoadmapEventOut(Out):
    date: str
    new_regulations: list[str]
    trims: list[RoadmapTrimOut]
    cost_per_year: float | None


class RoadmapEntryOut(Out):
    model: str
    market: str
    mode: str
    events: list[RoadmapEventOut]
    at_risk: list[dict[str, Any]]


class RoadmapOut(Out):
    """The ``evplatform comply --roadmap --json`` payload: what changes when, per model and market."""

    platform: str
    currency: str
    roadmap: list[RoadmapEntryOut]


class RegulationMarketsOut(Out):
    markets: list[str] = Field(description="markets with this answer (member states folded into their market)")
    members: list[str] = Field(description="member states with the same answer, folded into ``markets``")
    binding_on_date: dict[str, bool] = Field(description="per mode (new_types, all): binds on the date")
    breaking_trims: list[dict[str, Any]] = Field(description="trims whose configuration there breaks it: "
                                                             "trim, missing, violating")


class RegulationViewOut(Out):
    """The ``evplatform comply regulation ID --json`` payload."""

    regulation: str
    title: str
    source: str
    status: str = Field(description="confirmed or unverified (unverified: warnings, never failures)")
    requires: str = Field(description="feature expression")
    applies_from: dict[str, str | None] = Field(description="per mode: first day it binds (YYYY-MM-DD), or null")
    date: str = Field(description="YYYY-MM-DD")
    markets: list[RegulationMarketsOut]


class MarketViewOut(Out):
    """The ``evplatform comply market CODE --json`` payload."""

    market: str
    name: str
    date: str = Field(description="YYYY-MM-DD")
    models: list[str]
    summary: dict[str, dict[str, int]] = Field(description="per mode: trims per status on the date")
    failing: dict[str, list[str]] = Field(description="per mode: trims non-compliant on the date")
    regulations: list[dict[str, Any]] = Field(description="every regulation that applies, by first binding day")
    roadmap: list[dict[str, Any]] = Field(description="lines in date order from the date; costs cumulative")


class ConsumptionOut(Out):
    battery: float = Field(description="kWh/100 km drawn from the battery")
    plug: float = Field(description="kWh/100 km drawn from the grid, charging losses included")


class TraceMissOut(Out):
    seconds: float = Field(description="time the vehicle could not follow the cycle's speed")
    max_speed_error_kmh: float


class SimulationRowOut(Out):
    vehicle: str
    cycle: str
    consumption_kwh_per_100km: ConsumptionOut
    range_km: float
    charge_10_80_min: float | None
    accel_0_100_s: float | None
    top_speed_kmh: float
    trace_miss: TraceMissOut


class SimulationOut(Out):
    """The ``evplatform simulate --json`` payload (DESIGN.md) with the cycle and market chosen."""

    cycle: str
    market: str
    results: list[SimulationRowOut]
