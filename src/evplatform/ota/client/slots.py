"""A/B slots of one ECU: install into the inactive slot, boot it on trial, commit or roll back.

Layout (one folder per ECU, one per slot)::

    <slots_dir>/<ecu serial>/a/image        the image bytes of slot a
    <slots_dir>/<ecu serial>/a/image.json   what it is: filepath, sha256, length, release counter
    <slots_dir>/<ecu serial>/b/...
    <slots_dir>/<ecu serial>/state.json     {"active": "a", "trial": null | "b", "trial_booted": false}

Every file is written to a temp file, fsynced and renamed, then the folder is fsynced, so a power
loss leaves the old or the new file, never half of one. ``state.json`` is the only switch and is
written last: until it names the new slot as trial, the vehicle boots the old slot; a trial slot
that was booted once and not committed (power loss or a crash during the trial boot) is rolled
back on the next boot, like a boot counter of 1. The active slot is never written during an
install, so the last good software stays bootable whatever happens.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from evplatform.ota.client.errors import InstallError
from evplatform.ota.metadata_common import write_atomic

SLOTS = ("a", "b")

#: Called with a step name ("image-written", "info-written", "trial-set", "trial-booted",
#: "committed") right after that step is durable; tests raise from it to simulate a power loss.
FaultHook = Callable[[str], None]
#: The health check of the newly booted slot: True when the software came up well.
HealthCheck = Callable[["SlotImage", bytes], bool]


@dataclass(frozen=True, slots=True)
class SlotImage:
    """What a slot holds (the ``installed_image`` of an Uptane ECU version report)."""

    filepath: str
    sha256: str
    length: int
    release_counter: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SlotImage:
        return cls(str(data["filepath"]), str(data["sha256"]), int(data["length"]), int(data["release_counter"]))


@dataclass(frozen=True, slots=True)
class BootResult:
    """What one boot did: the slot running afterwards and whether a trial was committed or undone."""

    ecu_serial: str
    slot: str
    image: SlotImage | None
    committed: bool = False
    rolled_back: bool = False
    reason: str = ""


def write_durably(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename (``metadata_common.write_atomic``), then fsync
    the folder so the rename itself survives a power loss."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data, mode=0o600)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class EcuSlots:
    """The two slots of one ECU and the switch between them (all state on disk)."""

    def __init__(self, slots_dir: Path, ecu_serial: str, fault: FaultHook | None = None) -> None:
        if not ecu_serial or "/" in ecu_serial or ecu_serial in (".", ".."):
            raise InstallError(f"ECU serial {ecu_serial!r} cannot name a slot folder")
        self.ecu_serial = ecu_serial
        self.folder = Path(slots_dir) / ecu_serial
        self.fault = fault

    # -- state --------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        path = self.folder / "state.json"
        if not path.exists():
            return {"active": "a", "trial": None, "trial_booted": False}
        try:
            state = json.loads(path.read_bytes())
        except ValueError as error:
            raise InstallError(f"{path}: unreadable slot state ({error})") from error
        if state.get("active") not in SLOTS or state.get("trial") not in (None, *SLOTS):
            raise InstallError(f"{path}: invalid slot state {state!r}")
        return dict(state)

    def _write_state(self, state: dict[str, Any], step: str) -> None:
        write_durably(self.folder / "state.json", json.dumps(state, sort_keys=True).encode())
        self._step(step)

    def _step(self, name: str) -> None:
        if self.fault is not None:
            self.fault(name)

    @property
    def active(self) -> str:
        return str(self._state()["active"])

    @property
    def inactive(self) -> str:
        return "b" if self.active == "a" else "a"

    @property
    def trial(self) -> str | None:
        trial = self._state()["trial"]
        return None if trial is None else str(trial)

    def image_info(self, slot: str) -> SlotImage | None:
        path = self.folder / slot / "image.json"
        if not path.exists():
            return None
        try:
            return SlotImage.from_json(json.loads(path.read_bytes()))
        except (ValueError, KeyError, TypeError) as error:
            raise InstallError(f"{path}: unreadable image information ({error})") from error

    def image_bytes(self, slot: str) -> bytes:
        try:
            return (self.folder / slot / "image").read_bytes()
        except FileNotFoundError as error:
            raise InstallError(f"ECU {self.ecu_serial} slot {slot}: no image") from error

    def installed(self) -> SlotImage | None:
        """The image of the active (last committed) slot: what the ECU runs and reports."""
        return self.image_info(self.active)

    # -- provisioning, install, boot ------------------------------------------------------------
    def provision(self, image: SlotImage, data: bytes) -> None:
        """Factory install: write slot a and make it active (only on an empty ECU)."""
        if (self.folder / "state.json").exists():
            raise InstallError(f"ECU {self.ecu_serial}: already provisioned")
        self._write_slot("a", image, data)
        self._write_state({"active": "a", "trial": None, "trial_booted": False}, "provisioned")

    def install(self, image: SlotImage, data: bytes) -> str:
        """Write a verified image into the inactive slot and mark it for a trial boot."""
        if len(data) != image.length or hashlib.sha256(data).hexdigest() != image.sha256:
            raise InstallError(f"ECU {self.ecu_serial}: image bytes do not match {image.filepath}; not installed")
        state = self._state()
        target = "b" if state["active"] == "a" else "a"
        if state["trial"] is not None:
            state = {**state, "trial": None, "trial_booted": False}  # a newer image replaces a pending one
            self._write_state(state, "trial-cleared")
        self._write_slot(target, image, data)
        self._write_state({**state, "trial": target, "trial_booted": False}, "trial-set")
        return target

    def cancel_trial(self) -> None:
        """Forget a pending trial (another ECU of the same bundle failed to install)."""
        state = self._state()
        if state["trial"] is not None:
            self._write_state({"active": state["active"], "trial": None, "trial_booted": False}, "trial-cancelled")

    def _write_slot(self, slot: str, image: SlotImage, data: bytes) -> None:
        folder = self.folder / slot
        write_durably(folder / "image", data)
        self._step("image-written")
        write_durably(folder / "image.json", json.dumps(image.to_json(), sort_keys=True).encode())
        self._step("info-written")

    def boot(self, health_check: HealthCheck | None = None) -> BootResult:
        """One boot: run the trial slot if any, commit it if healthy, otherwise stay on the old one."""
        state = self._state()
        trial = state["trial"]
        if trial is None:
            return BootResult(self.ecu_serial, state["active"], self.installed())
        if state["trial_booted"]:
            return self._roll_back(state, "the trial boot did not finish (power loss or crash)")
        self._write_state({**state, "trial_booted": True}, "trial-booted")
        image = self.image_info(trial)
        reason = self._trial_problem(trial, image)
        if not reason and health_check is not None:
            try:
                healthy = health_check(image, self.image_bytes(trial))  # type: ignore[arg-type]
            except Exception as error:  # a crashing health check is a failed one
                healthy, reason = False, f"health check raised {type(error).__name__}: {error}"
            if not healthy and not reason:
                reason = "health check failed"
        if reason:
            return self._roll_back(state, reason)
        self._write_state({"active": trial, "trial": None, "trial_booted": False}, "committed")
        return BootResult(self.ecu_serial, trial, image, committed=True)

    def _trial_problem(self, slot: str, image: SlotImage | None) -> str:
        if image is None:
            return f"slot {slot} has no image information"
        try:
            data = self.image_bytes(slot)
        except InstallError as error:
            return str(error)
        if len(data) != image.length or hashlib.sha256(data).hexdigest() != image.sha256:
            return f"slot {slot} content does not match {image.filepath} (corrupted)"
        return ""

    def _roll_back(self, state: dict[str, Any], reason: str) -> BootResult:
        self._write_state({"active": state["active"], "trial": None, "trial_booted": False}, "rolled-back")
        return BootResult(self.ecu_serial, state["active"], self.installed(), rolled_back=True, reason=reason)
