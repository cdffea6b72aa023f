"""Security-relevant OTA events are logged with their facts, and never with key material."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from evplatform.ota.client import errors as e
from evplatform.ota.keys import KeyRing
from ota.vehicle_support import Server, build_server, build_vehicle, no_fsync  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_fsync")

MAIN_1 = b"main ecu firmware 1.0 " * 100
MAIN_2 = b"main ecu firmware 2.0 " * 100


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == name]


def test_key_loads_and_unencrypted_offline_keys_are_logged_without_material(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="evplatform.ota")
    ring = KeyRing.init(tmp_path / "keys", insecure_demo_keys=True)  # the offline keys stay plaintext
    ring.signers("image", "targets")
    [created] = events(caplog, "keys_created")
    assert created.offline_encrypted is False  # type: ignore[attr-defined]
    [loaded] = events(caplog, "key_loaded")
    assert loaded.role == "targets" and loaded.online is False  # type: ignore[attr-defined]
    [warning] = events(caplog, "offline_key_unencrypted")
    assert warning.levelno == logging.WARNING
    pem = (tmp_path / "keys" / "image-targets.pem").read_text()
    body = "".join(pem.splitlines()[1:-1])
    logged = " ".join(r.getMessage() + json.dumps(vars(r), default=str) for r in caplog.records)
    assert body[:40] not in logged


def test_published_metadata_and_a_refused_update_check_are_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="evplatform.ota")
    server: Server = build_server(tmp_path / "server")
    server.release_many([("main/1.0", MAIN_1, "hw-main", 1), ("main/2.0", MAIN_2, "hw-main", 2)])
    published = events(caplog, "metadata_published")
    assert {(r.repository, r.role) for r in published} >= {("image", "targets"), ("image", "timestamp")}  # type: ignore[attr-defined]
    car = build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0"})
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    mirror = server.mirror(car.registered.vin)
    mirror.files[f"images/{server.image.target('main/2.0').sha256}"] = b"x" * len(MAIN_2)
    car.client.fetcher = mirror
    with pytest.raises(e.ImageVerificationError):
        car.client.update_check()
    [refused] = events(caplog, "verification_failed")
    assert refused.vin == car.registered.vin and refused.error == "ImageVerificationError"  # type: ignore[attr-defined]
    assert refused.levelno == logging.WARNING
