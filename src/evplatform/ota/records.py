"""Software update records for homologation audits (UN R156 and GB 44496-2024).

UN R156 §7.1.2 asks the manufacturer's software update management system to keep, for every
update, the configuration before it and the RXSWIN it changes, how compatibility with the target
vehicles was confirmed and who approved it; §7.2.2 asks an over-the-air update to inform the
user before the update (what it changes) and about its outcome, and to check preconditions (e.g.
enough energy to finish) before it runs. GB 44496-2024 (China's software-update standard, which
follows R156) asks for the same evidence. One ``UpdateRecord`` is that evidence for one vehicle
and one update; ``to_json``/``to_csv`` export a list of them in a fixed key and column order so
an auditor's diff of two exports shows only what changed.

Fields that were not recorded when the update happened are ``None`` (``"not recorded"`` in
CSV); nothing is filled in after the fact without saying so (``CompatibilityCheck.basis``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from evplatform.errors import OtaError

FORMAT = "evplatform-update-records"
FORMAT_VERSION = 1
REGULATIONS = ("UN R156", "GB 44496-2024")
NOT_RECORDED = "not recorded"
OUTCOMES = ("succeeded", "failed", "rolled_back")


@dataclass(frozen=True, slots=True)
class ApprovalInfo:
    """Who approved the release for a market (R156 §7.1.2: the SUMS approval; a regulator's reference)."""

    market: str
    authority: str
    reference: str
    approved_by: str
    approved_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "market": self.market,
            "authority": self.authority,
            "reference": self.reference,
            "approved_by": self.approved_by,
            "approved_at": _time(self.approved_at),
        }


@dataclass(frozen=True, slots=True)
class CompatibilityCheck:
    """The release's hardware id and feature expression checked against the vehicle.

    ``basis`` says when: ``"at offer"`` (recorded as the vehicle was offered the update) or
    ``"re-evaluated at export"`` (computed from the vehicle's stored configuration afterwards).
    """

    expression: str
    configuration_matches: bool
    hardware_id_required: str
    hardware_id_found: str | None
    basis: str

    @property
    def result(self) -> bool:
        return self.configuration_matches and self.hardware_id_found == self.hardware_id_required

    def to_dict(self) -> dict[str, Any]:
        return {
            "expression": self.expression,
            "configuration_matches": self.configuration_matches,
            "hardware_id_required": self.hardware_id_required,
            "hardware_id_found": self.hardware_id_found,
            "result": self.result,
            "basis": self.basis,
        }


@dataclass(frozen=True, slots=True)
class UserInformation:
    """What the vehicle's user was told and what they agreed to (R156 §7.2.2.2)."""

    release_notes: str
    notes_shown: bool | None
    consent: str | None  # "accepted" | "forced" (safety recall, no consent asked) | None when not recorded

    def to_dict(self) -> dict[str, Any]:
        return {"release_notes": self.release_notes, "notes_shown": self.notes_shown, "consent": self.consent}


@dataclass(frozen=True, slots=True)
class Preconditions:
    """Checked by the vehicle before installing (R156 §7.2.2.1: enough energy, a safe state)."""

    parked: bool | None
    state_of_charge_pct: float | None  # the traction battery, 0..100 as telemetry reports it
    soc_threshold_pct: float

    @property
    def result(self) -> bool | None:
        """True when both were checked and held; False when one failed; None when not recorded."""
        soc = self.state_of_charge_pct
        if self.parked is False or (soc is not None and soc < self.soc_threshold_pct):
            return False
        if self.parked is None or soc is None:
            return None
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "parked": self.parked,
            "state_of_charge_pct": self.state_of_charge_pct,
            "soc_threshold_pct": self.soc_threshold_pct,
            "result": self.result,
        }


