"""`evplatform ota release|records|delta` through the Typer application (and once through the entry point)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evplatform.cli.main import app
from evplatform.errors import OtaError
from evplatform.fleet import campaigns as fc
from evplatform.fleet.link import FailureModel, SimulatedLink
from evplatform.fleet.registry import register_vehicles
from evplatform.fleet.update_records import RecordingLink
from evplatform.ota.delta import Delta, apply_delta
from evplatform.ota.image_repository import ImageRepository
from evplatform.ota.keys import KeyRing
from evplatform.ota.metadata_common import system_clock
from evplatform.ota.storage import DirectoryImageStore
from evplatform.store import open_store
from evplatform.store import releases as rdb
from evplatform.workspace import load_workspace
from fleet_support import T0, add_release, approve, small_fleet_specs

MANIFEST = """\
version: {version}
notes: Release {version}
images:
  - component: hub-os
    hardware_id: MD-HUB-A1
    file: {file}
rxswin:
  su7: SU7-R156-{version}
"""


def _image(seed: int, edit: int = 0) -> bytes:
    base = bytes((i * 7 + (i >> 8)) % 251 for i in range(120_000))
    return base[:5000] + bytes([seed]) * (200 + edit) + base[5000:]


def _manifests(folder: Path) -> tuple[Path, Path]:
    (folder / "a.img").write_bytes(_image(1))
    (folder / "b.img").write_bytes(_image(2, 30))
    first, second = folder / "r1.yaml", folder / "r2.yaml"
    first.write_text(MANIFEST.format(version="1.7.0", file="a.img"))
    second.write_text(MANIFEST.format(version="1.8.0", file="b.img"))
    return first, second


def _invoke(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_release_stores_images_and_a_delta_from_the_previous_release(tmp_path: Path) -> None:
    first, second = _manifests(tmp_path)
    root = tmp_path / "ota"
    one = _invoke("ota", "release", str(first), "--root", str(root), "--no-repository", "--json")
    assert one["images"][0]["delta"] is None and one["image_repository_targets_version"] is None
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    two = _invoke("ota", "release", str(second), "--root", str(root), "--no-repository", "--database", url, "--json")
    assert two["database_releases"] == ["hub-os-1.8.0"]
    store = open_store(url)
    registered = rdb.release(store, "hub-os-1.8.0")
    store.dispose()
    assert registered is not None and (registered.ecu, registered.version) == ("central-compute", "1.8.0")
    (row,) = two["images"]
    assert row["target"] == "hub-os/1.8.0" and row["release_counter"] == 2
    meta = row["delta"]
    assert meta["from_release"] == "hub-os-1.7.0" and meta["algorithm"] == "hdiffpatch-cdc"
    images = DirectoryImageStore(root / "images")
    delta = Delta.from_metadata(meta, images.read(meta["patch_sha256"]))
    assert apply_delta(images.read(one["images"][0]["sha256"]), delta, row["sha256"]) == _image(2, 30)
    assert sorted(p.name for p in (root / "releases").iterdir()) == ["hub-os-1.7.0.json", "hub-os-1.8.0.json"]
    with pytest.raises(OtaError, match=r"not newer than 1\.8\.0"):  # published once; the catalogue knows 1.8.0
        CliRunner().invoke(app, ["ota", "release", str(second), "--root", str(root)], catch_exceptions=False)


def test_release_is_signed_into_the_image_repository(tmp_path: Path) -> None:
    first, _ = _manifests(tmp_path)
    root = tmp_path / "ota"
    ring = KeyRing.init(root / "keys", insecure_demo_keys=True)
    ImageRepository.create_from_keyring(root / "image", system_clock, ring)
    done = _invoke("ota", "release", str(first), "--root", str(root), "--insecure-demo-keys", "--json")
    assert done["image_repository_targets_version"] == 2
    target = ImageRepository(root / "image", system_clock).target("hub-os/1.7.0")
    assert (target.sha256, target.hardware_id, target.version, target.release_counter) == (
        done["images"][0]["sha256"], "MD-HUB-A1", "1.7.0", 1)


def test_bad_manifest_exits_1_naming_file_and_line(tmp_path: Path) -> None:
    first, _ = _manifests(tmp_path)
    first.write_text(first.read_text().replace("MD-HUB-A1", "MD-HUB-Z9"))
    done = subprocess.run([sys.executable, "-m", "evplatform", "ota", "release", str(first), "--root",
                           str(tmp_path / "ota")], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{first}:5: image: hardware id 'MD-HUB-Z9'" in done.stderr.replace("\n", "")
    assert not (tmp_path / "ota" / "releases").exists()  # nothing half-published


def test_delta_command(tmp_path: Path) -> None:
    _manifests(tmp_path)
    out = tmp_path / "p" / "patch.bin"
    figures = _invoke("ota", "delta", str(tmp_path / "a.img"), str(tmp_path / "b.img"), "--out", str(out), "--json")
    assert figures["algorithm"] == "hdiffpatch-cdc" and figures["patch_length"] == out.stat().st_size
    assert json.loads(out.with_name("patch.bin.json").read_text())["new_sha256"] == figures["new_sha256"]
    forced_full = _invoke("ota", "delta", str(tmp_path / "a.img"), str(tmp_path / "b.img"), "--algorithm", "full",
                          "--json")
    assert forced_full["algorithm"] == "full"
    with pytest.raises(OtaError, match="cannot read image"):
        CliRunner().invoke(app, ["ota", "delta", str(tmp_path / "nope"), str(tmp_path / "b.img")],
                           catch_exceptions=False)


def test_records_export_from_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    ws = load_workspace(None)
    store = open_store(url)
    register_vehicles(store, ws, small_fleet_specs(ws, 2), at=T0)
    add_release(store, ws, "hub-os", "1.7.0")
    approve(store, "hub-os-1.7.0", "CN", "EU")
    cid = fc.create_campaign(store, name="hub-os 1.7.0", release_id="hub-os-1.7.0", now=T0)
    fc.start_campaign(store, cid, now=T0)
    quiet = FailureModel(download_interruption=0, install_failure=0, power_loss=0, postpone=0, offline=0)
    fc.run_campaign(store, cid, RecordingLink(SimulatedLink(1, quiet), store, cid), tick=timedelta(hours=1))
    store.dispose()
    out = tmp_path / "audit" / "records.csv"
    document = _invoke("ota", "records", "--campaign", str(cid), "--database", url, "--out", str(out), "--json")
    assert document["format"] == "evplatform-update-records" and document["count"] == 26
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 26 and {r["outcome"] for r in rows} == {"succeeded"}
    de = [r for r in rows if r["market"] == "DE"]
    assert de and all(r["rxswin_before"] != r["rxswin_after"] for r in de)
    one = _invoke("ota", "records", "--vin", rows[0]["vin"], "--database", url, "--json")
    assert [r["vin"] for r in one["records"]] == [rows[0]["vin"]]
    table = CliRunner().invoke(app, ["ota", "records", "--database", url], catch_exceptions=False)
    assert table.exit_code == 0 and "26 update record(s)" in table.stdout
