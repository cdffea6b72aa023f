"""UN R156 / GB 44496 update records built from the store, and the evidence captured at delivery.

Two halves:

* ``RecordingLink`` wraps any ``VehicleLink``: before a batch is offered it reads each vehicle's
  RXSWIN, installed version, ECU hardware and configuration, asks a ``PreconditionSource`` for the
  vehicle's parked state and state of charge, and after the answers it stores that evidence (with
  the RXSWIN the vehicle now carries) for every vehicle that reached a final outcome. The campaign
  controller is unchanged: ``run_campaign(store, cid, RecordingLink(link, store, cid))``.
* ``update_records`` joins reports, campaigns, releases, vehicles, approvals and that evidence into
  ``evplatform.ota.records.UpdateRecord`` values for export. Reports without evidence (a fleet
  driven without the recording link) still produce a record: compatibility is then re-evaluated
  from the stored configuration and says so, and what was not recorded stays ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from evplatform.errors import FleetError, ParseError
from evplatform.fleet.link import Delivery, VehicleLink
from evplatform.fleet.registry import UNECE_SOFTWARE_ID
from evplatform.ota.records import (
    ApprovalInfo,
    CompatibilityCheck,
    Preconditions,
    UpdateRecord,
    UserInformation,
    next_rxswin,
)
from evplatform.store import Store
from evplatform.store import releases as rdb
from evplatform.store import update_records as udb
from evplatform.store import vehicles as vdb
from evplatform.store.releases import ReleaseRecord
from evplatform.store.reports import FINAL_OUTCOMES
from evplatform.variability.expression import parse_expression
from evplatform.workspace.model import market_lineage

#: Installation needs at least this state of charge (percent); R156 §7.2.2.1 asks for "sufficient power".
DEFAULT_SOC_THRESHOLD_PCT = 30.0


class PreconditionSource(Protocol):
    """Parked state and state of charge (percent) of vehicles at an instant; None where unknown."""

    def __call__(self, vehicle_ids: np.ndarray, now: datetime) -> tuple[list[bool | None], list[float | None]]: ...


@dataclass(frozen=True)
class TelemetryPreconditions:
    """Preconditions from telemetry: the latest ``soc`` event at or before ``now`` per vehicle.

    Telemetry carries no parked signal, so ``parked`` is None (not recorded) unless the latest
    ``soc`` event's detail holds ``{"parked": true|false}``.
    """

    store: Store

    def __call__(self, vehicle_ids: np.ndarray, now: datetime) -> tuple[list[bool | None], list[float | None]]:
        found = udb.latest_soc(self.store, vehicle_ids.tolist(), now)
        parked: list[bool | None] = []
        soc: list[float | None] = []
        for vid in vehicle_ids.tolist():
            value, detail = found.get(int(vid), (None, None))
            flag = detail.get("parked") if isinstance(detail, dict) else None
            parked.append(flag if isinstance(flag, bool) else None)
            soc.append(value)
        return parked, soc


@dataclass
class RecordingLink:
    """A ``VehicleLink`` that stores the update evidence of every final answer of one campaign."""

    inner: VehicleLink
    store: Store
    campaign_id: int
    preconditions: PreconditionSource | None = None
    soc_threshold_pct: float = DEFAULT_SOC_THRESHOLD_PCT
    notes_shown: bool | None = None  # what the vehicles' HMI reports; None: not reported
    recorded: int = field(default=0, init=False)

    def deliver(
        self, release: ReleaseRecord, vehicle_ids: np.ndarray, cohorts: np.ndarray, *, forced: bool, now: datetime
    ) -> Delivery:
        before = udb.vehicle_states(self.store, vehicle_ids.tolist())
        source = self.preconditions or TelemetryPreconditions(self.store)
        parked, soc = source(vehicle_ids, now)
        delivery = self.inner.deliver(release, vehicle_ids, cohorts, forced=forced, now=now)
        expression = _expression(release)
        position = {int(v): i for i, v in enumerate(vehicle_ids.tolist())}
        rows = []
        for vid, outcome in zip(delivery.vehicle_ids.tolist(), delivery.outcomes.tolist(), strict=True):
            state = before.get(int(vid))
            if outcome not in FINAL_OUTCOMES or state is None:
                continue
            i = position[int(vid)]
            conditions = ReportedConditions(parked[i], soc[i], self.notes_shown)
            rows.append(evidence_row(self.campaign_id, int(vid), state, release, expression, outcome, now,
                                     conditions, forced=forced, soc_threshold_pct=self.soc_threshold_pct))
        udb.save_evidence(self.store, rows)
        self.recorded += len(rows)
        return delivery


@dataclass(frozen=True, slots=True)
class ReportedConditions:
    """What a vehicle says of its install preconditions and its HMI; None where it said nothing."""

    parked: bool | None = None
    state_of_charge_pct: float | None = None
    notes_shown: bool | None = None


def evidence_row(
    campaign_id: int, vehicle_id: int, state: udb.VehicleState, release: ReleaseRecord, expression: Any,
    outcome: str, now: datetime, conditions: ReportedConditions, *, forced: bool, soc_threshold_pct: float,
) -> dict[str, Any]:
    """One ``update_evidence`` row: the vehicle as it was offered the release, and its answer."""
    installed = state.software.get(release.ecu, {})
    return {
        "campaign_id": campaign_id,
        "vehicle_id": vehicle_id,
        "recorded_at": now,
        "version_before": installed.get("version"),
        "rxswin_before": dict(state.rxswin),
        "rxswin_after": _rxswin_after(state.rxswin, release.id, outcome),
        "hardware_id_found": state.hardware_ids.get(release.ecu),
        "configuration_matches": expression.evaluate(set(state.configuration)),
        "parked": conditions.parked,
        "state_of_charge_pct": conditions.state_of_charge_pct,
        "soc_threshold_pct": soc_threshold_pct,
        "notes_shown": conditions.notes_shown,
        # A soft update reaches a final outcome only after the driver accepted it (postponing
        # is its own answer); a forced one (safety recall) asks no consent.
        "consent": "forced" if forced else "accepted",
    }


def record_report_evidence(
    store: Store, campaign_id: int, vehicle_id: int, release: ReleaseRecord, outcome: str, state: udb.VehicleState,
    *, forced: bool, now: datetime, conditions: ReportedConditions = ReportedConditions(),
    soc_threshold_pct: float = DEFAULT_SOC_THRESHOLD_PCT,
) -> None:
    """The evidence of one answer that came through the API (``fleet.campaigns.report``).

    ``state`` is the vehicle as it was before its report was recorded. Preconditions the vehicle
    did not report are taken from its latest telemetry at ``now`` (``TelemetryPreconditions``).
    """
    if conditions.parked is None or conditions.state_of_charge_pct is None:
        parked, soc = TelemetryPreconditions(store)(np.array([vehicle_id], dtype=np.int64), now)
        conditions = ReportedConditions(
            conditions.parked if conditions.parked is not None else parked[0],
            conditions.state_of_charge_pct if conditions.state_of_charge_pct is not None else soc[0],
            conditions.notes_shown)
    row = evidence_row(campaign_id, vehicle_id, state, release, _expression(release), outcome, now, conditions,
                       forced=forced, soc_threshold_pct=soc_threshold_pct)
    udb.save_evidence(store, [row])


def _rxswin_after(rxswin: Mapping[str, str], release_id: str, outcome: str) -> dict[str, str]:
    """The identifications after the answer: renewed as the store renews them on success, else unchanged."""
    if outcome != "succeeded":
        return dict(rxswin)
    return {key: next_rxswin(value, release_id) for key, value in rxswin.items()}


def _identification(values: Mapping[str, Any] | None) -> str | None:
    """The one software identification a record shows: the UN R156 RXSWIN, else the vehicle's other
    regulation's (GB 44496 SWIN); a vehicle carries one per market."""
    values = values or {}
    if UNECE_SOFTWARE_ID in values:
        return str(values[UNECE_SOFTWARE_ID])
    return next((str(v) for _, v in sorted(values.items())), None)


