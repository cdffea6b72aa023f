"""In-process OTA server fixtures: both repositories in a temp folder, a settable clock.

``build_test_repositories(tmp_path, clock)`` is the entry point the client and attack tests use
(``tests/ota/test_client*.py``, ``test_attacks.py``): it returns an Image repository, a Director
and the ``KeyRing`` holding every key (no passphrase, image root 2-of-3).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from securesystemslib.signer import CryptoSigner

from evplatform.ota.director import Director
from evplatform.ota.image_repository import ImageRepository, ImageTarget
from evplatform.ota.keys import KeyRing, generate_private_key, signer_of

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """A clock tests move by hand (``clock.advance(days=2)``); callable like any ``Clock``."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.now = self.now + (delta or timedelta(**kwargs))
        return self.now


@dataclass
class TestVehicle:
    """A registered vehicle and its ECU signers (the primary first)."""

    __test__ = False
    vin: str
    primary_serial: str
    hardware_ids: dict[str, str]
    signers: dict[str, CryptoSigner] = field(default_factory=dict)


def build_test_repositories(
    tmp_path: Path, clock: FakeClock | None = None
) -> tuple[ImageRepository, Director, KeyRing]:
    """Fresh Image repository and Director under ``tmp_path`` signed with a new ``KeyRing``."""
    clock = clock or FakeClock()
    keyring = KeyRing.init(tmp_path / "keys", insecure_demo_keys=True)
    image = ImageRepository.create_from_keyring(tmp_path / "image", clock, keyring)
    director = Director.create_from_keyring(tmp_path / "director", clock, image, keyring)
    return image, director, keyring


def add_images(
    image: ImageRepository, keyring: KeyRing, items: Iterable[tuple[str, bytes, str, int]]
) -> list[ImageTarget]:
    """List images (path, content, hardware id, release counter); component = first path part."""
    targets = [
        ImageTarget.from_data(path, data, component=path.split("/")[0], version=path.rsplit("/", 1)[-1],
                              hardware_id=hardware_id, release_counter=counter)
        for path, data, hardware_id, counter in items
    ]
    image.add_targets(targets, keyring.signers("image", "targets"))
    return targets


def register_test_vehicle(director: Director, vin: str, hardware_ids: dict[str, str]) -> TestVehicle:
    """Register ``vin`` with one new ed25519 key per ECU (serial -> hardware id; first = primary)."""
    signers = {serial: signer_of(generate_private_key()) for serial in hardware_ids}
    primary = next(iter(hardware_ids))
    director.register_vehicle(vin, primary, {s: (hardware_ids[s], signers[s].public_key) for s in hardware_ids})
    return TestVehicle(vin, primary, dict(hardware_ids), signers)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def repositories(tmp_path: Path, clock: FakeClock) -> tuple[ImageRepository, Director, KeyRing]:
    return build_test_repositories(tmp_path, clock)
