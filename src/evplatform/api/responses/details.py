"""The vehicle and release detail views (``service.details``) and the update-record export."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from evplatform.api.responses.common import Out
from evplatform.api.responses.fleet import VehicleDetailOut
from evplatform.api.responses.releases import ReleaseDetailOut, StabilityReleaseOut


class HistoryEventOut(Out):
    at: str | None = Field(description="ISO 8601 UTC; null for a draft's assignment")
    action: str = Field(description="targeted | offered | reported")
    campaign_id: int
    campaign: str
    release_id: str
    version: str
    wave: int = Field(description="1-based")
    state: str = Field(description="the vehicle's state in the campaign now")
    outcome: str | None = Field(description="succeeded | failed | rolled_back (reported events)")
    detail: str
    forced: bool
    evidence: bool = Field(description="UN R156 / GB 44496 evidence captured at the offer")


class TelemetryPointOut(Out):
    at: str
    value: float | None


class TelemetrySeriesOut(Out):
    kind: str
    name: str
    unit: str | None = Field(description="% for state of charge, km for the odometer, null without a value")
    latest: float | None
    latest_at: str
    detail: dict[str, Any] | None
    series: list[TelemetryPointOut] = Field(description="up to 20 readings, oldest first")


class VehicleFullOut(VehicleDetailOut):
    history: list[HistoryEventOut]
    last_seen: str | None = Field(description="newest telemetry, offer or report")
    telemetry_series: list[TelemetrySeriesOut]


class UpdateRecordsOut(Out):
    """The R156 / GB 44496 export document (``ota.records.to_json``)."""

    format: str
    format_version: int
    regulations: list[str]
    generated_at: str | None
    count: int
    records: list[dict[str, Any]]


class FleetVersionOut(Out):
    version: str
    vehicles: int
    download: str = Field(description="installed | delta | full | unknown (not in this server's catalogue)")
    bytes: int | None = Field(description="bytes a vehicle on this version downloads")
    newer: bool


class RxswinChangeOut(Out):
    regulation: str = Field(description="the regulation the identification answers (R156 RXSWIN, a GB 44496 SWIN …)")
    before: str | None
    after: str | None
    vehicles: int


class RxswinOut(Out):
    declared: dict[str, str] = Field(description="vehicle type -> RXSWIN after install, from the release manifest")
    recorded: list[RxswinChangeOut] = Field(description="identification before -> after per regulation (evidence)")


class StabilityPointOut(Out):
    at: str
    reports: int
    installed: int
    install_success_rate: float | None
    rollback_rate: float | None
    observed_vehicles_7d: int
    crash_free_7d: float | None
    too_young: bool


class ReleaseFullOut(ReleaseDetailOut):
    published: bool = Field(description="found in this server's OTA release catalogue")
    images: list[dict[str, Any]]
    fleet_versions: list[FleetVersionOut]
    rxswin: RxswinOut
    stability: StabilityReleaseOut
    stability_over_time: list[StabilityPointOut]


class HistoryOut(Out):
    vin: str
    history: list[HistoryEventOut]


class ReleaseTableOut(Out):
    release: str
    table: str
    columns: list[str] = Field(description="the CSV export's header row")
    rows: list[dict[str, Any]]
