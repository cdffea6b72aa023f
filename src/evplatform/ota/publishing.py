"""Publishing a validated release on the OTA server: images, deltas, release counters, Image targets.

What happens, in order, so that nothing is half-published when a step fails:

1. the release id must be new in the catalogue (a published release never changes);
2. every image goes into the content-addressed image store, and a delta is built from the
   image of the newest older release of the same component when that image is still stored;
3. each image gets its Uptane **release counter** (Uptane 1.2 §5.2.3.1.2: a strictly growing
   number per component, which an ECU compares against what it runs to refuse a rollback):
   the number of catalogue entries that carry the component, plus one;
4. the images are listed in the Image repository (new targets version, offline targets key),
   unless no repository is given (``--no-repository``, or none created yet);
5. the catalogue entry is written last: it is what later releases count and diff against.

Stored images and deltas are content-addressed, so a failure after step 2 leaves only blobs a
retry reuses. This module knows the OTA folder only; reading a manifest against the workspace
and registering the release in the fleet database is ``evplatform.fleet.release_publishing``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from securesystemslib.signer import Signer

from evplatform.clock import Clock
from evplatform.errors import ConflictError, OtaError
from evplatform.ota.delta import make_delta
from evplatform.ota.image_repository import ImageRepository, ImageTarget
from evplatform.ota.keys import KeyRing
from evplatform.ota.releases import Release, ReleaseCatalog, ReleaseImage
from evplatform.ota.storage import ImageStore


class TargetsWriter(Protocol):
    """Where new images are listed: an ``ImageRepository``, or an ``OtaService`` that serialises it."""

    def add_targets(self, images: Sequence[ImageTarget], targets_signers: Sequence[Signer]) -> int: ...


@dataclass(frozen=True, slots=True)
class ImageSigning:
    """The Image repository to list new images in and the (offline) targets signers to do it with."""

    repository: TargetsWriter
    signers: Sequence[Signer]


@dataclass(frozen=True, slots=True)
class PublishedImage:
    """One image as published: its target path, release counter and the delta built for it."""

    image: ReleaseImage
    target: str
    release_counter: int
    delta: Mapping[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {**self.image.to_dict(), "target": self.target, "release_counter": self.release_counter,
                "delta": dict(self.delta) if self.delta is not None else None}


@dataclass(frozen=True, slots=True)
class Publication:
    """What publishing did: the images, and the Image repository targets version (None: not signed)."""

    release: Release
    images: tuple[PublishedImage, ...]
    targets_version: int | None

    def image_targets(self) -> list[ImageTarget]:
        """The Image repository targets of this release, with their Uptane custom fields."""
        return [ImageTarget(p.target, p.image.length, p.image.sha256, p.image.component, self.release.version,
                            p.image.hardware_id, p.release_counter) for p in self.images]


def has_image_repository(root: Path) -> bool:
    """Whether ``evplatform ota init`` created an Image repository in the OTA folder ``root``."""
    return (Path(root) / "image" / "metadata" / "root.json").is_file()


def open_image_signing(root: Path, clock: Clock, keyring: KeyRing) -> ImageSigning | None:
    """The OTA folder's Image repository with its targets signers, or None when there is none yet.

    The targets key is offline: ``keyring`` needs its passphrase when the key file is encrypted
    (OtaError otherwise, raised here, before anything is stored).
    """
    if not has_image_repository(root):
        return None
    repository = ImageRepository.open_with_keyring(Path(root) / "image", clock, keyring)
    return ImageSigning(repository, keyring.signers("image", "targets"))


def release_counters(catalog: ReleaseCatalog) -> dict[str, int]:
    """Releases published so far per component: the next Uptane release counter is one more."""
    counts: dict[str, int] = {}
    for entry in catalog.entries():
        for image in entry["images"]:
            counts[str(image["component"])] = counts.get(str(image["component"]), 0) + 1
    return counts


def publish(release: Release, catalog: ReleaseCatalog, store: ImageStore,
            signing: ImageSigning | None = None) -> Publication:
    """Publish a validated release (steps 1–5 of the module docstring); ConflictError if the id is taken."""
    if catalog.exists(release.id):
        raise ConflictError(f"release {release.id} is already published in {catalog.folder.parent}")
    images = store_images(release, catalog, store)
    publication = Publication(release, images, None)
    if signing is not None:
        version = signing.repository.add_targets(publication.image_targets(), signing.signers)
        publication = Publication(release, images, version)
    catalog.save(release, {p.image.ecu: p.delta for p in images if p.delta is not None})
    return publication


def store_images(release: Release, catalog: ReleaseCatalog, store: ImageStore) -> tuple[PublishedImage, ...]:
    """Store every image, build its delta from the previous release, give it its release counter."""
    counters = release_counters(catalog)
    published = []
    for image in release.images:
        sha256 = store.put(image.path)
        if sha256 != image.sha256:
            raise OtaError(f"image {image.path} changed while being published (was {image.sha256}, now {sha256})")
        published.append(PublishedImage(image, f"{image.component}/{release.version}",
                                        counters.get(image.component, 0) + 1,
                                        _delta_from_previous(image, release.version, catalog, store)))
    return tuple(published)


def _delta_from_previous(image: ReleaseImage, version: str, catalog: ReleaseCatalog,
                         store: ImageStore) -> dict[str, Any] | None:
    """The delta from the newest older release's image of the component, stored; None without one."""
    previous = catalog.previous_image(image.component, version)
    if previous is None or not store.exists(str(previous["sha256"])):
        return None
    started = time.perf_counter()
    delta = make_delta(store.read(str(previous["sha256"])), store.read(image.sha256))
    store.put(delta.payload)
    return {"from_release": previous["release"], **delta.metadata(),
            "create_s": round(time.perf_counter() - started, 3)}
