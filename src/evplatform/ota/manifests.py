"""Vehicle version manifests: signing (vehicle side helpers) and verification by the Director.

Uptane standard 1.2, 5.4.2.1 (ECU version report) and 5.4.2 (vehicle version manifest): each
ECU signs a report of what it has installed, with a counter/time that only moves forward; the
primary ECU gathers them into a manifest for its VIN and signs that. The Director (5.3.2.1)
checks the primary's signature with the key registered for that vehicle, each report's signature
with that ECU's registered key, and refuses reports that do not move forward (a replayed
manifest), before it trusts anything the vehicle says it runs.

Format (INTERFACES.md)::

    {"signed": {"vin", "primary_ecu_serial", "ecu_version_reports": {serial: {"signed": {
        "ecu_serial", "installed_image": {"filepath", "fileinfo": {"hashes": {"sha256"}, "length"}},
        "time" | "timeserver_time", "previous_timeserver_time"?, "attacks_detected", "report_counter"},
      "signatures": [...]}}}, "signatures": [{"keyid", "sig"}]}

Signatures are ed25519 over the canonical JSON (securesystemslib) of the ``signed`` part.
Verification uses PyNaCl directly (about twice as fast as ``cryptography`` here) and the C JSON
encoder for canonical bytes when the raw manifest has no escapes (``metadata_common``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import nacl.exceptions
from nacl.bindings import crypto_sign_open
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import Signer, SSlibKey

from evplatform.errors import OtaError
from evplatform.ota._vehicles import ReportState, VehicleRecord
from evplatform.ota.keys import nacl_verify_key
from evplatform.ota.metadata_common import canonical_bytes, parse_json

MAX_MANIFEST_BYTES = 256 * 1024  # endless-data bound: 8 ECUs need ~5 KiB
DEFAULT_CLOCK_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class EcuReport:
    """One verified ECU version report."""

    ecu_serial: str
    filepath: str
    sha256: str
    length: int
    time: str
    report_counter: int
    attacks_detected: str

    def to_json(self) -> dict[str, Any]:
        return {"ecu_serial": self.ecu_serial, "filepath": self.filepath, "sha256": self.sha256,
                "length": self.length, "time": self.time, "report_counter": self.report_counter,
                "attacks_detected": self.attacks_detected}


@dataclass(frozen=True, slots=True)
class ManifestResult:
    """A manifest the Director accepted: what each ECU runs, and what it did not hear from."""

    vin: str
    primary_ecu_serial: str
    reports: dict[str, EcuReport]
    missing_ecus: tuple[str, ...] = ()
    attacks_detected: dict[str, str] = field(default_factory=dict)
    nonce: str | None = None  # the vehicle's, for the Director's next signed time

    def to_json(self) -> dict[str, Any]:
        return {"vin": self.vin, "primary_ecu_serial": self.primary_ecu_serial, "accepted": True,
                "reports": {s: r.to_json() for s, r in self.reports.items()},
                "missing_ecus": list(self.missing_ecus), "attacks_detected": self.attacks_detected}


# -- vehicle side: building signed reports and manifests ------------------------------------
def _signature(signer: Signer, signed: Mapping[str, Any]) -> dict[str, str]:
    text = encode_canonical(dict(signed))
    if text is None:
        raise AssertionError("cannot happen")  # an invariant, kept under python -O
    return dict(signer.sign(text.encode("utf-8")).to_dict())


def sign_ecu_report(signer: Signer, ecu_serial: str, filepath: str, sha256: str, length: int, *,
                    time: str, report_counter: int, previous_time: str | None = None,
                    attacks_detected: str = "") -> dict[str, Any]:
    """An ECU version report signed by the ECU's key (the form a primary collects)."""
    signed: dict[str, Any] = {
        "ecu_serial": ecu_serial,
        "installed_image": {"filepath": filepath, "fileinfo": {"hashes": {"sha256": sha256}, "length": length}},
        "time": time,
        "attacks_detected": attacks_detected,
        "report_counter": report_counter,
    }
    if previous_time is not None:
        signed["previous_timeserver_time"] = previous_time
    return {"signed": signed, "signatures": [_signature(signer, signed)]}


def sign_vehicle_manifest(signer: Signer, vin: str, primary_ecu_serial: str,
                          reports: Mapping[str, Mapping[str, Any]]) -> bytes:
    """The vehicle version manifest, signed by the primary ECU key, as bytes to upload."""
    signed = {"vin": vin, "primary_ecu_serial": primary_ecu_serial,
              "ecu_version_reports": {s: dict(r) for s, r in reports.items()}}
    return json.dumps({"signed": signed, "signatures": [_signature(signer, signed)]},
                      sort_keys=True, separators=(",", ":")).encode("utf-8")


