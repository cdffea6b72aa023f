"""A/B slots: the last good software stays bootable whatever step a power loss interrupts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from evplatform.ota.client.errors import InstallError
from evplatform.ota.client.slots import EcuSlots, SlotImage

OLD = b"old firmware " * 100
NEW = b"new firmware " * 120
INSTALL_STEPS = ["image-written", "info-written", "trial-set"]


def image_of(data: bytes, name: str, counter: int) -> SlotImage:
    return SlotImage(name, hashlib.sha256(data).hexdigest(), len(data), counter)


class PowerLoss(Exception):
    """Raised by the fault hook: the process dies right after a durable step."""


def provisioned(tmp_path: Path, fault_at: str | None = None) -> EcuSlots:
    def fault(step: str) -> None:
        if step == fault_at:
            raise PowerLoss(step)

    slots = EcuSlots(tmp_path, "ecu-1", fault)
    EcuSlots(tmp_path, "ecu-1").provision(image_of(OLD, "fw/1", 1), OLD)
    return slots


def rebooted(tmp_path: Path) -> EcuSlots:
    """A fresh object reading only what is on disk, as after a power cycle."""
    return EcuSlots(tmp_path, "ecu-1")


def test_install_then_commit(tmp_path: Path) -> None:
    slots = provisioned(tmp_path)
    assert slots.install(image_of(NEW, "fw/2", 2), NEW) == "b"
    assert slots.installed() == image_of(OLD, "fw/1", 1)  # still on the old software until boot
    result = slots.boot(lambda image, data: data == NEW)
    assert result.committed and slots.active == "b" and slots.installed() == image_of(NEW, "fw/2", 2)
    assert slots.install(image_of(OLD, "fw/3", 3), OLD) == "a"  # the next install alternates


@pytest.mark.parametrize("step", INSTALL_STEPS)
def test_power_loss_during_install_keeps_the_old_software(tmp_path: Path, step: str) -> None:
    slots = provisioned(tmp_path, fault_at=step)
    with pytest.raises(PowerLoss):
        slots.install(image_of(NEW, "fw/2", 2), NEW)
    after = rebooted(tmp_path)
    result = after.boot(lambda image, data: step != "trial-set")  # a completed install may still fail its check
    assert after.active == "a" and after.image_bytes("a") == OLD
    assert result.image == image_of(OLD, "fw/1", 1)
    assert after.trial is None
    assert not list(after.folder.rglob("*.tmp"))  # no half-written temp file left behind


def test_power_loss_during_the_trial_boot_rolls_back(tmp_path: Path) -> None:
    slots = provisioned(tmp_path, fault_at="trial-booted")
    slots.install(image_of(NEW, "fw/2", 2), NEW)
    with pytest.raises(PowerLoss):
        slots.boot(lambda image, data: True)
    result = rebooted(tmp_path).boot(lambda image, data: True)
    assert result.rolled_back and "did not finish" in result.reason
    assert rebooted(tmp_path).installed() == image_of(OLD, "fw/1", 1)


def test_power_loss_right_after_commit_keeps_the_new_software(tmp_path: Path) -> None:
    slots = provisioned(tmp_path, fault_at="committed")
    slots.install(image_of(NEW, "fw/2", 2), NEW)
    with pytest.raises(PowerLoss):
        slots.boot(lambda image, data: True)
    assert rebooted(tmp_path).boot().image == image_of(NEW, "fw/2", 2)


def test_crashing_health_check_is_a_failed_one(tmp_path: Path) -> None:
    slots = provisioned(tmp_path)
    slots.install(image_of(NEW, "fw/2", 2), NEW)

    def crash(image: SlotImage, data: bytes) -> bool:
        raise RuntimeError("watchdog")

    result = slots.boot(crash)
    assert result.rolled_back and "watchdog" in result.reason and slots.active == "a"


def test_corrupted_trial_slot_is_not_committed(tmp_path: Path) -> None:
    slots = provisioned(tmp_path)
    slots.install(image_of(NEW, "fw/2", 2), NEW)
    (slots.folder / "b" / "image").write_bytes(NEW[:-1] + b"X")  # bit rot after the install
    result = slots.boot(lambda image, data: True)
    assert result.rolled_back and "corrupted" in result.reason and slots.active == "a"


def test_install_refuses_bytes_that_are_not_the_image(tmp_path: Path) -> None:
    slots = provisioned(tmp_path)
    with pytest.raises(InstallError, match="do not match"):
        slots.install(image_of(NEW, "fw/2", 2), NEW[:-1])
    assert slots.trial is None


def test_cancel_trial_and_bad_inputs(tmp_path: Path) -> None:
    slots = provisioned(tmp_path)
    slots.install(image_of(NEW, "fw/2", 2), NEW)
    slots.cancel_trial()
    assert slots.trial is None and slots.boot().slot == "a"
    with pytest.raises(InstallError, match="already provisioned"):
        slots.provision(image_of(NEW, "fw/2", 2), NEW)
    with pytest.raises(InstallError, match="slot folder"):
        EcuSlots(tmp_path, "../escape")
    (slots.folder / "state.json").write_text(json.dumps({"active": "c", "trial": None}))
    with pytest.raises(InstallError, match="invalid slot state"):
        slots.boot()
    (slots.folder / "state.json").write_text("{not json")
    with pytest.raises(InstallError, match="unreadable"):
        slots.boot()


def test_unprovisioned_ecu_boots_with_nothing(tmp_path: Path) -> None:
    slots = EcuSlots(tmp_path, "ecu-new")
    assert slots.installed() is None and slots.boot().image is None
    with pytest.raises(InstallError, match="no image"):
        slots.image_bytes("a")
