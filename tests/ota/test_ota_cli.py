"""`evplatform ota keys|init|sign|verify` through the Typer app, JSON and Rich output."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from evplatform.cli import ota
from evplatform.errors import OtaError


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    ota.register(app)
    return app


def _run(app: typer.Typer, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["ota", *args], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def test_keys_init_list_with_passphrase(app: typer.Typer, tmp_path: Path) -> None:
    code, out = _run(app, "keys", "init", str(tmp_path / "k"), "--passphrase-env", "OTA_PW", "--json",
                     env={"OTA_PW": "s3cret"})
    assert code == 0
    data = json.loads(out)
    assert {k["name"] for k in data["keys"] if k["encrypted"]} == {
        "image-root-1", "image-root-2", "image-root-3", "image-targets", "director-root"}
    assert "s3cret" not in out and "PRIVATE" not in out
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in (tmp_path / "k").glob("*.pem"))
    code, out = _run(app, "keys", "list", str(tmp_path / "k"))
    assert code == 0 and "image-root-1" in out and "offline" in out
    code, out = _run(app, "keys", "list", str(tmp_path / "k"), "--json")
    thresholds = {(t["repository"], t["role"]): t["threshold"] for t in json.loads(out)["thresholds"]}
    assert thresholds[("image", "root")] == 2 and thresholds[("director", "targets")] == 1


def test_missing_passphrase_variable(app: typer.Typer, tmp_path: Path) -> None:
    with pytest.raises(OtaError, match="OTA_NOPE is not set"):
        _run(app, "keys", "init", str(tmp_path / "k"), "--passphrase-env", "OTA_NOPE", env={"OTA_NOPE": ""})


def test_init_sign_verify(app: typer.Typer, tmp_path: Path) -> None:
    env = {"OTA_PW": "pw"}
    root, offline = tmp_path / "ota", tmp_path / "offline-keys"
    _run(app, "keys", "init", str(offline), "--passphrase-env", "OTA_PW", env=env)
    code, out = _run(app, "init", "--root", str(root), "--keys", str(offline), "--passphrase-env", "OTA_PW", "--json",
                     env=env)
    assert code == 0 and json.loads(out)["ok"] is True
    # The server's folder receives the online keys alone.
    assert sorted(p.stem for p in (root / "keys").glob("*.pem")) == [
        "director-snapshot", "director-targets", "director-timestamp", "image-snapshot", "image-timestamp"]
    code, out = _run(app, "sign", "timestamp", "--root", str(root), "--json")
    assert code == 0 and json.loads(out)["versions"] == {"timestamp": 2}
    code, out = _run(app, "sign", "snapshot", "--root", str(root), "--json")
    assert json.loads(out)["versions"] == {"snapshot": 2, "timestamp": 3}
    with pytest.raises(OtaError, match="no image targets key"):
        _run(app, "sign", "targets", "--root", str(root))
    with pytest.raises(OtaError, match="passphrase is needed"):
        _run(app, "sign", "targets", "--root", str(root), "--keys", str(offline))
    code, out = _run(app, "sign", "targets", "--root", str(root), "--keys", str(offline), "--passphrase-env", "OTA_PW",
                     "--json", env=env)
    assert json.loads(out)["versions"]["targets"] == 2
    code, out = _run(app, "sign", "director", "--root", str(root), "--json")
    assert json.loads(out)["versions"] == {"vehicles": 0}
    code, out = _run(app, "verify", "--root", str(root))
    assert code == 0 and "all checks passed" in out
    with pytest.raises(OtaError, match="unknown role"):
        _run(app, "sign", "everything", "--root", str(root))


def test_verify_fails_on_tampered_metadata(app: typer.Typer, tmp_path: Path) -> None:
    root = tmp_path / "ota"
    _run(app, "keys", "init", str(root / "keys"), "--insecure-demo-keys")
    _run(app, "init", "--root", str(root), "--insecure-demo-keys")
    snapshot = root / "image" / "metadata" / "snapshot.json"
    doc = json.loads(snapshot.read_text())
    doc["signed"]["version"] = 7
    snapshot.write_text(json.dumps(doc))
    code, out = _run(app, "verify", "--root", str(root), "--json")
    assert code == 1
    report = json.loads(out)
    assert not report["ok"]
    assert any(c["name"] == "snapshot signatures" and not c["ok"] for c in report["checks"])


def test_verify_malformed_json(app: typer.Typer, tmp_path: Path) -> None:
    root = tmp_path / "ota"
    _run(app, "keys", "init", str(root / "keys"), "--insecure-demo-keys")
    _run(app, "init", "--root", str(root), "--insecure-demo-keys")
    (root / "image" / "metadata" / "timestamp.json").write_text("{")
    with pytest.raises(OtaError, match=r"timestamp\.json:1:2: malformed JSON"):
        _run(app, "verify", "--root", str(root))


def test_rotate_root_image_and_director(app: typer.Typer, tmp_path: Path) -> None:
    env = {"OTA_PW": "pw"}
    root, offline = tmp_path / "ota", tmp_path / "offline-keys"
    _run(app, "keys", "init", str(offline), "--passphrase-env", "OTA_PW", env=env)
    _run(app, "init", "--root", str(root), "--keys", str(offline), "--passphrase-env", "OTA_PW", env=env)
    code, out = _run(app, "rotate-root", "image", "--root", str(root), "--keys", str(offline), "--passphrase-env",
                     "OTA_PW", "--new-keys", "2", "--threshold", "1", "--json", env=env)
    assert code == 0 and json.loads(out) == {"repository": "image", "root_version": 2,
                                             "new_keys": ["image-root-g2-1", "image-root-g2-2"], "threshold": 1}
    code, out = _run(app, "rotate-root", "director", "--root", str(root), "--keys", str(offline), "--passphrase-env",
                     "OTA_PW",
                     "--new-keys", "1", "--threshold", "1", "--json", env=env)
    assert json.loads(out)["root_version"] == 2
    code, out = _run(app, "keys", "list", str(offline), "--json")
    retired = {k["name"] for k in json.loads(out)["keys"] if k["retired"]}
    assert retired == {"image-root-1", "image-root-2", "image-root-3", "director-root"}
    code, out = _run(app, "verify", "--root", str(root))
    assert code == 0
    # A second rotation is signed by the new keys (generation 3).
    code, out = _run(app, "rotate-root", "image", "--root", str(root), "--keys", str(offline), "--passphrase-env",
                     "OTA_PW", "--new-keys", "1", "--threshold", "1", "--json", env=env)
    assert json.loads(out)["new_keys"] == ["image-root-g3-1"] and json.loads(out)["root_version"] == 3


def test_failed_rotation_keeps_keys_and_root(app: typer.Typer, tmp_path: Path) -> None:
    root = tmp_path / "ota"
    _run(app, "keys", "init", str(root / "keys"), "--insecure-demo-keys")
    _run(app, "init", "--root", str(root), "--insecure-demo-keys")
    before = sorted(p.name for p in (root / "keys").iterdir())
    with pytest.raises(OtaError, match="threshold"):
        _run(app, "rotate-root", "image", "--root", str(root), "--new-keys", "1", "--threshold", "2",
             "--insecure-demo-keys")
    assert sorted(p.name for p in (root / "keys").iterdir()) == before
    assert not (root / "image" / "metadata" / "2.root.json").exists()
