"""ECU version reports and the vehicle version manifest (Uptane 2.1.0 5.4.2.1.1-5.4.2.1.2).

Each ECU signs a report of what it runs with its own key; the primary signs the manifest that
bundles them. Format (docs INTERFACES, canonical JSON via securesystemslib's dialect)::

    {"signed": {"vin", "primary_ecu_serial", "ecu_version_reports": {serial: REPORT},
                ["nonce"], ["install_deferred"]}, "signatures": [...]}
    REPORT = {"signed": {"ecu_serial", "installed_image": {"filepath", "fileinfo": {"hashes", "length"}},
                         "time", "attacks_detected", "report_counter"}, "signatures": [...]}

``report_counter`` grows by one per report so the Director can refuse a replayed manifest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from securesystemslib.signer import Signer

from evplatform.ota.client.slots import SlotImage
from evplatform.ota.metadata_common import canonical_bytes, expires_text


def _canonical(signed: Mapping[str, Any]) -> bytes:
    """Canonical JSON; the C encoder's output when it needed no escape (then they are identical)."""
    text = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8") if "\\" not in text else canonical_bytes(dict(signed))


def sign_document(signed: Mapping[str, Any], signers: list[Signer]) -> dict[str, Any]:
    """``{"signed": ..., "signatures": [...]}`` over the canonical JSON of ``signed``."""
    payload = _canonical(signed)
    return {"signed": dict(signed), "signatures": [s.sign(payload).to_dict() for s in signers]}


def ecu_version_report(
    ecu_serial: str,
    installed: SlotImage | None,
    now: datetime,
    report_counter: int,
    attacks_detected: str,
    signer: Signer,
) -> dict[str, Any]:
    """One ECU's signed report of its installed (active, committed) image."""
    image: dict[str, Any]
    if installed is None:
        image = {"filepath": "", "fileinfo": {"hashes": {"sha256": ""}, "length": 0}}  # nothing installed yet
    else:
        image = {
            "filepath": installed.filepath,
            "fileinfo": {"hashes": {"sha256": installed.sha256}, "length": installed.length},
        }
    signed = {
        "ecu_serial": ecu_serial,
        "installed_image": image,
        "time": expires_text(now),
        "attacks_detected": attacks_detected,
        "report_counter": report_counter,
    }
    return sign_document(signed, [signer])


def vehicle_manifest(
    vin: str, primary_ecu_serial: str, reports: Mapping[str, dict[str, Any]], primary_signer: Signer,
    nonce: str | None = None, *, install_deferred: str | None = None,
) -> bytes:
    """The primary-signed manifest of all ECU reports, as the bytes sent to the Director.

    ``nonce`` (fresh per manifest) asks the Director to sign its time bound to it in the next
    timestamp: a time the vehicle can trust because no one could have signed it in advance.
    ``install_deferred`` says why an assigned install waits (UN R156 preconditions not met): not
    an attack, so not in ``attacks_detected``.
    """
    signed: dict[str, Any] = {"vin": vin, "primary_ecu_serial": primary_ecu_serial,
                              "ecu_version_reports": dict(reports)}
    if nonce is not None:
        signed["nonce"] = nonce
    if install_deferred is not None:
        signed["install_deferred"] = install_deferred
    document = sign_document(signed, [primary_signer])
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")
