"""One Director target: what the Director tells one ECU to install, on both ends of the wire.

The Director builds an :class:`Assignment` from an Image repository target and publishes it as a
target of the vehicle's Director targets metadata (``director.py``); the vehicle reads the same
value back from that metadata once its signatures are verified (``client/matching.py``), and
downloads, checks and installs from it. One type on both ends keeps the custom fields each side
writes and reads the same (docs INTERFACES, Director target ``custom``): ``ecu_serial``,
``hardware_id``, ``release_counter``, and for a delta image ``delta_from`` and
``delta: {"algorithm", "sha256", "length"}`` (Uptane 2.1.0 5.2.3.1, 3.2.2.4).

Pure values, no I/O and no imports from either side, so the vehicle's verification code depends
on nothing of the server's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class DeltaOffer:
    """A delta image the Director offers instead of the full image (U 3.2.2.4).

    It rebuilds the target only from the image whose sha256 is ``from_sha256``; ``sha256`` and
    ``length`` describe the patch itself.
    """

    from_sha256: str
    algorithm: str
    sha256: str
    length: int


@dataclass(frozen=True, slots=True)
class Assignment:
    """What one ECU must install: the image's path, length and hashes, its hardware and release counter."""

    ecu_serial: str
    hardware_id: str
    filepath: str
    length: int
    hashes: Mapping[str, str]
    release_counter: int
    delta: DeltaOffer | None

    @property
    def sha256(self) -> str:
        return self.hashes["sha256"]

    def custom(self) -> dict[str, Any]:
        """The Director target's ``custom`` object for this assignment."""
        custom: dict[str, Any] = {
            "ecu_serial": self.ecu_serial, "hardware_id": self.hardware_id, "release_counter": self.release_counter,
        }
        if self.delta is not None:
            custom["delta_from"] = self.delta.from_sha256
            custom["delta"] = {"algorithm": self.delta.algorithm, "sha256": self.delta.sha256,
                               "length": self.delta.length}
        return custom
