"""Root metadata of either repository: creation, threshold signing, key rotation, chain checks.

TUF 1.0.31 5.3 ("Update the root role"): a client trusts ``N+1.root.json`` only if it is signed
by a threshold of the keys of root N *and* by a threshold of its own root keys. Rotation here
produces exactly that, and ``verify_root_chain`` checks it for every consecutive pair on disk.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from securesystemslib.signer import Key, Signer
from tuf.api.exceptions import UnsignedMetadataError
from tuf.api.metadata import Metadata, Role, Root

from evplatform.errors import OtaError
from evplatform.ota.metadata_common import TOP_LEVEL_ROLES


def new_root(
    keys: Mapping[str, Sequence[Key]], thresholds: Mapping[str, int], expires: datetime, version: int = 1
) -> Metadata[Root]:
    """Unsigned root listing ``keys`` per top-level role with their thresholds."""
    _check_roles(keys, thresholds)
    root = Root(version=version, expires=expires, consistent_snapshot=True)
    root.roles = {role: Role([], thresholds.get(role, 1)) for role in TOP_LEVEL_ROLES}
    for role in TOP_LEVEL_ROLES:
        for key in keys[role]:
            root.add_key(key, role)
    return Metadata(root)


def _check_roles(keys: Mapping[str, Sequence[Key]], thresholds: Mapping[str, int]) -> None:
    for role in TOP_LEVEL_ROLES:
        count = len({k.keyid for k in keys.get(role, ())})
        threshold = thresholds.get(role, 1)
        if count == 0:
            raise OtaError(f"role {role} has no key")
        if not 1 <= threshold <= count:
            raise OtaError(f"role {role}: threshold {threshold} needs between 1 and {count} (its distinct keys)")


def sign_threshold(metadata: Metadata[Any], signers: Sequence[Signer], role_of: Root, role: str) -> None:
    """Sign with every signer, then check the threshold of ``role`` in ``role_of`` is met."""
    for signer in signers:
        metadata.sign(signer, append=True)
    try:
        role_of.verify_delegate(role, metadata.signed_bytes, metadata.signatures)
    except UnsignedMetadataError as error:
        raise OtaError(f"{role} metadata is not signed by a threshold of its keys: {error}") from error


def rotate(
    current: Metadata[Root],
    keys: Mapping[str, Sequence[Key]] | None,
    thresholds: Mapping[str, int] | None,
    expires: datetime,
    old_signers: Sequence[Signer],
    new_signers: Sequence[Signer],
) -> Metadata[Root]:
    """Root ``N+1`` with new keys/thresholds, signed by the old and the new root thresholds.

    Roles missing from ``keys`` keep their keys; roles missing from ``thresholds`` keep theirs.
    """
    old = current.signed
    merged_keys: dict[str, list[Key]] = {
        role: [old.keys[kid] for kid in old.roles[role].keyids] for role in TOP_LEVEL_ROLES
    }
    merged_keys.update({role: list(v) for role, v in (keys or {}).items()})
    merged_thresholds = {role: old.roles[role].threshold for role in TOP_LEVEL_ROLES}
    merged_thresholds.update(thresholds or {})
    rotated = new_root(merged_keys, merged_thresholds, expires, old.version + 1)
    rotated.signed.consistent_snapshot = old.consistent_snapshot
    by_keyid: dict[str, Signer] = {}
    for signer in [*old_signers, *new_signers]:
        by_keyid.setdefault(signer.public_key.keyid, signer)
    for signer in by_keyid.values():
        rotated.sign(signer, append=True)
    try:
        old.verify_delegate("root", rotated.signed_bytes, rotated.signatures)
    except UnsignedMetadataError as error:
        raise OtaError(f"root v{old.version + 1} is not signed by a threshold of the old root keys: {error}") from error
    try:
        rotated.signed.verify_delegate("root", rotated.signed_bytes, rotated.signatures)
    except UnsignedMetadataError as error:
        raise OtaError(f"root v{old.version + 1} is not signed by a threshold of its new root keys: {error}") from error
    return rotated


def verify_root_chain(roots: Sequence[Metadata[Root]], source: str) -> list[str]:
    """Problems found in a chain ``1.root.json … N.root.json`` (empty when it is sound)."""
    problems: list[str] = []
    if not roots:
        return [f"{source}: no root metadata"]
    first = roots[0]
    if first.signed.version != 1:
        problems.append(f"{source}: the first root has version {first.signed.version}, expected 1")
    try:
        first.signed.verify_delegate("root", first.signed_bytes, first.signatures)
    except UnsignedMetadataError as error:
        problems.append(f"{source}: 1.root.json is not signed by a threshold of its own keys ({error})")
    for previous, following in itertools.pairwise(roots):
        version = following.signed.version
        if version != previous.signed.version + 1:
            problems.append(f"{source}: root v{previous.signed.version} is followed by v{version}")
        for name, trusted in (("previous", previous.signed), ("its own", following.signed)):
            try:
                trusted.verify_delegate("root", following.signed_bytes, following.signatures)
            except UnsignedMetadataError as error:
                problems.append(f"{source}: {version}.root.json lacks a threshold of {name} root keys ({error})")
    return problems