# -- Director side -----------------------------------------------------------------------
class ManifestVerifier:
    """Checks manifests against a vehicle's registered keys and last counters; no I/O.

    ``verify`` raises OtaError at the first problem and changes nothing; ``apply`` then records
    the accepted counters, so a failed manifest never moves the replay window.
    """

    def __init__(self, clock_tolerance: timedelta = DEFAULT_CLOCK_TOLERANCE) -> None:
        self.clock_tolerance = clock_tolerance
        self._raw_keys: dict[str, bytes] = {}

    def _raw_key(self, key: SSlibKey) -> bytes:
        """Raw 32-byte ed25519 public key (checked once by PyNaCl, then cached by key id)."""
        found = self._raw_keys.get(key.keyid)
        if found is None:
            found = self._raw_keys[key.keyid] = bytes(nacl_verify_key(key))
        return found

    def verify(self, vin: str, data: bytes, record: VehicleRecord, now: datetime) -> ManifestResult:
        """Verify a manifest from ``vin``; OtaError says what is wrong (nothing is recorded)."""
        source = f"manifest from {vin}"
        if len(data) > MAX_MANIFEST_BYTES:
            raise OtaError(f"{source}: {len(data)} bytes exceeds the {MAX_MANIFEST_BYTES}-byte limit")
        parsed = parse_json(data, source)
        fast = b"\\" not in data  # no escapes anywhere: the C encoder gives canonical bytes
        signed = _object(parsed, "signed", source)
        if signed.get("vin") != vin:
            raise OtaError(f"{source}: the manifest is for VIN {signed.get('vin')!r}")
        primary = signed.get("primary_ecu_serial")
        if primary != record.primary_serial:
            raise OtaError(f"{source}: primary ECU {primary!r} is not the registered {record.primary_serial!r}")
        nonce = signed.get("nonce")
        if nonce is not None and (not isinstance(nonce, str) or not _NONCE.fullmatch(nonce)):
            raise OtaError(f"{source}: 'nonce' must be 16 to 64 hexadecimal digits")
        reports = _object(signed, "ecu_version_reports", source)
        payloads: dict[str, bytes] = {}
        for serial, report in reports.items():
            if serial not in record.ecus:
                raise OtaError(f"{source}: ECU {serial!r} is not registered for this vehicle")
            if not isinstance(report, dict) or not isinstance(report.get("signed"), dict):
                raise OtaError(f"{source}, ECU {serial}: the version report has no 'signed' object")
            payloads[serial] = _payload(report["signed"], fast)
        # Uptane 5.4.2: the manifest is signed by the primary's key.
        self._check_signature(parsed, _primary_payload(signed, reports, payloads, fast),
                              record.ecus[record.primary_serial].public_key, source)
        verified: dict[str, EcuReport] = {}
        for serial, report in reports.items():
            where = f"{source}, ECU {serial}"
            # Uptane 5.4.2.1: each ECU signs its own report.
            self._check_signature(report, payloads[serial], record.ecus[serial].public_key, where)
            verified[serial] = self._report(report["signed"], serial, record.reports.get(serial), now, where)
        missing = tuple(s for s in record.ecus if s not in verified)
        if missing:
            # Uptane 5.4.2: a report from every ECU. A manifest that leaves one out could hide what
            # that ECU runs (or that it was swapped), so it is refused, not recorded in part.
            raise OtaError(f"{source}: no version report from registered ECU(s) {', '.join(missing)}")
        attacks = {s: r.attacks_detected for s, r in verified.items() if r.attacks_detected}
        return ManifestResult(vin, record.primary_serial, verified, missing, attacks, nonce)

    def _check_signature(self, document: Mapping[str, Any], payload: bytes, key: SSlibKey, where: str) -> None:
        signatures = document.get("signatures")
        if not isinstance(signatures, list):
            raise OtaError(f"{where}: expected a 'signatures' list")
        for signature in signatures:
            if isinstance(signature, dict) and signature.get("keyid") == key.keyid:
                try:
                    crypto_sign_open(bytes.fromhex(str(signature.get("sig", ""))) + payload, self._raw_key(key))
                    return
                except (nacl.exceptions.BadSignatureError, ValueError, TypeError) as error:
                    raise OtaError(f"{where}: bad signature by key {key.keyid[:12]}…") from error
        raise OtaError(f"{where}: not signed by the registered key {key.keyid[:12]}…")

    def _report(self, signed: Mapping[str, Any], serial: str, last: ReportState | None, now: datetime,
                where: str) -> EcuReport:
        if signed.get("ecu_serial") != serial:
            raise OtaError(f"{where}: the report names ECU {signed.get('ecu_serial')!r}")
        try:
            image = signed["installed_image"]
            fileinfo = image["fileinfo"]
            counter = signed["report_counter"]
            time = signed.get("time", signed.get("timeserver_time"))
            report = EcuReport(serial, str(image["filepath"]), str(fileinfo["hashes"]["sha256"]),
                               int(fileinfo["length"]), str(time), counter, str(signed.get("attacks_detected", "")))
        except (KeyError, TypeError, ValueError) as error:
            raise OtaError(f"{where}: malformed version report (missing or bad {error})") from error
        if isinstance(counter, bool) or not isinstance(counter, int) or counter < 0:
            raise OtaError(f"{where}: report_counter must be a non-negative integer")
        moment = _time(report.time, where)
        if moment > now + self.clock_tolerance:
            raise OtaError(f"{where}: report time {report.time} is ahead of the Director's clock (clock skew)")
        if last is not None:
            if counter <= last.report_counter:
                raise OtaError(f"{where}: replayed report (counter {counter}, last accepted {last.report_counter})")
            if moment < _time(last.time, where):
                raise OtaError(f"{where}: report time {report.time} is before the last accepted {last.time} (replay)")
        return report

    @staticmethod
    def apply(record: VehicleRecord, result: ManifestResult) -> None:
        """Record an accepted manifest: counters, times and installed images per ECU."""
        for serial, report in result.reports.items():
            record.reports[serial] = ReportState(report.report_counter, report.time)
            record.installed[serial] = {"filepath": report.filepath, "sha256": report.sha256, "length": report.length}
        record.nonce = result.nonce
        times = [r.time for r in result.reports.values()]
        if times:
            record.manifest_time = max(times)


