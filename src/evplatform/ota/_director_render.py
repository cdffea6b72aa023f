"""Per-vehicle Director metadata: the fast renderer and python-tuf's straightforward path.

The Director signs targets + snapshot + timestamp for every vehicle that checks in, so this is
its hot path. Profiling python-tuf's path (``Metadata[...]`` objects, ``to_dict``,
securesystemslib's pure-Python canonical JSON, ``CryptoSigner``) shows canonical JSON costing
more than ed25519. The fast renderer therefore

- keeps each assigned target as a ready canonical JSON fragment (built once per assignment with
  the C ``json`` encoder, which is byte-identical to canonical JSON for strings free of control
  characters, ``"`` and ``\\`` — checked when the fragment is built, see
  ``metadata_common.canonical_bytes``);
- concatenates the ``signed`` part from fixed templates in canonical key order
  (``_type`` < ``expires`` < ``meta``/``targets`` < ``spec_version`` < ``version``);
- signs with PyNaCl directly (same ed25519 signature as cryptography, fewer layers).

The output is ordinary TUF metadata: ``tests/ota/test_director.py`` parses it with python-tuf and
checks it with ``Metadata.verify_delegate`` and against ``render_reference``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.signer import Signer
from tuf.api.metadata import SPECIFICATION_VERSION, Metadata, MetaFile, Snapshot, TargetFile, Targets, Timestamp
from tuf.api.serialization.json import JSONSerializer

from evplatform.errors import OtaError
from evplatform.ota.keys import nacl_signing_key, public_key_of
from evplatform.ota.metadata_common import canonical_bytes, expires_text, fast_safe_string

ROLES = ("targets", "snapshot", "timestamp")
_SPEC = ".".join(SPECIFICATION_VERSION).encode()
_COMPACT = JSONSerializer(compact=True)


def target_fragment(path: str, length: int, sha256: str, custom: Mapping[str, Any]) -> bytes:
    """``"path":{...}`` in canonical JSON, ready to be joined into a targets map.

    The usual Director custom fields (strings and ints) are checked directly and encoded by the
    C encoder; anything else (a nested ``delta``, unusual characters) goes through the generic
    ``canonical_bytes``, which checks every value.
    """
    entry = {"custom": dict(custom), "hashes": {"sha256": sha256}, "length": length}
    if _flat_safe(path, sha256, custom):
        return json.dumps({path: entry}, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()[1:-1]
    return canonical_bytes({path: entry})[1:-1]


def _flat_safe(path: str, sha256: str, custom: Mapping[str, Any]) -> bool:
    if not (fast_safe_string(path) and fast_safe_string(sha256)):
        return False
    for key, value in custom.items():
        if not fast_safe_string(key):
            return False
        if isinstance(value, str):
            if not fast_safe_string(value):
                return False
        elif isinstance(value, bool) or not isinstance(value, int):
            return False
    return True


class FastRenderer:
    """Signs per-vehicle Director metadata from canonical templates with PyNaCl."""

    def __init__(self, keys: Mapping[str, Ed25519PrivateKey]) -> None:
        missing = [r for r in ROLES if r not in keys]
        if missing:
            raise OtaError(f"Director online keys missing for {', '.join(missing)}")
        self._nacl = {role: nacl_signing_key(keys[role]) for role in ROLES}
        self._prefix = {
            role: b'{"signatures":[{"keyid":"' + public_key_of(keys[role]).keyid.encode() + b'","sig":"'
            for role in ROLES
        }

    def _document(self, role: str, signed: bytes) -> bytes:
        signature = self._nacl[role].sign(signed).signature.hex().encode()
        return self._prefix[role] + signature + b'"}],"signed":' + signed + b"}"

    def render(self, vin: str, fragments: Sequence[bytes], versions: Sequence[int],
               expires: Sequence[str], time_for: tuple[str, str] | None = None) -> dict[str, bytes]:
        """Targets, snapshot and timestamp documents (whole files) for vehicle ``vin``.

        ``fragments`` must be sorted by target path (canonical key order); ``versions`` and
        ``expires`` are (targets, snapshot, timestamp). The targets carry ``custom.vin`` (Uptane
        5.2.3.1), so they cannot be replayed to another vehicle. ``time_for`` = (nonce, time): the
        timestamp then carries ``custom: {"nonce", "time"}``, the Director's time bound to the nonce
        of the vehicle's last manifest (a secure time source, see ``client/secure_time``).
        """
        check_fast_safe(vin)
        v_targets, v_snapshot, v_timestamp = (str(v).encode() for v in versions)
        e_targets, e_snapshot, e_timestamp = (e.encode() for e in expires)
        targets_signed = (b'{"_type":"targets","custom":{"vin":"' + vin.encode() + b'"},"expires":"' + e_targets
                          + b'","spec_version":"' + _SPEC
                          + b'","targets":{' + b",".join(fragments) + b'},"version":' + v_targets + b"}")
        targets = self._document("targets", targets_signed)
        snapshot_signed = (b'{"_type":"snapshot","expires":"' + e_snapshot + b'","meta":{"targets.json":'
                           + _meta(targets, v_targets) + b'},"spec_version":"' + _SPEC + b'","version":'
                           + v_snapshot + b"}")
        snapshot = self._document("snapshot", snapshot_signed)
        custom = b""
        if time_for is not None:
            check_fast_safe(*time_for)
            nonce, time = (text.encode() for text in time_for)
            custom = b'"custom":{"nonce":"' + nonce + b'","time":"' + time + b'"},'
        timestamp_signed = (b'{"_type":"timestamp",' + custom + b'"expires":"' + e_timestamp
                            + b'","meta":{"snapshot.json":'
                            + _meta(snapshot, v_snapshot) + b'},"spec_version":"' + _SPEC + b'","version":'
                            + v_timestamp + b"}")
        return {"targets": targets, "snapshot": snapshot, "timestamp": self._document("timestamp", timestamp_signed)}


def _meta(document: bytes, version: bytes) -> bytes:
    return (b'{"hashes":{"sha256":"' + hashlib.sha256(document).hexdigest().encode() + b'"},"length":'
            + str(len(document)).encode() + b',"version":' + version + b"}")


def check_fast_safe(*texts: str) -> None:
    """Refuse strings the fast renderer cannot place verbatim (control characters, quote, backslash).

    Such names have no business in ECU serials, hardware ids or image paths, so refusing them is
    simpler and safer than a second, slow code path.
    """
    for text in texts:
        if not fast_safe_string(text):
            raise OtaError(f"{text!r}: control characters, quotes and backslashes are not allowed in OTA names")


def render_reference(
    vin: str,
    targets: Mapping[str, tuple[int, str, Mapping[str, Any]]],
    versions: Sequence[int],
    expires: Sequence[datetime],
    signers: Mapping[str, Signer],
    time_for: tuple[str, str] | None = None,
) -> dict[str, bytes]:
    """The same three documents on python-tuf's straightforward path (the benchmark's anchor)."""
    files = {path: TargetFile(length, {"sha256": sha}, path, {"custom": dict(custom)})
             for path, (length, sha, custom) in targets.items()}
    targets_md = Metadata(Targets(version=versions[0], expires=expires[0], targets=files,
                                  unrecognized_fields={"custom": {"vin": vin}}))
    targets_md.sign(signers["targets"])
    targets_bytes = targets_md.to_bytes(_COMPACT)
    snapshot_md = Metadata(Snapshot(version=versions[1], expires=expires[1], meta={
        "targets.json": MetaFile(versions[0], len(targets_bytes), {"sha256": hashlib.sha256(targets_bytes).hexdigest()})
    }))
    snapshot_md.sign(signers["snapshot"])
    snapshot_bytes = snapshot_md.to_bytes(_COMPACT)
    timestamp_md = Metadata(Timestamp(version=versions[2], expires=expires[2], snapshot_meta=MetaFile(
        versions[1], len(snapshot_bytes), {"sha256": hashlib.sha256(snapshot_bytes).hexdigest()}),
        unrecognized_fields={"custom": {"nonce": time_for[0], "time": time_for[1]}} if time_for else None))
    timestamp_md.sign(signers["timestamp"])
    return {"targets": targets_bytes, "snapshot": snapshot_bytes, "timestamp": timestamp_md.to_bytes(_COMPACT)}


def expires_texts(moments: Sequence[datetime]) -> list[str]:
    return [expires_text(m) for m in moments]


def parse_compact(document: bytes) -> dict[str, Any]:
    """The JSON of a rendered document (used by tests and ``Director.verify``)."""
    parsed: dict[str, Any] = json.loads(document)
    return parsed
