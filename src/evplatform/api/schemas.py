"""Request bodies (pydantic at the edge, STYLE.md point 6): checked here, turned into domain values.

A body that does not fit is answered 422 naming the field (``api.errors``); values pydantic
cannot judge (an unknown market, a bad expression) are judged by the domain and answered with
its error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from evplatform.fleet import MaintenanceWindow, TargetFilter, TelemetryEvent, WavePolicy


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TelemetryIn(Strict):
    vin: str = Field(min_length=1, max_length=32)
    kind: Literal["health", "crash", "soc", "odometer"]
    at: AwareDatetime
    value: float | None = None
    release_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)

    def to_event(self) -> TelemetryEvent:
        return TelemetryEvent(self.vin, self.kind, self.at, self.value, self.release_id, self.detail)


class TelemetryBatch(Strict):
    events: list[TelemetryIn] = Field(min_length=1, max_length=10_000)


class ReleaseIn(Strict):
    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")
    component: str = Field(min_length=1, description="a software component of the workspace (software.yaml)")
    version: str = Field(min_length=1, max_length=40)
    notes: str = ""


class ApprovalIn(Strict):
    market: str = Field(min_length=1)
    authority: str = Field(min_length=1)
    reference: str = Field(min_length=1)
    approved_at: AwareDatetime | None = None


class TargetIn(Strict):
    models: list[str] = Field(default_factory=list)
    trims: list[str] = Field(default_factory=list, description="model/trim keys")
    markets: list[str] = Field(default_factory=list)
    expression: str | None = Field(default=None, description="feature expression on the configuration")
    current_versions: list[str] = Field(default_factory=list)

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
    release_id: str = Field(min_length=1)
    target: TargetIn = Field(default_factory=TargetIn)
    waves: list[WaveIn] | None = Field(default=None, description="default: 1 %, 10 %, 50 %, 100 %")
    forced: bool = False
    window: tuple[str, str] | None = Field(default=None, description='local maintenance window: ["01:00", "05:00"]')
    seed: int = 0
    start: bool = Field(default=False, description="start at once (targets chosen, approvals checked)")

    def policies(self) -> tuple[WavePolicy, ...] | None:
        return None if self.waves is None else tuple(w.to_policy() for w in self.waves)

    def maintenance_window(self) -> MaintenanceWindow | None:
        return None if self.window is None else MaintenanceWindow.parse(*self.window)


class CancelIn(Strict):
    reason: str = Field(default="cancelled by an operator", min_length=1, max_length=500)


class ReportIn(Strict):
    campaign_id: int
    outcome: Literal["succeeded", "failed", "rolled_back"]
    at: AwareDatetime | None = Field(default=None, description="when it happened (default: now)")
    detail: str = Field(default="", max_length=2000)


class PublicKeyIn(Strict):
    public_key: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="ed25519 public key, 64 hex digits")


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
