"""Publishing a validated release on the OTA server: images, deltas, release counters, Image targets."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pytest
from securesystemslib.signer import Signer

from evplatform.errors import ConflictError, OtaError
from evplatform.ota.delta import Delta, apply_delta
from evplatform.ota.image_repository import ImageRepository, ImageTarget
from evplatform.ota.keys import KeyRing
from evplatform.ota.metadata_common import system_clock
from evplatform.ota.publishing import (
    ImageSigning,
    has_image_repository,
    open_image_signing,
    publish,
    release_counters,
)
from evplatform.ota.releases import Release, ReleaseCatalog, ReleaseImage
from evplatform.ota.storage import DirectoryImageStore

HARDWARE = {"hub-os": ("central-compute", "MD-HUB-A1"), "zone-fw": ("zone-controllers", "MD-ZC-B2")}


class Always:
    """A compatibility predicate that admits every configuration."""

    def evaluate(self, selected: object, /) -> bool:
        return True


def _image_bytes(seed: int) -> bytes:
    base = bytes((i * 7 + (i >> 8)) % 251 for i in range(60_000))
    return base[:3000] + bytes([seed]) * (100 + seed) + base[3000:]


def _release(folder: Path, version: str, *components: str, seed: int = 1, release_id: str | None = None) -> Release:
    images = []
    for offset, component in enumerate(components):
        data = _image_bytes(seed + offset)
        path = folder / f"{component}-{version}.img"
        path.write_bytes(data)
        ecu, hardware_id = HARDWARE[component]
        images.append(ReleaseImage(component, ecu, hardware_id, path, hashlib.sha256(data).hexdigest(), len(data)))
    return Release(release_id or f"{components[0]}-{version}", version, tuple(images), Always(), "CentralCompute",
                   f"release {version}")


@pytest.fixture
def server(tmp_path: Path) -> tuple[ReleaseCatalog, DirectoryImageStore]:
    return ReleaseCatalog(tmp_path / "ota"), DirectoryImageStore(tmp_path / "ota" / "images")


def test_release_counters_count_published_releases_per_component(
        tmp_path: Path, server: tuple[ReleaseCatalog, DirectoryImageStore]) -> None:
    catalog, store = server
    assert release_counters(catalog) == {}
    first = publish(_release(tmp_path, "1.7.0", "hub-os"), catalog, store)
    both = publish(_release(tmp_path, "1.8.0", "hub-os", "zone-fw", seed=5), catalog, store)
    third = publish(_release(tmp_path, "1.9.0", "hub-os", seed=9), catalog, store)
    assert [p.release_counter for p in first.images] == [1]
    assert {p.image.component: p.release_counter for p in both.images} == {"hub-os": 2, "zone-fw": 1}
    assert [p.release_counter for p in third.images] == [3]
    assert release_counters(catalog) == {"hub-os": 3, "zone-fw": 1}


def test_delta_from_the_previous_release_rebuilds_the_new_image(
        tmp_path: Path, server: tuple[ReleaseCatalog, DirectoryImageStore]) -> None:
    catalog, store = server
    one = publish(_release(tmp_path, "1.7.0", "hub-os"), catalog, store)
    assert one.images[0].delta is None and one.images[0].target == "hub-os/1.7.0"
    two = publish(_release(tmp_path, "1.8.0", "hub-os", seed=2), catalog, store)
    meta = two.images[0].delta
    assert meta is not None and meta["from_release"] == "hub-os-1.7.0" and meta["create_s"] >= 0
    delta = Delta.from_metadata(dict(meta), store.read(meta["patch_sha256"]))
    assert apply_delta(store.read(one.images[0].image.sha256), delta, two.images[0].image.sha256) == _image_bytes(2)
    assert catalog.entries()[-1]["deltas"] == {"central-compute": dict(meta)}
    assert two.images[0].to_dict()["delta"] == dict(meta) and two.targets_version is None


def test_no_delta_when_the_previous_image_is_no_longer_stored(
        tmp_path: Path, server: tuple[ReleaseCatalog, DirectoryImageStore]) -> None:
    catalog, store = server
    one = publish(_release(tmp_path, "1.7.0", "hub-os"), catalog, store)
    store.path(one.images[0].image.sha256).unlink()
    two = publish(_release(tmp_path, "1.8.0", "hub-os", seed=2), catalog, store)
    assert two.images[0].delta is None and two.images[0].release_counter == 2


def test_a_published_id_is_refused_before_anything_is_stored(
        tmp_path: Path, server: tuple[ReleaseCatalog, DirectoryImageStore]) -> None:
    catalog, store = server
    publish(_release(tmp_path, "1.7.0", "hub-os"), catalog, store)
    again = _release(tmp_path, "1.8.0", "hub-os", seed=4, release_id="hub-os-1.7.0")
    with pytest.raises(ConflictError, match=r"release hub-os-1\.7\.0 is already published"):
        publish(again, catalog, store)
    assert not store.exists(again.images[0].sha256)


def test_images_are_listed_in_the_image_repository_with_their_counters(
        tmp_path: Path, server: tuple[ReleaseCatalog, DirectoryImageStore]) -> None:
    catalog, store = server
    root = tmp_path / "ota"
    ring = KeyRing.init(root / "keys", insecure_demo_keys=True)
    assert not has_image_repository(root) and open_image_signing(root, system_clock, ring) is None
    ImageRepository.create_from_keyring(root / "image", system_clock, ring)
    signing = open_image_signing(root, system_clock, ring)
    assert signing is not None
    publish(_release(tmp_path, "1.7.0", "hub-os"), catalog, store, signing)
    done = publish(_release(tmp_path, "1.8.0", "hub-os", seed=3), catalog, store, signing)
    assert done.targets_version == 3  # v1 at creation, one per release
    listed = ImageRepository(root / "image", system_clock).target("hub-os/1.8.0")
    assert (listed.release_counter, listed.version, listed.hardware_id) == (2, "1.8.0", "MD-HUB-A1")
    assert listed.sha256 == done.images[0].image.sha256


def test_encrypted_targets_key_without_passphrase_fails_when_opened(tmp_path: Path) -> None:
    root = tmp_path / "ota"
    ring = KeyRing.init(root / "keys", "secret")
    ImageRepository.create_from_keyring(root / "image", system_clock, ring)
    with pytest.raises(OtaError, match="passphrase is needed"):
        open_image_signing(root, system_clock, KeyRing(root / "keys"))


class RefusingRepository:
    def add_targets(self, images: Sequence[ImageTarget], targets_signers: Sequence[Signer]) -> int:
        raise OtaError("the targets key is not allowed to sign")


def test_a_signing_failure_leaves_the_catalogue_unchanged(
        tmp_path: Path, server: tuple[ReleaseCatalog, DirectoryImageStore]) -> None:
    catalog, store = server
    with pytest.raises(OtaError, match="not allowed to sign"):
        publish(_release(tmp_path, "1.7.0", "hub-os"), catalog, store, ImageSigning(RefusingRepository(), []))
    assert catalog.entries() == [] and release_counters(catalog) == {}
