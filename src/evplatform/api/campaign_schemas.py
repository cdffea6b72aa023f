"""Request bodies of the release manager's recovery actions on a campaign (issue 16 §1).

Every decision carries its reason (a required, bounded, NUL-free text): the history and the audit log
keep who decided what and why. Names are bounded by the columns they are compared with.
"""

from __future__ import annotations

from pydantic import Field

from evplatform.api.schemas import NO_NUL, Strict
from evplatform.fleet.campaign_recovery import MAX_REASON
from evplatform.service.params import INT32_MAX, MARKET_LENGTH, NAME_LENGTH

Reason = Field(min_length=1, max_length=MAX_REASON, pattern=NO_NUL, description="why: kept in the history")


class ReasonIn(Strict):
    reason: str = Reason


class AckIn(Strict):
    comment: str = Field(min_length=1, max_length=MAX_REASON, pattern=NO_NUL,
                         description="what was found and what happens next: kept in the history")


class ExcludeIn(Strict):
    """A cohort: a model, a model and trim, or a market (a market may be combined with a model)."""

    model: str | None = Field(default=None, min_length=1, max_length=NAME_LENGTH, pattern=NO_NUL)
    trim: str | None = Field(default=None, min_length=1, max_length=NAME_LENGTH, pattern=NO_NUL)
    market: str | None = Field(default=None, min_length=1, max_length=MARKET_LENGTH, pattern=NO_NUL)
    reason: str = Reason
    resume: bool = Field(default=False, description="resume the campaign right after (a second history row)")


class RetryIn(Strict):
    reason: str = Reason
    wave: int | None = Field(default=None, ge=1, le=INT32_MAX, description="only this wave (1-based); default all")
