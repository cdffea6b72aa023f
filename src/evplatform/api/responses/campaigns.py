"""Campaign progress: waves, counts, and success and error rates over time (``fleet.timeline``)."""

from __future__ import annotations

from pydantic import Field

from evplatform.api.responses.common import Out


class WaveOut(Out):
    index: int
    fraction: float = Field(description="share of the targets this wave reaches, cumulative")
    state: str
    size: int
    succeeded: int
    failed: int
    rolled_back: int
    success_threshold: float
    error_threshold: float
    soak_hours: float
    excluded: int = Field(default=0, description="vehicles an operator excluded from this wave")


class ReportTotalsOut(Out):
    succeeded: int
    failed: int
    rolled_back: int


class TimelinePointOut(Out):
    """Cumulative counts at one report time; rates over the reports so far (null before any)."""

    at: str
    succeeded: int
    errors: int = Field(description="failed + rolled back")
    reports: int
    success_rate: float | None
    error_rate: float | None


class TimelineOut(Out):
    overall: list[TimelinePointOut]
    waves: dict[str, list[TimelinePointOut]] = Field(description="wave index → points")


class CampaignOut(Out):
    """A campaign's progress (the ``fleet simulate --json`` campaign shape, with more keys)."""

    id: int
    name: str
    release: str
    state: str = Field(description="draft, running, paused, halted, completed, cancelled")
    forced: bool
    consent: str = Field(default="auto", description="the consent rule: auto, required or not_required")
    window: list[str] | None = Field(description='local maintenance window ["01:00", "05:00"], or null')
    current_wave: int | None
    targets: int
    waves: list[WaveOut]
    halt_reason: str | None = Field(description="the last halt's reason; kept when the campaign is cancelled")
    cancel_reason: str | None = Field(default=None, description="why it was cancelled (cancelled campaigns)")
    acknowledgement: str | None = Field(default=None, description="the comment acknowledging the halt")
    allowed_actions: list[str] = Field(default_factory=list, description="what an operator may do now")
    started_at: str | None
    finished_at: str | None
    reports: ReportTotalsOut
    timeline: TimelineOut | None = Field(default=None, description="only on GET /api/campaigns/{id}")


class StartedCampaignOut(CampaignOut):
    excluded: dict[str, int] | None = Field(
        default=None, description="vehicles left out when the campaign started, by reason")


class CampaignListOut(Out):
    campaigns: list[CampaignOut]
