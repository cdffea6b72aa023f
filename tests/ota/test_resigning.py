"""Re-signing every role with a fresh expiry (what `evplatform ota sign` calls)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from evplatform.clock import FixedClock
from evplatform.errors import OtaError
from evplatform.ota.director import Director
from evplatform.ota.image_repository import ImageRepository
from evplatform.ota.keys import KeyRing, generate_private_key, signer_of
from evplatform.ota.resigning import resign
from evplatform.ota.service import OtaService

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def test_each_role_gets_a_new_version_and_a_later_expiry(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    root = tmp_path / "ota"
    ring = KeyRing.init(root / "keys", insecure_demo_keys=True)
    service = OtaService.initialise(root, clock, ring)
    signer = signer_of(generate_private_key())
    service.register_vehicle("LSVAX1234AB000001", "hub-1", {"hub-1": ("MD-HUB-A1", signer.public_key)})
    before = service.director_metadata("LSVAX1234AB000001", "timestamp")
    clock.now = T0 + timedelta(hours=20)
    assert resign("timestamp", root, clock, ring) == {"timestamp": 2}
    assert resign("snapshot", root, clock, ring) == {"snapshot": 2, "timestamp": 3}
    assert resign("targets", root, clock, ring) == {"targets": 2, "snapshot": 3, "timestamp": 4}
    assert resign("director", root, clock, ring) == {"vehicles": 1}
    image = ImageRepository(root / "image", clock)
    assert image.timestamp.signed.expires == T0 + timedelta(hours=20, days=1)
    director = Director.open_with_keyring(root / "director", clock, image, ring)
    assert director.metadata_bytes("LSVAX1234AB000001", "timestamp") != before


def test_unknown_role_is_refused_before_opening_anything(tmp_path: Path) -> None:
    with pytest.raises(OtaError, match="unknown role 'everything'"):
        resign("everything", tmp_path / "nowhere", FixedClock(T0),
               KeyRing.init(tmp_path / "keys", insecure_demo_keys=True))
