"""Activation: which paid features a vehicle runs now, the changes it must be told, and their delivery.

The server clock decides: a feature is active while one of the vehicle's entitlements is valid at
``now`` (``valid_to`` exclusive), so an expired or cancelled entitlement deactivates the feature at
the next ``sync`` — nothing the vehicle says about time matters. ``sync`` compares that set with
what was last delivered (the replayed ``feature_changes``), records each activation and
deactivation with its reason, and, when a changed feature alters a type-approved function
(on-demand.yaml ``type_approval_relevant``), renews the vehicle's RXSWIN / SWIN with the same rule
as software updates (``ota.records.next_rxswin``) in the same transaction: the UN R156 / GB 44496
record of the change (``change_records``) says whether the RXSWIN changed.

The vehicle receives the complete set of active features as one small JSON configuration target,
signed into the Image repository and assigned by the Director to the ECU of the workspace's
delivery component like any image (``deliver``): the vehicle's Uptane client verifies it exactly
as it verifies software, and the per-vehicle release counter makes an older configuration a
rollback the client refuses.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from securesystemslib.signer import Signer

from evplatform.errors import NotFoundError, OtaError
from evplatform.ota.assignment import Assignment
from evplatform.ota.image_repository import ImageTarget
from evplatform.ota.records import next_rxswin
from evplatform.ota.service import OtaService
from evplatform.store import Store
from evplatform.store import entitlements as edb
from evplatform.store import vehicles as vdb
from evplatform.workspace.model import Workspace

logger = logging.getLogger(__name__)

FORMAT = "evplatform-feature-configuration"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Change:
    feature: str
    change: str  # activate | deactivate
    reason: str  # purchase | cancel | expiry | withdrawn
    type_approval_relevant: bool

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "change": self.change, "reason": self.reason,
                "type_approval_relevant": self.type_approval_relevant}


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one ``sync`` decided for one vehicle (``changes`` empty: nothing to deliver)."""

    vin: str
    counter: int
    active: Mapping[str, datetime | None]  # feature -> valid until (None: open)
    changes: tuple[Change, ...]
    rxswin_before: Mapping[str, str]
    rxswin_after: Mapping[str, str]
    target: str | None
    document: bytes | None

    @property
    def rxswin_changed(self) -> bool:
        return dict(self.rxswin_before) != dict(self.rxswin_after)

    def to_dict(self) -> dict[str, Any]:
        return {"vin": self.vin, "counter": self.counter, "target": self.target,
                "active": {f: (u.isoformat() if u else None) for f, u in sorted(self.active.items())},
                "changes": [c.to_dict() for c in self.changes], "rxswin_changed": self.rxswin_changed,
                "rxswin_before": dict(self.rxswin_before), "rxswin_after": dict(self.rxswin_after)}


def active_features(records: Sequence[edb.EntitlementRecord], now: datetime) -> dict[str, datetime | None]:
    """Feature -> the end of its latest valid entitlement at ``now`` (None: open-ended)."""
    out: dict[str, datetime | None] = {}
    for record in records:
        if not record.active_at(now):
            continue
        current = out.get(record.feature, record.valid_from)
        if record.feature not in out or _later(record.valid_to, current):
            out[record.feature] = record.valid_to
    return out


def _later(end: datetime | None, current: datetime | None) -> bool:
    """Whether an entitlement ending at ``end`` outlasts one ending at ``current`` (None: never ends)."""
    if current is None:
        return False
    return end is None or end > current


def delivered_state(changes: Sequence[edb.ChangeRecord]) -> tuple[set[str], int]:
    """The features the vehicle was last told to run, and the last configuration counter."""
    active: set[str] = set()
    counter = 0
    for change in changes:
        if change.change == "activate":
            active.add(change.feature)
        else:
            active.discard(change.feature)
        counter = max(counter, change.counter)
    return active, counter


def target_path(vin: str, counter: int) -> str:
    return f"config/{vin}/features-{counter}.json"


def configuration_document(vin: str, counter: int, active: Mapping[str, datetime | None], now: datetime) -> bytes:
    """The configuration target's bytes: canonical JSON (sorted keys, no spaces), so it hashes stably."""
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "vin": vin, "counter": counter,
               "issued_at": now.astimezone(UTC).isoformat(),
               "features": [{"id": f, "until": u.astimezone(UTC).isoformat() if u else None}
                            for f, u in sorted(active.items())]}
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def read_configuration(data: bytes) -> dict[str, Any]:
    """The vehicle side: parse a verified configuration target; OtaError when it is not one."""
    try:
        payload = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise OtaError(f"feature configuration is not JSON: {error}") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise OtaError("not an evplatform feature configuration")
    return payload


def _reason(feature: str, records: Sequence[edb.EntitlementRecord], ws: Workspace, now: datetime) -> str:
    if feature not in ws.on_demand.features:
        return "withdrawn"
    ended = [r for r in records if r.feature == feature and r.valid_to is not None and r.valid_to <= now]
    latest = max(ended, key=lambda r: r.valid_to or now, default=None)
    return "cancel" if latest is not None and latest.cancelled_at is not None else "expiry"


