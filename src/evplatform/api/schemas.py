"""Request bodies (pydantic at the edge, STYLE.md point 6): checked here, turned into domain values.

A body that does not fit is answered 422 naming the field (``api.errors``); values pydantic
cannot judge (an unknown market, a bad expression) are judged by the domain and answered with
its error. Every string is bounded by the column that stores it (``store.schema``) and every
integer by its column's range (``service.params``), and no string may hold a NUL character, so a
value the database cannot hold is a 422 here, never a driver error (issue 14 item 16).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from evplatform.fleet import MaintenanceWindow, TargetFilter, TelemetryEvent, WavePolicy
from evplatform.service.params import INT32_MAX, MARKET_LENGTH, NAME_LENGTH, RELEASE_ID_LENGTH, VIN_LENGTH

#: Free text stored in unbounded columns (release notes, expressions) still has an edge limit.
TEXT_LENGTH = 10_000
#: Items of one list in a request (target filters).
LIST_LENGTH = 1_000


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class Strict(BaseModel):
    """No unknown fields, and no NUL character in any string (PostgreSQL cannot store one)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if _has_nul(value):
            raise ValueError("a string holds a NUL character (U+0000)")
        return value


class TelemetryIn(Strict):
    vin: str = Field(min_length=1, max_length=VIN_LENGTH)
    kind: Literal["health", "crash", "soc", "odometer"]
    at: AwareDatetime
    value: float | None = None
    release_id: str | None = Field(default=None, max_length=RELEASE_ID_LENGTH)
    detail: dict[str, Any] = Field(default_factory=dict)

    def to_event(self) -> TelemetryEvent:
        return TelemetryEvent(self.vin, self.kind, self.at, self.value, self.release_id, self.detail)


class TelemetryBatch(Strict):
    events: list[TelemetryIn] = Field(min_length=1, max_length=10_000)


class ReleaseIn(Strict):
    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")
    component: str = Field(min_length=1, max_length=NAME_LENGTH,
                           description="a software component of the workspace (software.yaml)")
    version: str = Field(min_length=1, max_length=32)
    notes: str = Field(default="", max_length=TEXT_LENGTH)


class ApprovalIn(Strict):
    market: str = Field(min_length=1, max_length=MARKET_LENGTH, description="a market of the workspace")
    authority: str = Field(min_length=1, max_length=200)
    reference: str = Field(min_length=1, max_length=200)
    approved_at: AwareDatetime | None = Field(
        default=None, description="when the authority approved (default: now); not in the future, not before "
                                  "the release was registered")


class TargetIn(Strict):
    models: list[Annotated[str, Field(max_length=NAME_LENGTH)]] = Field(default_factory=list,
                                                                         max_length=LIST_LENGTH)
    trims: list[Annotated[str, Field(max_length=2 * NAME_LENGTH + 1)]] = Field(
        default_factory=list, max_length=LIST_LENGTH, description="model/trim keys")
    markets: list[Annotated[str, Field(max_length=MARKET_LENGTH)]] = Field(default_factory=list,
                                                                           max_length=LIST_LENGTH)
    expression: str | None = Field(default=None, max_length=TEXT_LENGTH,
                                   description="feature expression on the configuration")
    current_versions: list[Annotated[str, Field(max_length=32)]] = Field(default_factory=list,
                                                                         max_length=LIST_LENGTH)

    def to_filter(self) -> TargetFilter:
        return TargetFilter(tuple(self.models), tuple(self.trims), tuple(self.markets), self.expression or None,
                            tuple(self.current_versions))


class WaveIn(Strict):
    fraction: float = Field(gt=0, le=1)
    success_threshold: float = Field(default=0.90, gt=0, le=1)
    error_threshold: float = Field(default=0.02, gt=0, le=1)
    soak_hours: float = Field(default=0.0, ge=0)

    def to_policy(self) -> WavePolicy:
        return WavePolicy(self.fraction, self.success_threshold, self.error_threshold, self.soak_hours)


class CampaignIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    release_id: str = Field(min_length=1, max_length=RELEASE_ID_LENGTH)
    target: TargetIn = Field(default_factory=TargetIn)
    waves: list[WaveIn] | None = Field(default=None, description="default: 1 %, 10 %, 50 %, 100 %")
    forced: bool = False
    window: tuple[Annotated[str, Field(max_length=5)], Annotated[str, Field(max_length=5)]] | None = Field(
        default=None, description='local maintenance window: ["01:00", "05:00"]')
    seed: int = Field(default=0, ge=0, le=INT32_MAX, description="orders the vehicles into waves")
    start: bool = Field(default=False, description="start at once (targets chosen, approvals checked)")

    def policies(self) -> tuple[WavePolicy, ...] | None:
        return None if self.waves is None else tuple(w.to_policy() for w in self.waves)

    def maintenance_window(self) -> MaintenanceWindow | None:
        return None if self.window is None else MaintenanceWindow.parse(*self.window)


class CancelIn(Strict):
    reason: str = Field(default="cancelled by an operator", min_length=1, max_length=500)


class ReportIn(Strict):
    campaign_id: int = Field(ge=1, le=INT32_MAX)
    outcome: Literal["succeeded", "failed", "rolled_back"]
    at: AwareDatetime | None = Field(default=None, description="when it happened (default: now)")
    detail: str = Field(default="", max_length=2000)


class PublicKeyIn(Strict):
    public_key: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="ed25519 public key, 64 hex digits")


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
