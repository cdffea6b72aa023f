"""Repository-side check of a whole metadata folder, as a client would see it (used by `ota verify`).

No I/O beyond reading the folder and no early exit: every problem is collected so the report
says all that is wrong at once. The vehicle client (``ota/client``) does its own verification;
this is the operator's check before and after signing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tuf.api.exceptions import LengthOrHashMismatchError, UnsignedMetadataError
from tuf.api.metadata import Metadata, Root

from evplatform.errors import OtaError
from evplatform.ota import _roots
from evplatform.ota._role_files import RoleFiles


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass(slots=True)
class VerificationReport:
    """Every check made on a repository and its outcome."""

    source: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def problems(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.checks if not c.ok]

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, ok, detail))

    def extend(self, other: VerificationReport) -> None:
        self.checks.extend(other.checks)

    def raise_for_problems(self) -> None:
        if not self.ok:
            raise OtaError(f"{self.source}: " + "; ".join(self.problems))

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "ok": self.ok,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks]}


def verify_repository(files: RoleFiles, now: datetime, source: str,
                      uptane_fields: Mapping[str, type]) -> VerificationReport:
    """Root chain, then targets/snapshot/timestamp against the newest root."""
    report = VerificationReport(source)
    try:
        chain = files.root_chain()
        current = files.read("root")
    except OtaError as error:
        report.add("root", False, str(error))
        return report
    problems = _roots.verify_root_chain(chain, source)
    report.add("root chain", not problems, "; ".join(problems) or f"{len(chain)} root version(s)")
    if chain and files.read_bytes("root") != files.read_bytes("root", chain[-1].signed.version):
        report.add("root.json", False, f"differs from {chain[-1].signed.version}.root.json")
    report.add("root expiry", not current.signed.is_expired(now), f"expires {current.signed.expires:%Y-%m-%d %H:%M}")
    report.extend(verify_top_level(files, current.signed, now, source, uptane_fields))
    return report


def verify_top_level(files: RoleFiles, root: Root, now: datetime, source: str,
                     uptane_fields: Mapping[str, type], versioned: bool = True) -> VerificationReport:
    """Signatures, expiry, version/length/hash links and Uptane custom fields of the three other roles."""
    report = VerificationReport(source)
    loaded: dict[str, tuple[Metadata[Any], bytes]] = {}
    for role in ("timestamp", "snapshot", "targets"):
        try:
            data = files.read_bytes(role)
            metadata = files.read(role)
        except OtaError as error:
            report.add(role, False, str(error))
            continue
        loaded[role] = (metadata, data)
        try:
            root.verify_delegate(role, metadata.signed_bytes, metadata.signatures)
            report.add(f"{role} signatures", True, f"v{metadata.signed.version}")
        except UnsignedMetadataError as error:
            report.add(f"{role} signatures", False, str(error))
        expired = metadata.signed.is_expired(now)
        report.add(f"{role} expiry", not expired,
                   ("expired " if expired else "expires ") + f"{metadata.signed.expires:%Y-%m-%d %H:%M}")
        if versioned and role != "timestamp":
            try:
                same = files.read_bytes(role, metadata.signed.version) == data
                detail = "" if same else f"{metadata.signed.version}.{role}.json differs"
                report.add(f"{role} versioned copy", same, detail)
            except OtaError as error:
                report.add(f"{role} versioned copy", False, str(error))
    if "timestamp" in loaded and "snapshot" in loaded:
        _check_link(report, "timestamp → snapshot", loaded["timestamp"][0].signed.snapshot_meta, loaded["snapshot"])
    if "snapshot" in loaded and "targets" in loaded:
        meta = loaded["snapshot"][0].signed.meta.get("targets.json")
        if meta is None:
            report.add("snapshot → targets", False, "snapshot does not list targets.json")
        else:
            _check_link(report, "snapshot → targets", meta, loaded["targets"])
    if "targets" in loaded:
        report.extend(_check_custom(loaded["targets"][0], source, uptane_fields))
    return report


def _check_link(report: VerificationReport, name: str, meta: Any, target: tuple[Metadata[Any], bytes]) -> None:
    metadata, data = target
    if meta.version != metadata.signed.version:
        report.add(name, False, f"points at v{meta.version}, the file is v{metadata.signed.version}")
        return
    try:
        meta.verify_length_and_hashes(data)
        report.add(name, True, f"v{meta.version}")
    except LengthOrHashMismatchError as error:
        report.add(name, False, str(error))


def _check_custom(targets: Metadata[Any], source: str, fields: Mapping[str, type]) -> VerificationReport:
    report = VerificationReport(source)
    bad: list[str] = []
    for path, target in targets.signed.targets.items():
        custom = target.unrecognized_fields.get("custom")
        if not isinstance(custom, dict):
            bad.append(f"{path}: no custom fields")
            continue
        for name, kind in fields.items():
            value = custom.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                bad.append(f"{path}: custom field {name!r} missing or not {kind.__name__}")
    report.add("Uptane custom fields", not bad, "; ".join(bad) or f"{len(targets.signed.targets)} target(s)")
    return report
