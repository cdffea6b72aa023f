"""POST /api/releases/publish: a manifest and its images in, the same release as `evplatform ota release`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.support import bearer, error_of
from evplatform.api import create_app
from evplatform.api.routers import release_publishing
from evplatform.cli.main import app as cli
from evplatform.ota.image_repository import ImageRepository
from evplatform.ota.keys import KeyRing
from evplatform.ota.metadata_common import system_clock
from evplatform.ota.releases import ReleaseCatalog
from evplatform.ota.service import OtaService

MANIFEST = """\
version: {version}
notes: Release {version}
images:
  - component: hub-os
    hardware_id: {hardware}
    file: {file}
rxswin:
  su7: SU7-R156-{version}
"""


def _image(seed: int) -> bytes:
    base = bytes((i * 7 + (i >> 8)) % 251 for i in range(80_000))
    return base[:4000] + bytes([seed]) * (150 + seed) + base[4000:]


def _manifest(version: str, file: str = "hub.img", hardware: str = "MD-HUB-A1") -> bytes:
    return MANIFEST.format(version=version, file=file, hardware=hardware).encode()


def _files(version: str, seed: int, **manifest: str) -> list[tuple[str, tuple[str, bytes]]]:
    return [("manifest", ("release.yaml", _manifest(version, **manifest))), ("images", ("hub.img", _image(seed)))]


def _ota_root(folder: Path, passphrase: str | None = None) -> Path:
    """A demo server folder holding every key (unencrypted offline keys when no passphrase)."""
    root = folder / "ota"
    ring = KeyRing.init(root / "keys", passphrase, insecure_demo_keys=passphrase is None)
    OtaService.initialise(root, system_clock, ring)
    return root


@pytest.fixture
def ota_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(release_publishing.ENV_INSECURE_DEMO_KEYS, "1")  # the demo's plaintext targets key
    return _ota_root(tmp_path / "server")


@pytest.fixture
def server(db_url: str, ota_root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(None, db_url, ota_root=ota_root)) as test_client:
        yield test_client


def _publish(client: TestClient, token: str, files: Any, **params: Any) -> Any:
    return client.post("/api/releases/publish", files=files, headers=bearer(token), params=params)


def test_only_release_managers_and_admins_publish(server: TestClient, tokens: dict[str, str], ota_root: Path) -> None:
    status, _, message = error_of(server.post("/api/releases/publish", files=_files("1.8.0", 1)))
    assert status == 401 and "Bearer" in message
    for role in ("viewer", "engineer"):
        status, kind, message = error_of(_publish(server, tokens[role], _files("1.8.0", 1)))
        assert (status, kind) == (403, "Forbidden") and "release_manager" in message
    assert ReleaseCatalog(ota_root).entries() == []
    assert _publish(server, tokens["admin"], _files("1.8.0", 1)).status_code == 201


def test_without_an_ota_folder_the_route_answers_501(client: TestClient, tokens: dict[str, str]) -> None:
    status, _, message = error_of(_publish(client, tokens["release_manager"], _files("1.8.0", 1)))
    assert status == 501 and "--ota-root" in message


@pytest.mark.parametrize(
    ("files", "line", "text"),
    [
        (_files("1.8.0", 1, hardware="MD-HUB-Z9"), 5, "image: hardware id 'MD-HUB-Z9' is not the one of component"),
        (_files("1.8.0", 1, file="../../keys/image-targets.pem"), 6, "must be a file name next to the manifest"),
        (_files("1.8.0", 1, file="other.img"), 6, "image file 'other.img' not found (looked in the upload)"),
        (_files("1.5.0", 1), 1, "version 1.5.0 of hub-os is not newer than 1.6.0"),
    ],
)
def test_a_bad_manifest_is_400_naming_the_uploaded_file_and_line(
        server: TestClient, tokens: dict[str, str], ota_root: Path, files: Any, line: int, text: str) -> None:
    status, kind, message = error_of(_publish(server, tokens["release_manager"], files))
    assert (status, kind) == (400, "ManifestError")
    assert message.startswith(f"release.yaml:{line}: ") and text in message
    assert str(ota_root) not in message and "uploads" not in message  # no server folders
    assert ReleaseCatalog(ota_root).entries() == [] and not any((ota_root / "uploads").iterdir())


def test_a_release_the_fleet_database_already_has_is_409(server: TestClient, tokens: dict[str, str],
                                                         ota_root: Path) -> None:
    status, kind, message = error_of(_publish(server, tokens["release_manager"], _files("1.7.0", 1)))
    assert (status, kind) == (409, "Conflict") and "hub-os-1.7.0 is already registered" in message
    assert ReleaseCatalog(ota_root).entries() == []


def _cli_publish(manifest: Path, root: Path, db_url: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["ota", "release", str(manifest), "--root", str(root), "--database", db_url,
                                      "--insecure-demo-keys", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _without_timings(document: dict[str, Any]) -> dict[str, Any]:
    for image in document["images"]:
        if image["delta"]:
            image["delta"].pop("create_s")
    return document


def test_publishing_through_the_api_equals_publishing_with_the_cli(
        server: TestClient, tokens: dict[str, str], ota_root: Path, db_url: str, tmp_path: Path) -> None:
    cli_db = tmp_path / "cli.db"
    shutil.copy(db_url.removeprefix("sqlite:///"), cli_db)
    cli_root = _ota_root(tmp_path / "cli")
    for version, seed in (("1.8.0", 1), ("1.9.0", 2)):
        response = _publish(server, tokens["release_manager"], _files(version, seed))
        assert response.status_code == 201, response.text
        via_api = response.json()
        folder = tmp_path / f"cli-{version}"
        folder.mkdir()
        (folder / "hub.img").write_bytes(_image(seed))
        (folder / "release.yaml").write_bytes(_manifest(version))
        via_cli = _cli_publish(folder / "release.yaml", cli_root, f"sqlite:///{cli_db}")
        assert via_api.pop("warnings") == []
        assert _without_timings(via_api) == _without_timings({k: v for k, v in via_cli.items() if k != "root"})
    assert via_api["images"][0]["release_counter"] == 2 and via_api["image_repository_targets_version"] == 3
    assert via_api["images"][0]["delta"]["from_release"] == "hub-os-1.8.0"
    strip = [{k: v for k, v in e.items() if k != "deltas"} for e in ReleaseCatalog(ota_root).entries()]
    assert strip == [{k: v for k, v in e.items() if k != "deltas"} for e in ReleaseCatalog(cli_root).entries()]
    registered = server.get("/api/releases/hub-os-1.9.0").json()
    assert (registered["ecu"], registered["version"], registered["compatible"], registered["notes"]) == (
        "central-compute", "1.9.0", "CentralCompute", "Release 1.9.0")
    # the server's own Uptane routes serve the new targets at once (one Image repository object)
    served = json.loads(server.get("/uptane/image/targets.json").content)["signed"]
    assert served["version"] == 3 and served["targets"]["hub-os/1.9.0"]["custom"]["release_counter"] == 2
    assert ImageRepository(ota_root / "image", system_clock).target("hub-os/1.9.0").release_counter == 2


def test_sign_false_stores_without_listing(server: TestClient, tokens: dict[str, str], ota_root: Path) -> None:
    response = _publish(server, tokens["release_manager"], _files("1.8.0", 1), sign="false")
    assert response.status_code == 201 and response.json()["image_repository_targets_version"] is None
    assert ImageRepository(ota_root / "image", system_clock).image_targets() == []
    assert [e["id"] for e in ReleaseCatalog(ota_root).entries()] == ["hub-os-1.8.0"]


def test_an_encrypted_targets_key_needs_the_servers_passphrase(
        db_url: str, tokens: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _ota_root(tmp_path, "secret")
    monkeypatch.delenv(release_publishing.ENV_OTA_PASSPHRASE, raising=False)
    with TestClient(create_app(None, db_url, ota_root=root)) as client:
        status, _, message = error_of(_publish(client, tokens["release_manager"], _files("1.8.0", 1)))
        assert status == 501 and release_publishing.ENV_OTA_PASSPHRASE in message
        assert ReleaseCatalog(root).entries() == []
        monkeypatch.setenv(release_publishing.ENV_OTA_PASSPHRASE, "secret")
        response = _publish(client, tokens["release_manager"], _files("1.8.0", 1))
        assert response.status_code == 201 and response.json()["image_repository_targets_version"] == 2


def test_a_server_with_online_keys_only_or_a_plaintext_targets_key_does_not_sign(
        db_url: str, tokens: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14 item 5: the targets key is offline; a plaintext one is used only with the demo flag."""
    root = tmp_path / "server" / "ota"
    OtaService.initialise(root, system_clock, KeyRing.init(tmp_path / "offline", "pw"))
    demo = _ota_root(tmp_path / "demo")
    monkeypatch.delenv(release_publishing.ENV_INSECURE_DEMO_KEYS, raising=False)
    for server_root, expected in ((root, "only online keys"), (demo, release_publishing.ENV_INSECURE_DEMO_KEYS)):
        with TestClient(create_app(None, db_url, ota_root=server_root)) as client:
            status, _, message = error_of(_publish(client, tokens["release_manager"], _files("1.8.0", 1)))
            assert status == 501 and expected in message
            assert ReleaseCatalog(server_root).entries() == []


