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

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from evplatform.fleet import MaintenanceWindow, TargetFilter, TelemetryEvent, WavePolicy
from evplatform.fleet.gates import ConsentRule
from evplatform.fleet.groups import NAME_LENGTH as GROUP_NAME_LENGTH
from evplatform.fleet.query import MAX_LENGTH as QUERY_LENGTH
from evplatform.fleet.update_records import ReportedConditions
from evplatform.service.params import INT32_MAX, MARKET_LENGTH, NAME_LENGTH, RELEASE_ID_LENGTH, VIN_LENGTH

#: Free text stored in unbounded columns (release notes, expressions) still has an edge limit.
TEXT_LENGTH = 10_000
#: Items of one list in a request (target filters).
LIST_LENGTH = 1_000
#: Every string field: no NUL character (PostgreSQL cannot store one in text). A pattern, checked
#: by pydantic's own engine: a Python validator per field made a 10,000-event telemetry batch 3.7x slower.
NO_NUL = r"^[^\x00]*$"
#: Waves of one campaign, and the longest soak of one (90 days, as ``fleet.gates.WavePolicy`` allows).
MAX_WAVES = 20
MAX_SOAK_HOURS = 24 * 90
#: A time of day as a maintenance window gives it ("01:00").
HourMinute = Annotated[str, Field(max_length=5, pattern=NO_NUL)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TelemetryIn(Strict):
    """One event. No NUL pattern on the hot path (it cost 40 % of a 10,000-event batch's validation): a
    NUL reaching PostgreSQL is a 422 from the store (``InvalidValueError``), checked by the sweep."""

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
    component: str = Field(min_length=1, max_length=NAME_LENGTH, pattern=NO_NUL,
                           description="a software component of the workspace (software.yaml)")
    version: str = Field(min_length=1, max_length=32, pattern=NO_NUL)
    notes: str = Field(default="", max_length=TEXT_LENGTH, pattern=NO_NUL)


class ApprovalIn(Strict):
    market: str = Field(min_length=1, max_length=MARKET_LENGTH, pattern=NO_NUL,
                        description="a market of the workspace")
    authority: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    reference: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    approved_at: AwareDatetime | None = Field(
        default=None, description="when the authority approved (default: now); not in the future, not before "
                                  "the release was registered")


class TargetIn(Strict):
    models: list[Annotated[str, Field(max_length=NAME_LENGTH, pattern=NO_NUL)]] = Field(
        default_factory=list, max_length=LIST_LENGTH)
    trims: list[Annotated[str, Field(max_length=2 * NAME_LENGTH + 1, pattern=NO_NUL)]] = Field(
        default_factory=list, max_length=LIST_LENGTH, description="model/trim keys")
    markets: list[Annotated[str, Field(max_length=MARKET_LENGTH, pattern=NO_NUL)]] = Field(
        default_factory=list, max_length=LIST_LENGTH)
    expression: str | None = Field(default=None, max_length=TEXT_LENGTH, pattern=NO_NUL,
                                   description="feature expression on the configuration")
    current_versions: list[Annotated[str, Field(max_length=32, pattern=NO_NUL)]] = Field(
        default_factory=list, max_length=LIST_LENGTH)
    group: str | None = Field(default=None, max_length=GROUP_NAME_LENGTH, pattern=NO_NUL,
                              description="a saved fleet group: targets are in it (evaluated at start)")
    query: str | None = Field(default=None, max_length=QUERY_LENGTH, pattern=NO_NUL,
                              description="a fleet filter query the targets must match")

    def to_filter(self) -> TargetFilter:
        return TargetFilter(tuple(self.models), tuple(self.trims), tuple(self.markets), self.expression or None,
                            tuple(self.current_versions), group=self.group or None, query=self.query or None)


class FleetGroupIn(Strict):
    name: str = Field(min_length=1, max_length=GROUP_NAME_LENGTH, pattern=r"^[A-Za-z0-9._-]+$")
    query: str = Field(max_length=QUERY_LENGTH, pattern=NO_NUL, description="a fleet filter query")
    description: str = Field(default="", max_length=200, pattern=NO_NUL)


class WaveIn(Strict):
    fraction: float = Field(gt=0, le=1)
    success_threshold: float = Field(default=0.90, gt=0, le=1)
    error_threshold: float = Field(default=0.02, gt=0, le=1)
    soak_hours: float = Field(default=0.0, ge=0, le=MAX_SOAK_HOURS, description="least hours before the next wave")

    def to_policy(self) -> WavePolicy:
        return WavePolicy(self.fraction, self.success_threshold, self.error_threshold, self.soak_hours)


class CampaignIn(Strict):
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    release_id: str = Field(min_length=1, max_length=RELEASE_ID_LENGTH, pattern=NO_NUL)
    target: TargetIn = Field(default_factory=TargetIn)
    waves: list[WaveIn] | None = Field(default=None, max_length=MAX_WAVES,
                                       description="default: 1 %, 10 %, 50 %, 100 %")
    forced: bool = Field(default=False, description="forced: every target without asking; soft (default): only "
                                                    "vehicles whose owner consents to updates")
    consent: ConsentRule = Field(default="auto", description="consent rule: auto (default; soft asks for the owner's "
                                       "consent, forced does not), required (only vehicles whose owner consents "
                                       "to updates), not_required (every target, without asking)")
    window: tuple[HourMinute, HourMinute] | None = Field(
        default=None, description='local maintenance window: ["01:00", "05:00"]')
    seed: int = Field(default=0, ge=0, le=INT32_MAX, description="orders the vehicles into waves")
    start: bool = Field(default=False, description="start at once (targets chosen, approvals checked)")

    def policies(self) -> tuple[WavePolicy, ...] | None:
        return None if self.waves is None else tuple(w.to_policy() for w in self.waves)

    def maintenance_window(self) -> MaintenanceWindow | None:
        return None if self.window is None else MaintenanceWindow.parse(*self.window)


class CancelIn(Strict):
    reason: str = Field(default="cancelled by an operator", min_length=1, max_length=500, pattern=NO_NUL)


class ReportIn(Strict):
    campaign_id: int = Field(ge=1, le=INT32_MAX)
    outcome: Literal["succeeded", "failed", "rolled_back"]
    at: AwareDatetime | None = Field(default=None, description="when it happened (default: now)")
    detail: str = Field(default="", max_length=2000, pattern=NO_NUL)
    parked: bool | None = Field(default=None, description="parked when the install started (UN R156 §7.2.2.1)")
    state_of_charge_pct: float | None = Field(default=None, ge=0, le=100,
                                              description="state of charge when the install started (%)")
    notes_shown: bool | None = Field(default=None, description="the release notes were shown to the driver")

    def conditions(self) -> ReportedConditions:
        return ReportedConditions(self.parked, self.state_of_charge_pct, self.notes_shown)


class PublicKeyIn(Strict):
    public_key: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="ed25519 public key, 64 hex digits")


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
