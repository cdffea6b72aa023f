"""The fleet: vehicles, counts, telemetry ingestion and the vehicle-facing endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from evplatform.api.responses.common import Out


class VehicleOut(Out):
    vin: str
    model: str
    trim: str
    market: str
    timezone: str
    software: dict[str, dict[str, str]] = Field(description="ECU → {component, version}")
    consent_telemetry: bool
    consent_updates: bool
    registered_at: str | None
    key_provisioned: bool


class ListedVehicleOut(VehicleOut):
    last_seen: str | None = Field(default=None, description="newest telemetry event (UTC); null: never seen")
    crashes_7d: int = Field(default=0, description="crash reports in the last 7 days")


class VehiclePageOut(Out):
    total: int = Field(description="vehicles matching the filter")
    limit: int
    offset: int
    query: str = Field(default="", description="the fleet filter query the list answers (README: Fleet filter queries)")
    sort: str = "vin"
    order: str = "asc"
    page: int = Field(default=0, description="offset // limit, from 0")
    pages: int = Field(default=1, description="pages of `limit` vehicles the total fills (at least 1)")
    note: str | None = Field(default=None, description="set when the offset is past the end (the page is empty)")
    vehicles: list[ListedVehicleOut]


class FleetGroupOut(Out):
    name: str
    query: str = Field(description="the group's fleet filter query, evaluated again on every use")
    description: str
    created_by: str
    created_at: str
    vehicles: int = Field(description="vehicles matching the query now (-1: the query no longer resolves)")


class FleetGroupListOut(Out):
    groups: list[FleetGroupOut]


class FleetGroupVehiclesOut(VehiclePageOut):
    group: FleetGroupOut


class FleetGroupDeletedOut(Out):
    name: str
    deleted: bool


class TelemetryEventOut(Out):
    kind: str
    at: str | None
    value: float | None
    release_id: str | None
    detail: dict[str, Any] | None


class VehicleDetailOut(VehicleOut):
    configuration: list[str]
    hardware_ids: dict[str, str]
    rxswin: dict[str, Any]
    telemetry: list[TelemetryEventOut] = Field(description="the 20 most recent events")


class CountCellOut(Out):
    model: str
    trim: str
    market: str
    vehicles: int


class CountsOut(Out):
    total: int
    cells: list[CountCellOut]


class KeyProvisionedOut(Out):
    vin: str
    key_provisioned: bool


class TelemetryStoredOut(Out):
    stored: int = Field(description="events stored (the batch is stored whole or not at all)")


class UpdateOfferOut(Out):
    campaign_id: int
    release_id: str
    component: str
    ecu: str
    hardware_id: str
    version: str
    forced: bool


class UpdateCheckOut(Out):
    vin: str
    update: UpdateOfferOut | None = Field(description="null: nothing to install now")
    poll_after_s: int = Field(description="seconds to wait before the next check (also in Retry-After): "
                                          "300 with an open offer or a pending wave of a running campaign, 3,600 "
                                          "otherwise", ge=1)


class ReportOut(Out):
    vin: str
    campaign_id: int
    outcome: str
    counted: bool = Field(description="false when the same answer was already counted")


class EcuReportOut(Out):
    ecu_serial: str
    filepath: str
    sha256: str
    length: int
    time: str
    report_counter: int
    attacks_detected: str


class ManifestOut(Out):
    """The Director's answer to an accepted vehicle version manifest (Uptane 5.4.2)."""

    vin: str
    primary_ecu_serial: str
    accepted: bool
    reports: dict[str, EcuReportOut]
    missing_ecus: list[str]
    attacks_detected: dict[str, str]
