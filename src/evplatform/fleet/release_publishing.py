"""Publishing a release from its manifest: the one path `evplatform ota release` and the API both take.

Three domains meet here, which is why it is neither in ``ota`` nor in a front end:

* the manifest is checked against the workspace (``fleet.release_manifest``: software
  components, feature expressions) and against the catalogue (newer than what is published);
* the OTA server publishes it (``ota.publishing``: images, deltas, release counters, Image
  repository targets, catalogue entry);
* the fleet database registers one release per image (the fleet's releases are per component),
  which campaigns then roll out.

Everything that can refuse the release is checked before anything is written: the manifest, a
taken id in the catalogue or the database, the signing keys (opened only after the manifest is
known good, so a bad manifest is reported before a passphrase is asked for).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from evplatform.errors import ConflictError
from evplatform.fleet.release_manifest import load_release_manifest
from evplatform.ota.publishing import ImageSigning, Publication, publish
from evplatform.ota.releases import Release, ReleaseCatalog
from evplatform.ota.storage import DirectoryImageStore
from evplatform.store import Store
from evplatform.store import releases as rdb
from evplatform.workspace import Workspace

#: Opens the Image repository and its targets signers (None: store images without signing).
SigningSource = Callable[[], ImageSigning | None]


@dataclass(frozen=True, slots=True)
class ReleasePublication:
    """A published release: what the OTA server did and the fleet releases registered for it."""

    publication: Publication
    database_releases: tuple[str, ...]

    @property
    def release(self) -> Release:
        return self.publication.release

    def to_dict(self) -> dict[str, Any]:
        """The shape ``evplatform ota release --json`` prints (without the server folder)."""
        return {"release": self.release.to_dict(), "images": [p.to_dict() for p in self.publication.images],
                "image_repository_targets_version": self.publication.targets_version,
                "database_releases": list(self.database_releases)}


def fleet_release_ids(release: Release) -> list[str]:
    """One fleet release per image: the release id, suffixed by the component when there are several."""
    if len(release.images) == 1:
        return [release.id]
    return [f"{release.id}-{image.component}" for image in release.images]


def publish_release(
    manifest: Path,
    workspace: Workspace,
    root: Path,
    *,
    signing: SigningSource | None = None,
    store: Store | None = None,
    actor: str = "system",
    now: datetime | None = None,
    confined: bool = False,
) -> ReleasePublication:
    """Validate ``manifest`` against ``workspace`` and publish it in the OTA folder ``root``.

    ``signing`` opens the Image repository (None: images and deltas only, ``--no-repository``);
    ``store`` is the fleet database to register the release in (None: not registered); ``actor``
    and ``now`` go to its audit trail. ``confined`` keeps image files next to the manifest (for
    uploads). Raises ``ManifestError`` (manifest:line), ``ConflictError`` (id taken) or OtaError.
    """
    catalog = ReleaseCatalog(root)
    release = load_release_manifest(manifest, workspace.software, workspace.feature_model,
                                    installed=catalog.latest_versions(), confined=confined)
    if catalog.exists(release.id):
        raise ConflictError(f"release {release.id} is already published in {root}")
    if store is not None:
        _check_unregistered(store, release)
    opened = signing() if signing is not None else None
    publication = publish(release, catalog, DirectoryImageStore(Path(root) / "images"), opened)
    registered = register_release(store, release, actor=actor, now=now) if store is not None else []
    return ReleasePublication(publication, tuple(registered))


def register_release(store: Store, release: Release, *, actor: str = "system",
                     now: datetime | None = None) -> list[str]:
    """Register the release in the fleet database, one release per image; their ids."""
    ids = fleet_release_ids(release)
    for rid, image in zip(ids, release.images, strict=True):
        rdb.save_release(store, rdb.ReleaseRecord(rid, image.component, image.ecu, image.hardware_id, release.version,
                                                  release.compatible_text, release.notes, now), actor=actor)
    return ids


def _check_unregistered(store: Store, release: Release) -> None:
    taken = [rid for rid in fleet_release_ids(release) if rdb.release(store, rid) is not None]
    if taken:
        raise ConflictError(f"release {', '.join(taken)} is already registered in the fleet database")
