"""Delegations of the Image repository as an operator runs them (``evplatform ota delegation …``).

Each call opens the repository with the key directory, does one thing and returns plain data:
create a delegated role with new offline keys (signed by the Image targets key), publish an image
into a delegated role (signed by that role's keys, which must be allowed its path and hardware
id), revoke a delegation. App publishers get a role restricted to their paths this way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from tuf.api.metadata import DelegatedRole

from evplatform.errors import OtaError
from evplatform.ota._delegation_spec import DelegationSpec
from evplatform.ota.client.delegations import hardware_ids, multi_role
from evplatform.ota.image_repository import ImageRepository, ImageTarget
from evplatform.ota.keys import KeyRing
from evplatform.ota.metadata_common import Clock
from evplatform.ota.storage import DirectoryImageStore

logger = logging.getLogger(__name__)
_WILDCARD = re.compile(r"[*?\[]")


def _segments_overlap(a: str, b: str) -> bool:
    """Could one path segment match a string the other matches? Exact when either has no wildcard;
    otherwise compare the literal prefixes before the first wildcard (conservative: it may say yes
    for two patterns that only look alike, never no for two that share a path)."""
    if not _WILDCARD.search(a):
        return fnmatchcase(a, b)
    if not _WILDCARD.search(b):
        return fnmatchcase(b, a)
    pa, pb = _WILDCARD.split(a, 1)[0], _WILDCARD.split(b, 1)[0]
    return pa.startswith(pb) or pb.startswith(pa)


def patterns_overlap(a: str, b: str) -> bool:
    """True when some image path could match both TUF path patterns (``*`` stays within a segment)."""
    sa, sb = a.split("/"), b.split("/")
    return len(sa) == len(sb) and all(_segments_overlap(x, y) for x, y in zip(sa, sb, strict=True))


def overlapping_delegation(delegations: Sequence[DelegatedRole], paths: Sequence[str],
                           hardware: Sequence[str] | None) -> tuple[str, str, str] | None:
    """(role, its pattern, our pattern) of the first delegation whose paths overlap ``paths`` on
    hardware both may serve, or None. Roles with no paths (multi-role members) never apply alone."""
    ours = set(hardware) if hardware else None
    for role in delegations:
        theirs = hardware_ids(role)
        if ours is not None and theirs is not None and not ours & theirs:
            continue  # disjoint hardware: the two never apply to the same ECU
        for pattern in role.paths or []:
            for mine in paths:
                if patterns_overlap(pattern, mine):
                    return role.name, pattern, mine
    return None


def describe(role: DelegatedRole, position: int) -> dict[str, Any]:
    """One delegation as JSON (``ota delegation list --json``)."""
    spec = multi_role(role)
    allowed = hardware_ids(role)
    return {"name": role.name, "position": position, "paths": list(role.paths or []),
            "hardware_ids": sorted(allowed) if allowed is not None else None, "terminating": role.terminating,
            "keyids": list(role.keyids), "threshold": role.threshold,
            "members": list(spec.roles) if spec else [], "agree": spec.threshold if spec else None}


def list_delegations(image: ImageRepository) -> list[dict[str, Any]]:
    return [describe(role, i) for i, role in enumerate(image.delegations())]


def create_delegation(
    ota_root: Path, clock: Clock, keyring: KeyRing, name: str, *, paths: Sequence[str],
    hardware_ids: Sequence[str] | None = None, terminating: bool = False, keys: int = 1, threshold: int = 1,
    position: int | None = None, members: Sequence[str] = (), agree: int = 0, allow_overlap: bool = False,
) -> dict[str, Any]:
    """A new delegated role (new keys in the key directory) or a multi-role delegation over existing ones.

    Paths that overlap another delegation's on hardware both may serve are refused unless
    ``allow_overlap`` (a deliberate priority order, e.g. a supplier before an OEM fallback).
    """
    image = ImageRepository.open_with_keyring(Path(ota_root) / "image", clock, keyring)
    clash = None if allow_overlap else overlapping_delegation(image.delegations(), paths, hardware_ids)
    if clash is not None:
        other, theirs, mine = clash
        raise OtaError(f"delegation {name}: path {mine} overlaps {theirs} of delegation {other}; the first listed "
                       f"would win (revoke or narrow {other}, or allow the overlap deliberately)")
    targets_signers = keyring.signers("image", "targets")  # offline: fails before a key is generated
    signers = keyring.new_delegation_keys(name, keys) if not members else []
    spec = DelegationSpec(name, [s.public_key for s in signers], threshold, list(paths), hardware_ids, terminating,
                          list(members), agree)
    version = image.delegate(spec, targets_signers, signers, position)
    found = next(i for i, d in enumerate(image.delegations()) if d.name == name)
    return {"targets_version": version, "delegation": describe(image.delegation(name), found)}


def publish_to_delegation(
    ota_root: Path, clock: Clock, keyring: KeyRing, name: str, image_path: str, data: bytes, *,
    hardware_id: str, release_counter: int, component: str, version: str,
) -> dict[str, Any]:
    """Store the image and list it in delegated role ``name`` (signed by the role's own keys)."""
    image = ImageRepository.open_with_keyring(Path(ota_root) / "image", clock, keyring)
    target = ImageTarget.from_data(image_path, data, component=component, version=version,
                                   hardware_id=hardware_id, release_counter=release_counter)
    DirectoryImageStore(Path(ota_root) / "images").put(data)  # the bytes first: a listed image is always there
    role_version = image.add_delegated_targets(name, [target], keyring.delegation_signers(name))
    return {"role": name, "role_version": role_version, "target": {
        "path": target.filepath, "sha256": target.sha256, "length": target.length,
        "hardware_id": target.hardware_id, "release_counter": target.release_counter}}


def revoke_delegation(ota_root: Path, clock: Clock, keyring: KeyRing, name: str) -> dict[str, Any]:
    """Remove delegation ``name`` from the top-level targets (offline targets key)."""
    image = ImageRepository.open_with_keyring(Path(ota_root) / "image", clock, keyring)
    version = image.revoke_delegation(name, keyring.signers("image", "targets"))
    return {"revoked": name, "targets_version": version}


def resign_delegation(ota_root: Path, clock: Clock, keyring: KeyRing, name: str) -> dict[str, Any]:
    """Same images, next version, fresh expiry (run before the role's metadata expires)."""
    image = ImageRepository.open_with_keyring(Path(ota_root) / "image", clock, keyring)
    return {"role": name, "role_version": image.add_delegated_targets(name, [], keyring.delegation_signers(name))}
