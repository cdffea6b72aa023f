"""Resolving Image repository delegations (Uptane 2.1.0 5.4.4.7): rules only, the loading is injected.

The vehicle (``primary.py``) and the Image repository itself (``image_repository.py``, so the
Director only points at what a vehicle will find) search the same way:

- **pre-order, depth first, in listed order** (5.2.3.2 "prioritized order"): the first role that
  signs the image wins, even when a later one signs other bytes for the same path;
- a delegation **applies** only if the image path matches its paths *and*, when it lists hardware
  ids, the ECU's hardware id is one of them (5.4.4.7 step 4.1, SHALL);
- a **terminating** delegation that applies ends the whole search when its role and that role's
  own delegations do not sign the image (step 3, TUF 5.6.7.2.3), as python-tuf's ngclient does;
- a **multi-role** delegation (TAP 3, Uptane 5.4.4.7 "multi-role delegations") names several
  roles and how many of them must agree: each is resolved on its own, the image is the one at
  least ``threshold`` of them sign identically (length, hashes, hardware id, release counter);
  when two agreeing sets reach the threshold, the set holding the earliest listed role wins;
- at most ``max_roles`` roles are loaded per image (a delegation graph built to make the vehicle
  fetch forever is refused, ``DelegationLimitError``), and a role already on the path is skipped
  (cycles).

Wire format (our POUF choice; python-tuf's ``DelegatedRole`` keeps unknown fields, so the
signatures survive a read-write). Uptane fields of a delegation live in the role's ``custom``::

    {"name": "supplier-brake", "keyids": [...], "threshold": 1, "paths": ["brake/*"],
     "terminating": true, "custom": {"hardware_ids": ["hw-brake"]}}

A multi-role delegation is an entry with no keys of its own (``keyids: []``, so a client that
does not know multi-role fails closed: it cannot verify a file for it) whose ``custom`` names the
member roles; each member is an ordinary entry of the same ``delegations`` (its keys and
threshold) with ``paths: []``, so it never applies on its own::

    {"name": "brake-consensus", "keyids": [], "threshold": 1, "paths": ["brake/*"],
     "terminating": false, "custom": {"hardware_ids": ["hw-brake"],
                                      "multi_role": {"roles": ["supplier", "oem-qa"], "threshold": 2}}}
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tuf.api.metadata import DelegatedRole, Root, TargetFile, Targets

from evplatform.ota.client.errors import EndlessDataError, MalformedMetadataError

logger = logging.getLogger(__name__)

MAX_DELEGATED_ROLES = 32  # roles loaded per image, as python-tuf's ngclient bounds it
ROLE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")
TOP_LEVEL_ROLES = frozenset({"root", "targets", "snapshot", "timestamp"})

Loader = Callable[[str, str], Targets]
"""``load(role, delegator)``: the verified targets metadata of ``role`` as ``delegator`` delegates it."""


class DelegationLimitError(EndlessDataError):
    """Resolving one image needed more roles than the bound (a delegation graph built for denial of service)."""


@dataclass(frozen=True, slots=True)
class MultiRole:
    """The member roles of a multi-role delegation and how many must agree."""

    roles: tuple[str, ...]
    threshold: int


def check_role_name(name: str) -> str:
    """A delegated role name that is safe as a file name and is not a top-level role."""
    if not isinstance(name, str) or not ROLE_NAME.match(name) or name in TOP_LEVEL_ROLES:
        raise MalformedMetadataError(
            f"delegated role name {name!r}: lowercase letters, digits and '-', at most 63, not a top-level role")
    return name


def _custom(role: DelegatedRole) -> Mapping[str, Any]:
    custom = role.unrecognized_fields.get("custom", {})
    if not isinstance(custom, dict):
        raise MalformedMetadataError(f"delegation {role.name}: 'custom' is not an object")
    return custom


def hardware_ids(role: DelegatedRole) -> frozenset[str] | None:
    """The hardware ids a delegation is restricted to; None when it lists none (any hardware, 5.2.3.2)."""
    listed = _custom(role).get("hardware_ids")
    if listed is None:
        return None
    if not isinstance(listed, list) or not listed or not all(isinstance(h, str) and h for h in listed):
        raise MalformedMetadataError(f"delegation {role.name}: hardware_ids must be a non-empty list of strings")
    return frozenset(listed)


def multi_role(role: DelegatedRole) -> MultiRole | None:
    """The multi-role part of a delegation, or None for an ordinary one."""
    spec = _custom(role).get("multi_role")
    if spec is None:
        return None
    where = f"delegation {role.name}: multi_role"
    if not isinstance(spec, dict):
        raise MalformedMetadataError(f"{where} is not an object")
    roles, threshold = spec.get("roles"), spec.get("threshold")
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles) \
            or len(set(roles)) != len(roles):
        raise MalformedMetadataError(f"{where}: roles must be a non-empty list of distinct role names")
    if not isinstance(threshold, int) or isinstance(threshold, bool) or not 1 <= threshold <= len(roles):
        raise MalformedMetadataError(f"{where}: threshold must be an integer from 1 to {len(roles)}")
    if role.name in roles:
        raise MalformedMetadataError(f"{where}: names itself")
    return MultiRole(tuple(roles), threshold)


def applies(role: DelegatedRole, path: str, hardware_id: str | None) -> bool:
    """Step 4.1: the path matches one of the delegation's paths and, if it lists hardware ids, the
    ECU's hardware id is one of them. ``hardware_id=None`` (a repository-side listing, no ECU) skips
    the hardware check."""
    if not role.is_delegated_path(path):
        return False
    allowed = hardware_ids(role)
    return allowed is None or hardware_id is None or hardware_id in allowed


def agreement_key(target: TargetFile) -> tuple[Any, ...]:
    """What roles of a multi-role delegation must sign identically: length, hashes and the custom
    fields the vehicle checks against the Director (hardware id, release counter)."""
    custom = target.unrecognized_fields.get("custom")
    custom = custom if isinstance(custom, dict) else {}
    return (target.length, tuple(sorted(target.hashes.items())), custom.get("hardware_id"),
            custom.get("release_counter"))


class DelegationSearch:
    """One search for one image path (and the ECU hardware id it is for)."""

    def __init__(self, load: Loader, path: str, hardware_id: str | None, max_roles: int = MAX_DELEGATED_ROLES) -> None:
        self.load = load
        self.path = path
        self.hardware_id = hardware_id
        self.max_roles = max_roles
        self.loaded = 0

    def run(self) -> TargetFile | None:
        """The image's targets entry from the highest-priority role that signs it, or None."""
        found, _ = self._resolve(Targets.type, Root.type, ())
        return found

    def _resolve(self, role: str, delegator: str, path_so_far: Sequence[str]) -> tuple[TargetFile | None, bool]:
        """(target or None, stop): ``stop`` is True once a terminating delegation ended the search."""
        if role in path_so_far:
            logger.warning("delegation cycle %s -> %s skipped", " -> ".join(path_so_far), role)
            return None, False
        self.loaded += 1
        if self.loaded > self.max_roles:
            raise DelegationLimitError(
                f"image {self.path}: more than {self.max_roles} delegated roles to search; refusing to go on")
        targets = self.load(role, delegator)
        if self.path in targets.targets:  # step 2
            return targets.targets[self.path], True
        if targets.delegations is None or targets.delegations.roles is None:
            return None, False
        chain = (*path_so_far, role)
        members = targets.delegations.roles
        for child in members.values():  # step 4: in listed order
            if not applies(child, self.path, self.hardware_id):
                continue
            spec = multi_role(child)
            if spec is not None:
                found, stop = self._multi(child, spec, members, chain), False
            else:
                found, stop = self._resolve(child.name, role, chain)
            if found is not None:
                return found, True
            if stop or child.terminating:  # step 3 / 4.2: a terminating delegation ends the search
                return None, True
        return None, False

    def _multi(self, delegation: DelegatedRole, spec: MultiRole, members: Mapping[str, DelegatedRole],
               chain: Sequence[str]) -> TargetFile | None:
        """TAP 3: resolve each member role; the image at least ``spec.threshold`` of them agree on."""
        delegator = chain[-1]
        signed: list[TargetFile | None] = []
        for name in spec.roles:
            if name not in members:
                raise MalformedMetadataError(
                    f"delegation {delegation.name}: member role {name} is not delegated by {delegator}")
            found, _ = self._resolve(name, delegator, chain)  # a member's terminating subtree stops only itself
            signed.append(found)
        groups: dict[tuple[Any, ...], list[int]] = {}
        for index, target in enumerate(signed):
            if target is not None:
                groups.setdefault(agreement_key(target), []).append(index)
        agreeing = [indices for indices in groups.values() if len(indices) >= spec.threshold]
        if not agreeing:
            logger.warning("image %s: fewer than %d of %s agree", self.path, spec.threshold, list(spec.roles))
            return None
        first = min(agreeing, key=lambda indices: indices[0])  # a conflict: the set with the earliest role
        return signed[first[0]]


def find_target(load: Loader, path: str, hardware_id: str | None,
                max_roles: int = MAX_DELEGATED_ROLES) -> TargetFile | None:
    """Uptane 5.4.4.7 for one image: see the module docstring."""
    return DelegationSearch(load, path, hardware_id, max_roles).run()
