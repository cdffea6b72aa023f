"""Publisher-signed app delivery over Uptane delegations (issue 19 §3).

Each app publisher gets its own delegated targets role of the Image repository, ``app-<publisher>``,
trusted only for ``apps/<publisher>/*`` (and, when given, only for the hardware ids of the ECUs
that run apps), terminating by default so that a path under it is never looked up further down
the list. The publisher signs its releases with its own keys (``evplatform apps publish``); the
Director then assigns the release to vehicles like any image, and the vehicle resolves the
delegation (path pattern and hardware id, ``ota/client/delegations.py``) before installing.

Publisher delegations must not overlap any other delegation's paths: two roles able to sign the
same app path would make "who speaks for this app" depend on list order, so the overlap is refused
with both patterns named.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from evplatform.apps.model import AppManifest
from evplatform.errors import OtaError
from evplatform.ota import delegation_admin
from evplatform.ota._delegation_spec import DelegationSpec
from evplatform.ota.client.delegations import hardware_ids as role_hardware
from evplatform.ota.delegation_admin import overlapping_delegation
from evplatform.ota.image_repository import ImageRepository, ImageTarget
from evplatform.ota.keys import KeyRing
from evplatform.ota.storage import DirectoryImageStore

logger = logging.getLogger(__name__)

APPS_PREFIX = "apps"
PUBLISHER = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}\Z")


def publisher_role(publisher: str) -> str:
    """The delegated role that speaks for ``publisher`` (a valid TUF role name of ours)."""
    if not PUBLISHER.match(publisher):
        raise OtaError(f"publisher {publisher!r}: lowercase letters, digits and '-', at most 40")
    return f"app-{publisher}"


def publisher_paths(publisher: str) -> list[str]:
    """The image paths a publisher's role may sign: its own folder under ``apps/``."""
    publisher_role(publisher)
    return [f"{APPS_PREFIX}/{publisher}/*"]


def app_image_path(app: AppManifest) -> str:
    """Where a release of ``app`` lives in the Image repository: ``apps/<publisher>/<id>-<version>``."""
    return f"{APPS_PREFIX}/{app.publisher}/{app.id}-{app.version}"


def delegate_publisher(image: ImageRepository, keyring: KeyRing, publisher: str, *,
                       hardware_ids: Sequence[str] | None, keys: int = 1, threshold: int = 1,
                       terminating: bool = True) -> dict[str, Any]:
    """Delegate ``apps/<publisher>/*`` to a new role with the publisher's own new keys (offline targets key).

    Everything is checked before a key is generated or a file written: the publisher id, the
    threshold, and that no other delegation's paths overlap the publisher's.
    """
    role = publisher_role(publisher)
    paths = publisher_paths(publisher)
    if not 1 <= threshold <= keys:
        raise OtaError(f"publisher {publisher}: threshold {threshold} needs 1 ≤ threshold ≤ keys ({keys})")
    clash = overlapping_delegation(image.delegations(), paths, hardware_ids)
    if clash is not None:
        name, theirs, mine = clash
        raise OtaError(f"publisher {publisher}: path {mine} overlaps {theirs} of delegation {name}; "
                       f"two roles could sign the same app (revoke or narrow {name} first)")
    targets_signers = keyring.signers("image", "targets")  # offline: fails before a key is generated
    signers = keyring.new_delegation_keys(role, keys)
    spec = DelegationSpec(role, [s.public_key for s in signers], threshold, paths, hardware_ids, terminating)
    version = image.delegate(spec, targets_signers, signers)
    position = next(i for i, d in enumerate(image.delegations()) if d.name == role)
    logger.info("publisher %s delegated %s as role %s", publisher, paths, role)
    return {"publisher": publisher, "targets_version": version,
            "delegation": delegation_admin.describe(image.delegation(role), position)}


def rotate_publisher(image: ImageRepository, keyring: KeyRing, publisher: str, *, keys: int = 1,
                     threshold: int = 1) -> dict[str, Any]:
    """Replace a publisher's keys (a leaked key): same paths, hardware ids, terminating flag and priority.

    The old keys are retired in the key directory; the role's new version is empty and signed by the
    new keys, so everything the old keys signed is no longer trusted and the publisher publishes its
    releases again. Two targets versions are written (revoke, then delegate): should the second fail,
    the publisher is left revoked, never trusted with the old keys.
    """
    role = publisher_role(publisher)
    old = image.delegation(role)
    if not 1 <= threshold <= keys:
        raise OtaError(f"publisher {publisher}: threshold {threshold} needs 1 ≤ threshold ≤ keys ({keys})")
    position = next(i for i, d in enumerate(image.delegations()) if d.name == role)
    allowed = role_hardware(old)
    targets_signers = keyring.signers("image", "targets")  # offline: fails before a key is generated
    signers = keyring.new_delegation_keys(role, keys, replace=True)
    image.revoke_delegation(role, targets_signers)
    spec = DelegationSpec(role, [s.public_key for s in signers], threshold, list(old.paths or []),
                          sorted(allowed) if allowed is not None else None, old.terminating)
    version = image.delegate(spec, targets_signers, signers, position)
    logger.warning("publisher %s: keys of role %s rotated", publisher, role)
    return {"publisher": publisher, "targets_version": version,
            "delegation": delegation_admin.describe(image.delegation(role), position)}


def publish_app(image: ImageRepository, store: DirectoryImageStore, keyring: KeyRing, app: AppManifest,
                data: bytes, *, hardware_id: str, release_counter: int,
                lifetime: timedelta | None = None) -> dict[str, Any]:
    """Sign a release of ``app`` into its publisher's role with the publisher's keys (never the OEM's).

    The repository refuses a path outside the role's paths or a hardware id it is not delegated;
    the bytes are stored first, so a listed release is always there to download. ``lifetime``: how
    long the publisher's new role version is valid (default: the repository's targets lifetime);
    the publisher re-signs before then (``evplatform ota delegation sign``) or vehicles refuse it.
    """
    role = publisher_role(app.publisher)
    delegation = image.delegation(role)  # a clear error when the publisher has no delegation yet
    allowed = role_hardware(delegation)
    if allowed is not None and hardware_id not in allowed:  # refused before the bytes are stored
        raise OtaError(f"role {role} may not sign {app_image_path(app)} for hardware {hardware_id} "
                       f"(delegated: {', '.join(sorted(allowed))})")
    target = ImageTarget.from_data(app_image_path(app), data, component=app.id, version=app.version,
                                   hardware_id=hardware_id, release_counter=release_counter)
    signers = keyring.delegation_signers(role)
    store.put(data)
    role_version = image.add_delegated_targets(role, [target], signers, lifetime)
    logger.info("app %s %s published by %s", app.id, app.version, role)
    return {"app": app.id, "publisher": app.publisher, "role": role, "role_version": role_version,
            "expires": image.delegated_role(role).signed.expires.isoformat(),
            "target": {"path": target.filepath, "sha256": target.sha256, "length": target.length,
                       "hardware_id": target.hardware_id, "release_counter": target.release_counter}}
