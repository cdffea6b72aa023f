"""Campaign planning: the live count, the dry run and a campaign's plan as a template (``fleet.campaign_planning``)."""

from __future__ import annotations

from pydantic import Field

from evplatform.api.responses.common import Out


class BreakdownOut(Out):
    vehicles: int
    by_model: dict[str, int] = Field(description="model → vehicles")
    by_trim: dict[str, int] = Field(description="model/trim → vehicles")
    by_market: dict[str, int] = Field(description="market → vehicles")


class PreviewOut(BreakdownOut):
    """Vehicles the filter matches, before compatibility, installed versions and consent."""

    fleet: int = Field(description="every registered vehicle")
    seconds: float


class PlanWaveOut(Out):
    fraction: float = Field(description="cumulative share of the targets")
    success_threshold: float
    error_threshold: float
    soak_hours: float


class TargetFilterOut(Out):
    models: list[str]
    trims: list[str]
    markets: list[str]
    expression: str | None
    current_versions: list[str]


class PlanOut(Out):
    """A campaign's plan, as the body of a new one (``POST /api/campaigns`` takes these keys)."""

    name: str
    release_id: str
    target: TargetFilterOut
    waves: list[PlanWaveOut]
    forced: bool
    consent: str = Field(description="the consent rule: auto, required or not_required")
    consent_rule: str = Field(description="the consent rule in words, with what auto means for forced/soft")
    window: list[str] | None
    seed: int


class TemplateOut(PlanOut):
    template_of: int = Field(description="the campaign this plan was copied from")


class ExclusionOut(Out):
    reason: str
    vehicles: int
    sample_vins: list[str]


class ApprovalCheckOut(Out):
    required: list[str] = Field(description="target markets that demand an approval")
    approved: list[str] = Field(description="of those, the ones with an approval in force (theirs or a region's)")
    missing: list[str] = Field(description="the ones without: a start would be refused")
    basis: dict[str, str] = Field(description="market → the rule that demands it")


class DryRunOut(Out):
    plan: PlanOut
    matched: int = Field(description="vehicles the filter matches: targets + excluded")
    targets: BreakdownOut
    wave_sizes: list[int]
    excluded: list[ExclusionOut]
    approvals: ApprovalCheckOut
    blockers: list[str] = Field(description="why a start would be refused (empty: it would start)")
    can_start: bool
    seconds: float