_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_MANIFEST_KEYS = frozenset({"vin", "primary_ecu_serial", "ecu_version_reports"})
_NONCE = re.compile(r"[0-9a-f]{16,64}")
_REPORT_KEYS = frozenset({"signed", "signatures"})


def _payload(signed: Mapping[str, Any], fast: bool) -> bytes:
    """Canonical bytes of a ``signed`` part (C encoder when the raw manifest had no escapes).

    JSON can spell a lone surrogate (``\\ud800``) that no UTF-8 text holds: such a part has no
    canonical bytes, so it cannot carry a valid signature and is refused as malformed.
    """
    try:
        return _ENCODE(signed).encode("utf-8") if fast else canonical_bytes(signed)
    except UnicodeEncodeError as error:
        raise OtaError(f"malformed manifest: a string is not valid Unicode ({error.reason})") from error


def _primary_payload(signed: Mapping[str, Any], reports: Mapping[str, Any], payloads: Mapping[str, bytes],
                     fast: bool) -> bytes:
    """Canonical bytes of the manifest's ``signed`` part, reusing the reports' payloads.

    The reports are most of the manifest; assembling ``{"ecu_version_reports":{…},
    "primary_ecu_serial":…,"vin":…}`` (canonical key order) from their already encoded ``signed``
    parts avoids encoding them twice. Any other shape takes the generic path.
    """
    if not fast or set(signed) - {"nonce"} != _MANIFEST_KEYS or any(set(r) != _REPORT_KEYS for r in reports.values()):
        return _payload(signed, fast)
    entries = [
        _ENCODE(serial).encode() + b':{"signatures":' + _ENCODE(reports[serial]["signatures"]).encode()
        + b',"signed":' + payloads[serial] + b"}"
        for serial in sorted(reports)
    ]
    nonce = b',"nonce":' + _ENCODE(signed["nonce"]).encode() if "nonce" in signed else b""
    return (b'{"ecu_version_reports":{' + b",".join(entries) + b"}" + nonce + b',"primary_ecu_serial":'
            + _ENCODE(signed["primary_ecu_serial"]).encode() + b',"vin":' + _ENCODE(signed["vin"]).encode() + b"}")


def _object(parent: Any, name: str, source: str) -> dict[str, Any]:
    value = parent.get(name) if isinstance(parent, dict) else None
    if not isinstance(value, dict):
        raise OtaError(f"{source}: '{name}' must be an object")
    return value


def _time(text: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise OtaError(f"{where}: time {text!r} is not ISO 8601") from error
    if moment.tzinfo is None:
        raise OtaError(f"{where}: time {text!r} has no time zone")
    return moment
