"""Which vehicle each ECU serial belongs to, so that no serial is registered twice (Uptane 5.3.2.2).

The Director addresses an ECU by its serial inside a vehicle's metadata, and the vehicle checks
targets by serial: two vehicles sharing a serial would blur whose update is whose. The index is
one small file per serial under ``<director>/ecus/`` (named by the serial's SHA-256, since a
serial may hold characters a file name cannot), created with ``O_EXCL`` so that two
registrations racing for one serial cannot both win.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from evplatform.errors import OtaError

logger = logging.getLogger(__name__)


class EcuIndex:
    """ECU serial → VIN, on disk."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, serial: str) -> Path:
        return self.folder / hashlib.sha256(serial.encode("utf-8")).hexdigest()

    def owner(self, serial: str) -> str | None:
        try:
            return self._path(serial).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def claim(self, vin: str, serials: Iterable[str]) -> list[str]:
        """Record ``serials`` as ``vin``'s and return those it did not hold yet; OtaError, with nothing
        recorded, if another vehicle has one."""
        self.folder.mkdir(parents=True, exist_ok=True)
        claimed: list[str] = []
        try:
            for serial in serials:
                if self._create(serial, vin):
                    claimed.append(serial)
                    continue
                owner = self.owner(serial)
                if owner != vin:
                    logger.warning("ECU %s refused for %s: registered to %s", serial, vin, owner, extra={
                        "event": "ecu_serial_taken", "ecu_serial": serial, "vin": vin, "owner": owner})
                    raise OtaError(f"vehicle {vin}: ECU {serial} is already registered to vehicle {owner}; "
                                   "ECU serials are unique across the fleet (Uptane 5.3.2.2)")
        except OtaError:
            self.release(vin, claimed)
            raise
        return claimed

    def release(self, vin: str, serials: Iterable[str]) -> None:
        """Forget ``serials`` of ``vin`` (ECUs removed from it), so another vehicle may take them."""
        for serial in serials:
            if self.owner(serial) == vin:
                self._path(serial).unlink(missing_ok=True)

    def _create(self, serial: str, vin: str) -> bool:
        try:
            fd = os.open(self._path(serial), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(vin)
        return True
