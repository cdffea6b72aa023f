"""Re-signing a role with a fresh expiry: the routine job that keeps metadata from expiring.

A vehicle refuses metadata whose expiry has passed (TUF 5.3.10, 5.4.4, 5.5.6; Uptane 5.4.4.3),
so each role is re-signed well before its lifetime ends:

* ``timestamp`` (1 day) and ``snapshot`` (7 days): Image repository, online keys — a cron job;
* ``targets`` (90 days): Image repository, offline key (its passphrase);
* ``director``: every registered vehicle's Director targets, snapshot and timestamp (online keys).
"""

from __future__ import annotations

from pathlib import Path

from evplatform.clock import Clock
from evplatform.errors import OtaError
from evplatform.ota.director import Director
from evplatform.ota.image_repository import ImageRepository
from evplatform.ota.keys import KeyRing

ROLES = ("timestamp", "snapshot", "targets", "director")


def resign(role: str, root: Path, clock: Clock, keyring: KeyRing) -> dict[str, int]:
    """Re-sign ``role`` in the OTA folder ``root``; the new versions by role (``vehicles``: how many)."""
    if role not in ROLES:
        raise OtaError(f"unknown role {role!r}: timestamp, snapshot, targets or director")
    image = ImageRepository.open_with_keyring(Path(root) / "image", clock, keyring)
    if role == "timestamp":
        return {"timestamp": image.refresh_timestamp()}
    if role == "snapshot":
        return {"snapshot": image.refresh_snapshot(), "timestamp": image.timestamp.signed.version}
    if role == "targets":
        return {"targets": image.resign_targets(keyring.signers("image", "targets")),
                "snapshot": image.snapshot.signed.version, "timestamp": image.timestamp.signed.version}
    director = Director.open_with_keyring(Path(root) / "director", clock, image, keyring)
    return {"vehicles": resign_director(director)}


def resign_director(director: Director) -> int:
    """Publish every registered vehicle's Director metadata anew; how many vehicles."""
    vins = director.vehicles()
    for vin in vins:
        director.publish(vin)
    return len(vins)
