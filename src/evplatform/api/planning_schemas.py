"""Request bodies of campaign planning (``/api/campaigns/preview`` and ``/dry-run``), bounded like ``api.schemas``."""

from __future__ import annotations

from pydantic import Field

from evplatform.api.schemas import MAX_WAVES, NO_NUL, HourMinute, Strict, TargetIn, WaveIn
from evplatform.fleet import DEFAULT_WAVES, MaintenanceWindow
from evplatform.fleet.campaign_planning import CampaignPlan
from evplatform.fleet.gates import ConsentRule
from evplatform.service.params import INT32_MAX, RELEASE_ID_LENGTH


class PreviewIn(Strict):
    """The live count's question: a target filter (and the release, whose ECU ``current_versions`` names)."""

    target: TargetIn = Field(default_factory=TargetIn)
    release_id: str | None = Field(default=None, min_length=1, max_length=RELEASE_ID_LENGTH, pattern=NO_NUL,
                                   description="needed when the filter names current_versions")


class DryRunIn(Strict):
    """A whole plan, as ``POST /api/campaigns`` takes it, without creating anything."""

    name: str = Field(default="", max_length=200, pattern=NO_NUL)
    release_id: str = Field(min_length=1, max_length=RELEASE_ID_LENGTH, pattern=NO_NUL)
    target: TargetIn = Field(default_factory=TargetIn)
    waves: list[WaveIn] | None = Field(default=None, max_length=MAX_WAVES,
                                       description="default: 1 %, 10 %, 50 %, 100 %")
    forced: bool = Field(default=False, description="forced: every target without asking; soft: only consenting")
    consent: ConsentRule = Field(default="auto", description="consent rule: auto (default; soft asks for the owner's "
                                       "consent, forced does not), required (only vehicles whose owner consents "
                                       "to updates), not_required (every target, without asking)")
    window: tuple[HourMinute, HourMinute] | None = Field(
        default=None, description='local maintenance window: ["01:00", "05:00"]')
    seed: int = Field(default=0, ge=0, le=INT32_MAX, description="orders the vehicles into waves")

    def to_plan(self) -> CampaignPlan:
        waves = DEFAULT_WAVES if self.waves is None else tuple(w.to_policy() for w in self.waves)
        window = None if self.window is None else MaintenanceWindow.parse(*self.window)
        return CampaignPlan(release_id=self.release_id, target=self.target.to_filter(), waves=waves,
                            forced=self.forced, window=window, seed=self.seed, name=self.name,
                            consent=self.consent)
