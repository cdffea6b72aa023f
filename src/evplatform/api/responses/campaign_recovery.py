"""A campaign's history, its vehicles page by page, and the result of a recovery action (issue 16 §1)."""

from __future__ import annotations

from pydantic import Field

from evplatform.api.responses.campaigns import CampaignOut
from evplatform.api.responses.common import Out


class HistoryEntryOut(Out):
    at: str = Field(description="server clock, ISO 8601")
    actor: str
    action: str = Field(description="start, halt, pause, resume, ack, exclude, next-wave, retry, cancel, advance, "
                                    "complete")
    from_: str = Field(alias="from")
    to: str
    reason: str
    detail: dict[str, object]


class HistoryOut(Out):
    campaign: int
    history: list[HistoryEntryOut]


class CampaignVehicleOut(Out):
    vin: str
    model: str
    trim: str
    market: str
    wave: int = Field(description="1-based")
    cohort: str
    status: str = Field(description="pending, postponed, downloading, offline, installed, crashed, failed, "
                                    "rolled_back, excluded, cancelled")
    excluded: bool
    attempts: int
    offered_at: str | None
    reported_at: str | None
    failure_reason: str | None
    log: list[str] = Field(description="the vehicle's reported detail, line by line")


class CampaignVehiclesOut(Out):
    campaign: int
    wave: int | None
    status: str | None
    page: int
    size: int
    total: int = Field(description="vehicles matching the filters")
    pages: int
    past_end: bool
    message: str | None
    counts: dict[str, int] = Field(description="vehicles per status in the wave (or campaign)")
    after: int | None = Field(default=None, description="the cursor this page started after, when paged by key")
    next_after: int | None = Field(default=None, description="pass as after= for the next page (keyset paging); "
                                                             "null on the last page")
    vehicles: list[CampaignVehicleOut]


class CampaignActionOut(CampaignOut):
    """The campaign after the action, with what the action touched."""

    vehicles_affected: int | None = Field(default=None, description="exclude, retry: vehicles changed")
    opened_wave: int | None = Field(default=None, description="next-wave: the wave opened (1-based)")
