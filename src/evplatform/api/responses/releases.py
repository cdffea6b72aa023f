"""Releases, their regulatory approvals, and stability KPIs per release."""

from __future__ import annotations

from pydantic import Field

from evplatform.api.responses.common import Out


class ReleaseOut(Out):
    id: str
    component: str
    ecu: str
    hardware_id: str
    version: str
    compatible: str
    notes: str
    created_at: str | None


class ApprovalOut(Out):
    market: str
    authority: str
    reference: str
    approved_by: str
    approved_at: str | None


class CampaignRefOut(Out):
    id: int
    name: str
    state: str


class ReleaseDetailOut(ReleaseOut):
    approvals: list[ApprovalOut]
    campaigns: list[CampaignRefOut]


class ReleaseListOut(Out):
    releases: list[ReleaseOut]


class StabilityReleaseOut(Out):
    """Stability KPIs of one release; rates are shares in [0, 1], null before any report."""

    release: str
    reports: int
    succeeded: int
    failed: int
    rolled_back: int
    install_success_rate: float | None
    rollback_rate: float | None
    installed_vehicles: int
    crashed_vehicles_7d: int
    crash_free_7d: float | None = Field(description="share of the vehicles installed at least 7 days ago with no "
                                                    "crash within 7 days; null while the release is too young")
    observed_vehicles_7d: int = Field(description="vehicles that installed it at least 7 days ago")
    too_young: bool = Field(description="no vehicle has run the release for 7 days yet")
    first_installed_at: str | None
    mature_at: str | None = Field(description="first install + 7 days")


class QuarterOut(Out):
    quarter: str
    updates: int
    vehicles: int
    updates_per_vehicle: float | None


class StabilityOut(Out):
    releases: list[StabilityReleaseOut]
    quarters: list[QuarterOut]
