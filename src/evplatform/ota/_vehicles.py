"""What the Director keeps per vehicle, and its ``vehicle.json`` file (written atomically)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from securesystemslib.signer import SSlibKey

from evplatform.errors import OtaError
from evplatform.ota.assignment import Assignment, DeltaOffer
from evplatform.ota.keys import key_from_json, key_to_json
from evplatform.ota.metadata_common import parse_json, write_atomic


@dataclass(frozen=True, slots=True)
class EcuRecord:
    serial: str
    hardware_id: str
    public_key: SSlibKey


@dataclass(slots=True)
class ReportState:
    """Last accepted ECU version report: replay protection needs both to increase."""

    report_counter: int
    time: str


@dataclass(slots=True)
class VehicleRecord:
    vin: str
    primary_serial: str
    ecus: dict[str, EcuRecord]
    assignments: dict[str, Assignment] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    reports: dict[str, ReportState] = field(default_factory=dict)
    installed: dict[str, dict[str, Any]] = field(default_factory=dict)  # serial -> {filepath, sha256, length}
    manifest_time: str | None = None
    nonce: str | None = None  # of the last accepted manifest: the next timestamp binds the Director's time to it
    #: canonical target fragments of ``assignments`` (sorted by path); None = to be rebuilt
    fragments: list[bytes] | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "vin": self.vin,
            "primary_ecu_serial": self.primary_serial,
            "ecus": {s: {"hardware_id": e.hardware_id, "public_key": key_to_json(e.public_key)}
                     for s, e in self.ecus.items()},
            "assignments": {s: _assignment_json(a) for s, a in self.assignments.items()},
            "versions": self.versions,
            "reports": {s: {"report_counter": r.report_counter, "time": r.time} for s, r in self.reports.items()},
            "installed": self.installed,
            "manifest_time": self.manifest_time,
            "nonce": self.nonce,
        }


def _assignment_json(a: Assignment) -> dict[str, Any]:
    data: dict[str, Any] = {"filepath": a.filepath, "length": a.length, "sha256": a.sha256,
                            "hardware_id": a.hardware_id, "release_counter": a.release_counter}
    custom = a.custom()
    if "delta" in custom:
        data["delta"], data["delta_from"] = custom["delta"], custom["delta_from"]
    return data


def _assignment_of(serial: str, a: dict[str, Any]) -> Assignment:
    """An assignment from ``vehicle.json`` (files written before the shared type also hold
    ``component`` and ``version``, which the Director target never carried: ignored)."""
    delta = a.get("delta")
    offer = None if delta is None else DeltaOffer(str(a["delta_from"]), str(delta["algorithm"]),
                                                  str(delta["sha256"]), int(delta["length"]))
    return Assignment(serial, str(a["hardware_id"]), str(a["filepath"]), int(a["length"]), {"sha256": str(a["sha256"])},
                      int(a["release_counter"]), offer)


def write_vehicle(folder: Path, record: VehicleRecord, *, durable: bool = True) -> None:
    # compact: with ``indent`` json falls back to its pure-Python encoder, 2 ms a vehicle with 8 ECUs
    # (most of a bulk publish's CPU, ``ota.bulk``); the C encoder writes it in a tenth of that
    text = json.dumps(record.to_json(), sort_keys=True, separators=(",", ":"))
    write_atomic(folder / "vehicle.json", text.encode("utf-8"),
                 durable=durable)


def read_vehicle(folder: Path) -> VehicleRecord:
    path = folder / "vehicle.json"
    data = parse_json(path.read_bytes(), str(path))
    try:
        ecus = {s: EcuRecord(s, str(e["hardware_id"]), key_from_json(e["public_key"], str(path)))
                for s, e in data["ecus"].items()}
        assignments = {s: _assignment_of(s, a) for s, a in data.get("assignments", {}).items()}
        reports = {s: ReportState(int(r["report_counter"]), str(r["time"])) for s, r in data.get("reports", {}).items()}
        return VehicleRecord(str(data["vin"]), str(data["primary_ecu_serial"]), ecus, assignments,
                             {k: int(v) for k, v in data.get("versions", {}).items()}, reports,
                             dict(data.get("installed", {})), data.get("manifest_time"), data.get("nonce"))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise OtaError(f"{path}: malformed vehicle record ({error})") from error