def test_size_limits_and_malformed_uploads(server: TestClient, tokens: dict[str, str], ota_root: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    token = tokens["release_manager"]
    monkeypatch.setattr(release_publishing, "MAX_MANIFEST_BYTES", 50)
    status, _, message = error_of(_publish(server, token, _files("1.8.0", 1)))
    assert status == 413 and "the manifest" in message
    monkeypatch.setattr(release_publishing, "MAX_MANIFEST_BYTES", 1024**2)
    monkeypatch.setattr(release_publishing, "MAX_UPLOAD_BYTES", 10_000)
    assert error_of(_publish(server, token, _files("1.8.0", 1)))[0] == 413
    monkeypatch.setattr(release_publishing, "MAX_UPLOAD_BYTES", 2 * 1024**3)
    unsized = server.post("/api/releases/publish", content=iter([b"--x--\r\n"]), headers=bearer(token))
    assert error_of(unsized)[0] == 411
    status, _, message = error_of(_publish(server, token, [("images", ("hub.img", b"x"))]))
    assert status == 400 and "exactly one 'manifest'" in message
    twice = [*_files("1.8.0", 1), ("images", ("hub.img", b"again"))]
    assert "two uploaded files are named 'hub.img'" in error_of(_publish(server, token, twice))[2]
    extra = [*_files("1.8.0", 1), ("images", ("notes.txt", b"unused"))]
    response = _publish(server, token, extra)
    assert response.status_code == 201
    assert response.json()["warnings"] == ["ignored uploaded file(s) the manifest does not name: notes.txt"]
    assert [e["id"] for e in ReleaseCatalog(ota_root).entries()] == ["hub-os-1.8.0"]