def _expression(release: ReleaseRecord | udb.UpdateRow) -> Any:
    release_id = release.id if isinstance(release, ReleaseRecord) else release.release_id
    try:
        return parse_expression(release.compatible, source=f"release {release_id}")
    except ParseError as error:
        raise FleetError(f"release {release_id}: stored compatibility expression is unreadable: {error}") from error


def update_records(
    store: Store,
    *,
    campaign_id: int | None = None,
    vin: str | None = None,
    soc_threshold_pct: float = DEFAULT_SOC_THRESHOLD_PCT,
) -> list[UpdateRecord]:
    """The update records of a campaign and/or a vehicle (both None: every report), oldest first.

    Approvals listed are those of the release for the vehicle's market or any market above it
    (``DE`` is covered by an ``EU`` approval), as the campaign start checks them.
    """
    if vin is not None and not vdb.vehicle_ids(store, [vin]):
        raise FleetError(f"unknown vehicle {vin}")
    rows = udb.update_rows(store, campaign_id=campaign_id, vin=vin)
    parents = {m.id: m.parent for m in vdb.markets(store).values()}
    approvals: dict[str, list[rdb.ApprovalRecord]] = {}
    expressions: dict[str, Any] = {}
    out = []
    for row in rows:
        if row.release_id not in approvals:
            approvals[row.release_id] = rdb.approvals(store, row.release_id)
            expressions[row.release_id] = _expression(row)
        chain = set(market_lineage(row.market, parents))
        given = tuple(
            ApprovalInfo(a.market, a.authority, a.reference, a.approved_by, a.approved_at)
            for a in approvals[row.release_id] if a.market in chain
        )
        out.append(_record(row, given, expressions[row.release_id], soc_threshold_pct))
    return out


def _record(row: udb.UpdateRow, approvals: tuple[ApprovalInfo, ...], expression: Any, threshold: float) -> UpdateRecord:
    e = row.evidence
    if e is None:
        compatibility = CompatibilityCheck(row.compatible, expression.evaluate(set(row.configuration)), row.hardware_id,
                                           row.hardware_ids.get(row.ecu), "re-evaluated at export")
        information = UserInformation(row.notes, None, None)
        preconditions = Preconditions(None, None, threshold)
        rxswin_before = rxswin_after = version_before = None
    else:
        compatibility = CompatibilityCheck(row.compatible, bool(e["configuration_matches"]), row.hardware_id,
                                           e["hardware_id_found"], "at offer")
        information = UserInformation(row.notes, e["notes_shown"], e["consent"])
        preconditions = Preconditions(e["parked"], e["state_of_charge_pct"], float(e["soc_threshold_pct"]))
        rxswin_before = _identification(e["rxswin_before"])
        rxswin_after = _identification(e["rxswin_after"])
        version_before = e["version_before"]
    return UpdateRecord(
        vin=row.vin, campaign_id=row.campaign_id, campaign=row.campaign, release_id=row.release_id,
        component=row.component, ecu=row.ecu, version_before=version_before, version_after=row.version,
        market=row.market, rxswin_before=rxswin_before, rxswin_after=rxswin_after, compatibility=compatibility,
        approvals=approvals, information=information, preconditions=preconditions, outcome=row.outcome,
        detail=row.detail, offered_at=row.offered_at, reported_at=row.reported_at,
    )