def plan(ws: Workspace, records: Sequence[edb.EntitlementRecord], delivered: set[str],
         now: datetime) -> tuple[dict[str, datetime | None], list[Change]]:
    """The active set at ``now`` and the changes from ``delivered`` to it (activations first)."""
    active = active_features(records, now)
    active = {f: u for f, u in active.items() if f in ws.on_demand.features}  # a withdrawn feature stops
    changes = []
    for feature in sorted(set(active) - delivered):
        changes.append(Change(feature, "activate", "purchase", ws.on_demand.features[feature].type_approval_relevant))
    for feature in sorted(delivered - set(active)):
        known = ws.on_demand.features.get(feature)
        changes.append(Change(feature, "deactivate", _reason(feature, records, ws, now),
                              bool(known and known.type_approval_relevant)))
    return active, changes


def renewed_rxswin(rxswin: Mapping[str, str], vin: str, counter: int, changes: Sequence[Change]) -> dict[str, str]:
    """The identifications after the changes: renewed once per type-approval relevant change."""
    out = dict(rxswin)
    for change in changes:
        if change.type_approval_relevant:
            out = {k: next_rxswin(v, f"feature:{change.feature}:{change.change}:{vin}:{counter}")
                   for k, v in out.items()}
    return out


def sync(store: Store, ws: Workspace, vin: str, *, actor: str, now: datetime | None = None) -> SyncResult:
    """Bring the recorded state of ``vin`` to its entitlements at the server clock (``now``)."""
    now = now or store.now()
    vehicle = vdb.vehicle_by_vin(store, vin)
    if vehicle is None:
        raise NotFoundError("vehicle", vin)
    records = edb.entitlements(store, vin=vin)
    delivered, counter = delivered_state(edb.changes(store, vin=vin))
    active, changes = plan(ws, records, delivered, now)
    before = dict(vehicle.rxswin)
    if not changes:
        return SyncResult(vin, counter, active, (), before, before, None, None)
    counter += 1
    after = renewed_rxswin(before, vin, counter, changes)
    path = target_path(vin, counter)
    rows = [{"feature": c.feature, "change": c.change, "reason": c.reason, "at": now,
             "type_approval_relevant": c.type_approval_relevant, "rxswin_before": before, "rxswin_after": after,
             "counter": counter, "target": path} for c in changes]
    note = edb.AuditNote(actor, "fod.sync", f"vehicle:{vin}",
                         {"counter": counter, "changes": [c.to_dict() for c in changes],
                          "rxswin_changed": after != before})
    edb.record_changes(store, vehicle.id, rows, after if after != before else None, note)
    logger.info("features on demand for %s: %s", vin, ", ".join(f"{c.change} {c.feature}" for c in changes),
                extra={"event": "fod_sync", "vin": vin, "counter": counter})
    return SyncResult(vin, counter, active, tuple(changes), before, after, path,
                      configuration_document(vin, counter, active, now))


def sync_due(store: Store, ws: Workspace, *, actor: str, now: datetime | None = None) -> list[SyncResult]:
    """``sync`` every vehicle holding an entitlement; returns those that changed (expiry sweeps)."""
    now = now or store.now()
    results = [sync(store, ws, vin, actor=actor, now=now) for vin in edb.vehicles_with_entitlements_since(store, None)]
    return [r for r in results if r.changes]


def deliver(service: OtaService, signers: Sequence[Signer], ws: Workspace, result: SyncResult) -> Assignment:
    """Sign the configuration into the Image repository and assign it to the vehicle's delivery ECU.

    ``signers`` are the Image repository's targets signers. Refused (OtaError, nothing assigned):
    a vehicle not registered with the Director, or one without an ECU of the delivery hardware.
    """
    component = ws.on_demand.delivery
    if component is None or result.document is None or result.target is None:
        raise OtaError(f"{result.vin}: nothing to deliver (no delivery component or no change)")
    record = service.vehicle(result.vin)
    serials = [s for s, ecu in record.ecus.items() if ecu.hardware_id == component.hardware_id]
    if not serials:
        raise OtaError(f"vehicle {result.vin} has no ECU of hardware {component.hardware_id} "
                       f"({component.id}) to receive its feature configuration")
    service.image_store.put(result.document)
    target = ImageTarget.from_data(result.target, result.document, component=f"features-{result.vin}",
                                   version=str(result.counter), hardware_id=component.hardware_id,
                                   release_counter=result.counter)
    service.add_targets([target], signers)
    assignment = service.assign(result.vin, serials[0], result.target)
    logger.info("feature configuration %s assigned to %s ECU %s", result.target, result.vin, serials[0],
                extra={"event": "fod_delivered", "vin": result.vin, "target": result.target})
    return assignment


def change_records(store: Store, vin: str | None = None) -> list[dict[str, Any]]:
    """The UN R156 / GB 44496 records of feature changes: what changed, why, and whether the RXSWIN did."""
    return [{"vin": c.vin, "feature": c.feature, "change": c.change, "reason": c.reason, "at": c.at.isoformat(),
             "type_approval_relevant": c.type_approval_relevant,
             "rxswin_changed": (c.rxswin_before or {}) != (c.rxswin_after or {}),
             "rxswin_before": dict(c.rxswin_before or {}), "rxswin_after": dict(c.rxswin_after or {}),
             "counter": c.counter, "target": c.target}
            for c in edb.changes(store, vin=vin)]
