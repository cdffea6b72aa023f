"""Release manifests: validated against software.yaml, every mistake reported at its line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from evplatform.errors import OtaError
from evplatform.fleet.release_manifest import load_release_manifest
from evplatform.ota.releases import ManifestError, ReleaseCatalog, version_key
from evplatform.workspace import Workspace, load_workspace

IMAGE = b"\x7fELF hub-os 1.7.0" + bytes(range(256)) * 40

GOOD = """\
id: hub-os-1.7.0
version: 1.7.0
notes: |
  Faster boot; fixes the parking-brake chime.
images:
  - component: hub-os
    ecu: central-compute
    hardware_id: MD-HUB-A1
    file: hub-os.img
    sha256: {sha}
    length: {length}
rxswin:
  su7: SU7-R156-0007
"""


@pytest.fixture(scope="module")
def demo() -> Workspace:
    return load_workspace(None)


def _write(tmp_path: Path, text: str, image: bytes = IMAGE) -> Path:
    (tmp_path / "hub-os.img").write_bytes(image)
    path = tmp_path / "release.yaml"
    path.write_text(text.format(sha=hashlib.sha256(image).hexdigest(), length=len(image)), encoding="utf-8")
    return path


def test_good_manifest(tmp_path: Path, demo: Workspace) -> None:
    release = load_release_manifest(_write(tmp_path, GOOD), demo.software, demo.feature_model)
    assert release.id == "hub-os-1.7.0" and release.version == "1.7.0"
    (image,) = release.images
    assert (image.component, image.ecu, image.hardware_id) == ("hub-os", "central-compute", "MD-HUB-A1")
    assert image.sha256 == hashlib.sha256(IMAGE).hexdigest() and image.length == len(IMAGE)
    assert release.compatible_text == "CentralCompute"  # the component's, when the manifest gives none
    assert release.rxswin == {"su7": "SU7-R156-0007"}
    assert release.notes.startswith("Faster boot")
    assert release.to_dict()["images"][0]["file"] == "hub-os.img"
    config = next(iter(demo.configurations.values()))
    assert release.is_compatible(config) == ("CentralCompute" in config)


def test_json_manifest_and_explicit_expression(tmp_path: Path, demo: Workspace) -> None:
    (tmp_path / "bms.img").write_bytes(b"bms")
    path = tmp_path / "release.json"
    path.write_text('{"version": "5.2.0", "notes": "Cell balancing", "compatible": "Pack_LFP_73",\n'
                    ' "images": [{"component": "bms-lfp", "hardware_id": "MD-BMS-C1", "file": "bms.img"}]}\n')
    release = load_release_manifest(path, demo.software, demo.feature_model)
    assert release.id == "bms-lfp-5.2.0" and release.compatible_text == "Pack_LFP_73"


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (("version: 1.7.0", "version: 1.6.0"), 2, "not newer than 1.6.0"),
        (("version: 1.7.0", "version: 1.5.9"), 2, "not newer than 1.6.0"),
        (("hardware_id: MD-HUB-A1", "hardware_id: MD-ZC-B2"), 8, "hardware id 'MD-ZC-B2' is not the one"),
        (("ecu: central-compute", "ecu: adas"), 7, "runs on ECU 'central-compute', not 'adas'"),
        (("file: hub-os.img", "file: missing.img"), 9, "image file 'missing.img' not found"),
        (("component: hub-os", "component: hub-oss"), 6, "unknown software component 'hub-oss'"),
        (("rxswin:", "colour: red\nrxswin:"), 12, "unknown key 'colour'"),
        (("  su7: SU7-R156-0007", "  su7: not an id!"), 13, "not an identifier"),
        (("notes: |\n  Faster boot; fixes the parking-brake chime.\n", ""), 1, "missing required key 'notes'"),
        (("    length: {length}", "    length: 12"), 11, "the manifest says 12 (truncated?)"),
        (("    length: {length}", "    size: 12"), 11, "image: unknown key 'size'"),
        (("version: 1.7.0", "version: 1.7.0\ncompatible: CentralCompute & Warp"), 3, "unknown feature(s) Warp"),
        (("version: 1.7.0", "version: 1.7.0\ncompatible: CentralCompute &"), 3, "compatible:"),
        (("id: hub-os-1.7.0", "id: ../etc"), 1, "release id '../etc'"),
        (("version: 1.7.0", "version: 1.7.0 beta"), 2, "is not a dotted version"),
    ],
)
def test_bad_manifest_lines(tmp_path: Path, demo: Workspace, edit: tuple[str, str], line: int, message: str) -> None:
    text = GOOD.replace(*edit)
    with pytest.raises(ManifestError) as caught:
        load_release_manifest(_write(tmp_path, text), demo.software, demo.feature_model)
    error = caught.value
    assert message in error.message
    assert error.file == str(tmp_path / "release.yaml") and error.line == line
    assert isinstance(error, OtaError)  # callers catching OTA errors see manifest errors too


def test_empty_image_list(tmp_path: Path, demo: Workspace) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("version: 1.7.0\nnotes: x\nimages: []\n")
    with pytest.raises(ManifestError, match="images must be a non-empty list") as caught:
        load_release_manifest(path, demo.software)
    assert caught.value.line == 3


def test_corrupted_image_against_its_declared_hash(tmp_path: Path, demo: Workspace) -> None:
    path = _write(tmp_path, GOOD)
    (tmp_path / "hub-os.img").write_bytes(IMAGE[:-1] + b"X")
    with pytest.raises(ManifestError, match="corrupted or wrong file") as caught:
        load_release_manifest(path, demo.software, demo.feature_model)
    assert caught.value.line == 10


def test_malformed_yaml_names_line_and_column(tmp_path: Path, demo: Workspace) -> None:
    path = tmp_path / "release.yaml"
    path.write_text("version: 1.7.0\nimages: [\n  {component: hub-os\n")
    with pytest.raises(ManifestError, match="malformed YAML") as caught:
        load_release_manifest(path, demo.software)
    assert caught.value.line is not None and caught.value.column is not None


def test_two_images_for_one_ecu(tmp_path: Path, demo: Workspace) -> None:
    (tmp_path / "a.img").write_bytes(b"a")
    path = tmp_path / "r.yaml"
    path.write_text(
        "version: 9.0.0\nnotes: x\nimages:\n"
        "  - {component: adas-std, hardware_id: MD-ADAS-ORIN-N, file: a.img}\n"
        "  - {component: adas-high, hardware_id: MD-ADAS-ORIN-X2, file: a.img}\n"
    )
    with pytest.raises(ManifestError, match="two images for ECU 'adas' \\(the other at line 4\\)") as caught:
        load_release_manifest(path, demo.software)
    assert caught.value.line == 5


def test_installed_versions_override_software_yaml(tmp_path: Path, demo: Workspace) -> None:
    path = _write(tmp_path, GOOD)
    with pytest.raises(ManifestError, match=r"not newer than 1\.10\.0"):
        load_release_manifest(path, demo.software, installed={"hub-os": "1.10.0"})


def test_version_order_is_numeric() -> None:
    assert version_key("1.10.0") > version_key("1.9.2") > version_key("1.9")
    assert version_key("2.0.0") > version_key("2.0.0-rc1") or version_key("2.0.0-rc1") > version_key("2.0.0")


def test_catalogue_publishes_once_and_finds_the_previous_image(tmp_path: Path, demo: Workspace) -> None:
    catalog = ReleaseCatalog(tmp_path / "server")
    first = load_release_manifest(_write(tmp_path, GOOD), demo.software)
    catalog.save(first, {})
    with pytest.raises(OtaError, match="already published"):
        catalog.save(first, {})
    assert catalog.latest_versions() == {"hub-os": "1.7.0"}
    later = catalog.previous_image("hub-os", "1.8.0")
    assert later is not None and later["release"] == "hub-os-1.7.0" and later["sha256"] == first.images[0].sha256
    assert catalog.previous_image("hub-os", "1.7.0") is None
    (catalog.folder / "broken.json").write_text("{not json")
    with pytest.raises(OtaError, match="unreadable release catalogue entry"):
        catalog.entries()
