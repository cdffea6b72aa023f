"""Publishing a release from its manifest: catalogue, image store, Image repository and fleet database."""

from __future__ import annotations

from pathlib import Path

import pytest

from evplatform.errors import ConflictError
from evplatform.fleet.release_publishing import fleet_release_ids, publish_release
from evplatform.ota.image_repository import ImageRepository
from evplatform.ota.keys import KeyRing
from evplatform.ota.metadata_common import system_clock
from evplatform.ota.publishing import ImageSigning, open_image_signing
from evplatform.ota.releases import ManifestError, ReleaseCatalog
from evplatform.store import Store
from evplatform.store import releases as rdb
from evplatform.workspace import Workspace
from fleet_support import add_release

MANIFEST = """\
version: {version}
notes: Release {version}
images:
  - component: hub-os
    hardware_id: MD-HUB-A1
    file: {file}
"""

BOTH = """\
id: pair-{version}
version: {version}
notes: Hub and zones together
images:
  - {{component: hub-os, hardware_id: MD-HUB-A1, file: hub.img}}
  - {{component: zone-fw, hardware_id: MD-ZC-B2, file: zone.img}}
"""


def _manifest(folder: Path, version: str, seed: int, text: str = MANIFEST) -> Path:
    base = bytes((i * 13 + (i >> 7)) % 253 for i in range(50_000))
    for name in ("hub.img", "zone.img", f"hub-{version}.img"):
        (folder / name).write_bytes(base[:2000] + bytes([seed]) * (50 + seed) + base[2000:] + name.encode())
    path = folder / f"release-{version}.yaml"
    path.write_text(text.format(version=version, file=f"hub-{version}.img"), encoding="utf-8")
    return path


class Spy:
    """A signing source that records whether it was asked for the keys."""

    def __init__(self, signing: ImageSigning | None = None) -> None:
        self.calls = 0
        self.signing = signing

    def __call__(self) -> ImageSigning | None:
        self.calls += 1
        return self.signing


def test_second_release_gets_counter_two_and_both_are_registered(tmp_path: Path, demo: Workspace,
                                                                 store: Store) -> None:
    root = tmp_path / "ota"
    ring = KeyRing.init(root / "keys", insecure_demo_keys=True)
    ImageRepository.create_from_keyring(root / "image", system_clock, ring)
    signing = Spy(open_image_signing(root, system_clock, ring))
    one = publish_release(_manifest(tmp_path, "1.7.0", 1), demo, root, signing=signing, store=store, actor="rm")
    two = publish_release(_manifest(tmp_path, "1.8.0", 2), demo, root, signing=signing, store=store, actor="rm")
    assert signing.calls == 2 and two.publication.targets_version == 3
    assert [p.release_counter for p in one.publication.images] == [1]
    assert [p.release_counter for p in two.publication.images] == [2]
    assert two.to_dict()["images"][0]["delta"]["from_release"] == "hub-os-1.7.0"
    assert ImageRepository(root / "image", system_clock).target("hub-os/1.8.0").release_counter == 2
    record = rdb.release(store, "hub-os-1.8.0")
    assert record is not None and two.database_releases == ("hub-os-1.8.0",)
    assert (record.component, record.ecu, record.hardware_id, record.version, record.compatible, record.notes) == (
        "hub-os", "central-compute", "MD-HUB-A1", "1.8.0", "CentralCompute", "Release 1.8.0")
    assert [e["id"] for e in ReleaseCatalog(root).entries()] == ["hub-os-1.7.0", "hub-os-1.8.0"]


def test_a_release_of_two_components_registers_one_fleet_release_each(tmp_path: Path, demo: Workspace,
                                                                      store: Store) -> None:
    done = publish_release(_manifest(tmp_path, "4.0.0", 3, BOTH), demo, tmp_path / "ota", store=store)
    assert done.database_releases == ("pair-4.0.0-hub-os", "pair-4.0.0-zone-fw")
    assert fleet_release_ids(done.release) == list(done.database_releases)
    zone = rdb.release(store, "pair-4.0.0-zone-fw")
    assert zone is not None and (zone.component, zone.ecu, zone.version) == ("zone-fw", "zone-controllers", "4.0.0")
    assert {p.image.component: p.release_counter for p in done.publication.images} == {"hub-os": 1, "zone-fw": 1}


def test_an_id_taken_in_the_fleet_database_publishes_nothing(tmp_path: Path, demo: Workspace, store: Store) -> None:
    add_release(store, demo, "hub-os", "1.7.0")
    signing = Spy()
    root = tmp_path / "ota"
    with pytest.raises(ConflictError, match=r"hub-os-1\.7\.0 is already registered in the fleet database"):
        publish_release(_manifest(tmp_path, "1.7.0", 1), demo, root, signing=signing, store=store)
    assert signing.calls == 0 and ReleaseCatalog(root).entries() == [] and not (root / "images").exists()


def test_a_bad_manifest_is_reported_before_the_keys_are_asked_for(tmp_path: Path, demo: Workspace) -> None:
    path = _manifest(tmp_path, "1.7.0", 1)
    path.write_text(path.read_text().replace("MD-HUB-A1", "MD-HUB-Z9"))
    signing = Spy()
    with pytest.raises(ManifestError) as caught:
        publish_release(path, demo, tmp_path / "ota", signing=signing)
    assert caught.value.line == 5 and signing.calls == 0
    assert not (tmp_path / "ota").exists()
