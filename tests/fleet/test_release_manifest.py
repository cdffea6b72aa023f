"""Release manifests read against the workspace (the full line-by-line suite is tests/ota/test_releases.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evplatform.fleet.release_manifest import load_release_manifest
from evplatform.ota.releases import ManifestError
from evplatform.workspace import Workspace

MANIFEST = "version: 1.7.0\nnotes: x\nimages:\n  - component: hub-os\n    hardware_id: MD-HUB-A1\n    file: {file}\n"


def test_a_confined_manifest_may_not_reach_outside_its_folder(tmp_path: Path, demo: Workspace) -> None:
    (tmp_path / "outside.img").write_bytes(b"server file")
    upload = tmp_path / "upload"
    upload.mkdir()
    path = upload / "release.yaml"
    path.write_text(MANIFEST.format(file="../outside.img"))
    assert load_release_manifest(path, demo.software).images[0].path == (tmp_path / "outside.img").resolve()
    with pytest.raises(ManifestError, match="must be a file name next to the manifest") as caught:
        load_release_manifest(path, demo.software, confined=True)
    assert caught.value.line == 6 and caught.value.file == str(path)
    (upload / "hub.img").write_bytes(b"hub")
    path.write_text(MANIFEST.format(file="hub.img"))
    assert load_release_manifest(path, demo.software, confined=True).images[0].length == 3


def test_the_compatibility_expression_comes_from_the_feature_model(tmp_path: Path, demo: Workspace) -> None:
    (tmp_path / "hub.img").write_bytes(b"hub")
    path = tmp_path / "release.yaml"
    path.write_text(MANIFEST.format(file="hub.img") + "compatible: CentralCompute & !LidarSuite\n")
    release = load_release_manifest(path, demo.software, demo.feature_model)
    assert release.is_compatible({"CentralCompute"}) and not release.is_compatible({"CentralCompute", "LidarSuite"})
