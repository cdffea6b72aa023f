"""One metadata file checked on its own: structure, key ids, signatures, hashes. No state, no I/O.

``TrustedRepository`` (``trusted_set.py``) decides *which* file may come next and against which
trusted keys, versions and lengths; this module answers, for one file, whether it is well-formed
TUF/Uptane metadata of the expected type whose key ids are the hashes of their keys (the Uptane
addition), and whether a threshold of a role's keys signed exactly the bytes received. Each
failure raises its specific :mod:`~evplatform.ota.client.errors` class. Secondaries use the same
functions for partial verification (``secondary.py``).

Clauses cited as "U 5.4.4.x" are the Uptane Standard 2.1.0 in-vehicle verification steps.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.signing
from securesystemslib.exceptions import Error as SslibError
from securesystemslib.exceptions import UnverifiedSignatureError
from securesystemslib.signer import Key, Signature
from tuf.api.metadata import Metadata, Role, Root, Signed, Targets

from evplatform.ota.client.errors import (
    BadKeyIdError,
    BadSignatureError,
    EndlessDataError,
    IllegalThresholdError,
    MalformedMetadataError,
    NonUniqueSignaturesError,
    RoleTypeMismatchError,
    ThresholdError,
)
from evplatform.ota.metadata_common import canonical_bytes

#: Hash algorithms a client computes; anything else in metadata is refused, never guessed at.
HASH_ALGORITHMS = frozenset({"sha256", "sha384", "sha512"})


@dataclass(frozen=True, slots=True)
class Loaded:
    """Parsed metadata with the exact bytes its signatures cover."""

    metadata: Metadata[Any]
    payload: bytes


def load(data: bytes, role_type: str, what: str, limit: int) -> Loaded:
    """Parse ``data`` as metadata of ``role_type`` with the structural Uptane/TUF checks.

    Checks, in order: size (endless data), JSON, envelope shape, ``_type``, unique signature
    key ids, thresholds ≥ 1, then python-tuf's own parsing. The signed payload is canonicalised
    from the bytes as received (before python-tuf, whose ``from_dict`` consumes the dict), so a
    signature is checked over exactly what the repository signed.
    """
    if len(data) > limit:
        raise EndlessDataError(f"{what}: {len(data)} bytes, more than the {limit} allowed")
    try:
        parsed = json.loads(data, parse_float=_no_float, parse_constant=_no_float)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedMetadataError(f"{what}: not JSON: {error}") from error
    if not isinstance(parsed, dict) or not isinstance(parsed.get("signed"), dict):
        raise MalformedMetadataError(f"{what}: not TUF metadata (no 'signed' object)")
    signatures = parsed.get("signatures")
    if not isinstance(signatures, list) or not all(isinstance(s, dict) for s in signatures):
        raise MalformedMetadataError(f"{what}: 'signatures' is not a list of objects")
    signed = parsed["signed"]
    if signed.get("_type") != role_type:
        raise RoleTypeMismatchError(f"{what}: expected {role_type} metadata, found _type {signed.get('_type')!r}")
    keyids = [s.get("keyid") for s in signatures]
    repeated = sorted({str(k) for k in keyids if keyids.count(k) > 1})
    if repeated:
        raise NonUniqueSignaturesError(f"{what}: key {repeated[0][:12]}… signed more than once")
    _check_thresholds(signed, what)
    try:
        payload = _canonical(signed, data)
        metadata: Metadata[Any] = Metadata.from_dict(parsed)
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        raise MalformedMetadataError(f"{what}: invalid {role_type} metadata: {error}") from error
    _check_key_ids(metadata.signed, what)
    return Loaded(metadata, payload)


def _no_float(text: str) -> Any:
    raise ValueError(f"number {text} is not an integer (canonical JSON has no floats)")


def _canonical(signed: Mapping[str, Any], raw: bytes) -> bytes:
    """Canonical JSON of ``signed`` (TUF 4.2, securesystemslib's dialect).

    Without a backslash in the raw bytes no string holds a quote, a backslash or a control
    character (JSON must escape those), and there are no floats (refused above): then sorted,
    compact ``json.dumps`` is byte-identical to ``encode_canonical`` and runs in C. This is the
    fast path ``metadata_common.canonical_bytes`` takes, decided here from the bytes in O(n)
    instead of walking every value.
    """
    if b"\\" not in raw:
        return json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return canonical_bytes(signed)


def _check_thresholds(signed: Mapping[str, Any], what: str) -> None:
    """A threshold below one would let unsigned metadata through (vectors *ZeroThreshold*)."""
    roles: list[tuple[str, Any]] = []
    if isinstance(signed.get("roles"), dict):
        roles += list(signed["roles"].items())
    delegations = signed.get("delegations")
    if isinstance(delegations, dict) and isinstance(delegations.get("roles"), list):
        roles += [(str(r.get("name")), r) for r in delegations["roles"] if isinstance(r, dict)]
    for name, role in roles:
        threshold = role.get("threshold") if isinstance(role, dict) else None
        if isinstance(threshold, int) and not isinstance(threshold, bool) and threshold < 1:
            raise IllegalThresholdError(f"{what}: role {name} has threshold {threshold}")


def key_id_of(key: Key) -> str:
    """sha256 of the key's canonical JSON: the only key id Uptane clients accept here."""
    return hashlib.sha256(canonical_bytes(key.to_dict())).hexdigest()


def _check_key_ids(signed: Signed, what: str) -> None:
    """Every listed key id is its key's hash, and every role names only listed keys."""
    keys: Mapping[str, Key]
    roles: list[tuple[str, Role]]
    if isinstance(signed, Root):
        keys, roles = signed.keys, list(signed.roles.items())
    elif isinstance(signed, Targets) and signed.delegations is not None:
        keys = signed.delegations.keys
        roles = [(r.name, r) for r in (signed.delegations.roles or {}).values()]
    else:
        return
    for keyid, key in keys.items():
        if key_id_of(key) != keyid:
            raise BadKeyIdError(f"{what}: key id {keyid[:12]}… is not the hash of its key")
    for name, role in roles:
        for keyid in role.keyids:
            if keyid not in keys:
                raise BadKeyIdError(f"{what}: role {name} names key {keyid[:12]}…, which is not listed")


@functools.lru_cache(maxsize=1024)
def _nacl_key(public_hex: str) -> nacl.signing.VerifyKey | None:
    try:
        return nacl.signing.VerifyKey(bytes.fromhex(public_hex))
    except (ValueError, TypeError, nacl.exceptions.CryptoError):
        return None


def _signature_ok(key: Key, signature: Signature, payload: bytes) -> bool:
    """ed25519 through PyNaCl (about twice as fast as ``cryptography`` here), other keys as sslib does."""
    public = key.keyval.get("public") if key.keytype == "ed25519" and key.scheme == "ed25519" else None
    verify_key = _nacl_key(public) if isinstance(public, str) else None
    if verify_key is None:
        try:
            key.verify_signature(signature, payload)
        except (UnverifiedSignatureError, SslibError):
            return False
        return True
    try:
        verify_key.verify(payload, bytes.fromhex(signature.signature))
    except (ValueError, nacl.exceptions.BadSignatureError):
        return False
    return True


def verify_signatures(keys: Mapping[str, Key], role: Role, loaded: Loaded, what: str) -> None:
    """A threshold of the role's unique keys signed the payload (U 5.4.4.3-6, "arbitrary software")."""
    signatures: Mapping[str, Signature] = loaded.metadata.signatures
    valid = 0
    failed = 0
    for keyid in role.keyids:
        signature = signatures.get(keyid)
        key = keys.get(keyid)
        if signature is None or key is None:
            continue
        if _signature_ok(key, signature, loaded.payload):
            valid += 1
        else:
            failed += 1
    if valid >= role.threshold:
        return
    message = f"{what}: {valid} valid signature(s), threshold {role.threshold}"
    if failed:
        raise BadSignatureError(f"{message} ({failed} signature(s) by authorised keys do not verify)")
    raise ThresholdError(message)


def digest(algorithm: str, data: bytes) -> str:
    """Hex digest; ValueError for an algorithm outside :data:`HASH_ALGORITHMS`."""
    if algorithm not in HASH_ALGORITHMS:
        raise ValueError(f"unsupported hash algorithm {algorithm!r}")
    return hashlib.new(algorithm, data).hexdigest()