@dataclass(frozen=True, slots=True)
class UpdateRecord:
    vin: str
    campaign_id: int | None
    campaign: str
    release_id: str
    component: str
    ecu: str
    version_before: str | None
    version_after: str
    market: str
    rxswin_before: str | None
    rxswin_after: str | None
    compatibility: CompatibilityCheck
    approvals: tuple[ApprovalInfo, ...]
    information: UserInformation
    preconditions: Preconditions
    outcome: str
    detail: str
    offered_at: datetime | None
    reported_at: datetime

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            known = ", ".join(OUTCOMES)
            raise OtaError(f"update record of {self.vin}: unknown outcome {self.outcome!r} (known: {known})")
        if self.reported_at.tzinfo is None:
            raise OtaError(f"update record of {self.vin}: naive report time (records are in UTC)")

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data, keys in a fixed order."""
        return {
            "vin": self.vin,
            "campaign_id": self.campaign_id,
            "campaign": self.campaign,
            "release_id": self.release_id,
            "component": self.component,
            "ecu": self.ecu,
            "version_before": self.version_before,
            "version_after": self.version_after,
            "market": self.market,
            "rxswin_before": self.rxswin_before,
            "rxswin_after": self.rxswin_after,
            "compatibility": self.compatibility.to_dict(),
            "approvals": [a.to_dict() for a in self.approvals],
            "information": self.information.to_dict(),
            "preconditions": self.preconditions.to_dict(),
            "outcome": self.outcome,
            "detail": self.detail,
            "offered_at": _time(self.offered_at),
            "reported_at": _time(self.reported_at),
        }


def _time(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, seconds precision: one spelling for every backend."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise OtaError(f"naive datetime {value!r} in an update record (records are in UTC)")
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def sort_records(records: Sequence[UpdateRecord]) -> list[UpdateRecord]:
    """Audit order: by report time, then VIN, then campaign."""
    return sorted(records, key=lambda r: (r.reported_at, r.vin, r.campaign_id or 0, r.release_id))


def to_json(records: Sequence[UpdateRecord], *, generated_at: datetime | None = None) -> str:
    """The records as one JSON document (UTF-8 text, two-space indent, trailing newline)."""
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "regulations": list(REGULATIONS),
        "generated_at": _time(generated_at),
        "count": len(records),
        "records": [r.to_dict() for r in sort_records(records)],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


CSV_COLUMNS = (
    "vin", "campaign_id", "campaign", "release_id", "component", "ecu", "version_before", "version_after", "market",
    "rxswin_before", "rxswin_after",
    "compatibility_expression", "configuration_matches", "hardware_id_required", "hardware_id_found",
    "compatibility_result", "compatibility_basis",
    "approvals", "approved_by",
    "release_notes", "notes_shown", "consent",
    "parked", "state_of_charge_pct", "soc_threshold_pct", "preconditions_result",
    "outcome", "detail", "offered_at", "reported_at",
)


def _cell(value: Any) -> str:
    if value is None:
        return NOT_RECORDED
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def csv_row(record: UpdateRecord) -> list[str]:
    """One CSV row in ``CSV_COLUMNS`` order; approvals joined as ``market|authority|reference|by|at``."""
    c, i, p = record.compatibility, record.information, record.preconditions
    approvals = "; ".join(
        "|".join((a.market, a.authority, a.reference, a.approved_by, _time(a.approved_at) or ""))
        for a in record.approvals
    )
    values: list[Any] = [
        record.vin, record.campaign_id, record.campaign, record.release_id, record.component, record.ecu,
        record.version_before, record.version_after, record.market, record.rxswin_before, record.rxswin_after,
        c.expression, c.configuration_matches, c.hardware_id_required, c.hardware_id_found, c.result, c.basis,
        approvals or "none", "; ".join(sorted({a.approved_by for a in record.approvals})) or "none",
        i.release_notes, i.notes_shown, i.consent,
        p.parked, p.state_of_charge_pct, p.soc_threshold_pct, p.result,
        record.outcome, record.detail, _time(record.offered_at), _time(record.reported_at),
    ]
    return [_cell(v) for v in values]


def to_csv(records: Sequence[UpdateRecord]) -> str:
    """The records as CSV with a header row (RFC 4180 quoting, ``\\r\\n`` line ends)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in sort_records(records):
        writer.writerow(csv_row(record))
    return out.getvalue()


def next_rxswin(current: str, release_id: str) -> str:
    """The RXSWIN after installing a release: same type prefix, new software identification.

    UN R156 §7.2.1.2: the RXSWIN must change when an update changes type-approved software and be
    readable from the vehicle; every release is treated as relevant to the type approval here.
    The campaign controller hands this rule to ``store.reports.record_reports``, which applies it to
    the vehicles that succeeded in the same transaction as their report; features on demand renew
    it the same way when a type-approval relevant feature is switched (``ondemand.activation``).
    """
    prefix = current.rsplit("-", 1)[0]
    return f"{prefix}-{hashlib.sha256(f'{current}+{release_id}'.encode()).hexdigest()[:10].upper()}"
