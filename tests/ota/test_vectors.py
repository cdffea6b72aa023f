"""Conformance: the 86 Uptane cases of the tuf-test-vectors list, each with the right outcome."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evplatform.ota.client.primary import VehicleClient
from evplatform.ota.client.slots import SlotImage
from ota.uptane_vectors import CASES, Case
from ota.uptane_world import ECU_SERIAL, TARGET_CONTENT, TARGET_NAME, World, sha256

FACTORY = b"factory image of the vectors' ECU"


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Disk flushes cost ~15 ms each here; the write order they protect is tested in test_client_slots."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


def test_the_table_has_the_86_cases_of_the_list() -> None:
    assert len(CASES) == 86
    assert len({case.name for case in CASES}) == 86
    assert sum(case.expected is None for case in CASES) == 9  # the list's success cases


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_vector(case: Case, tmp_path: Path) -> None:
    world = World()
    client = None
    for index, step in enumerate(case.steps):
        step(world)
        if client is None:
            client = world.client(tmp_path)
            _provision_factory_image(client)
        else:
            world.publish()
        last = index == len(case.steps) - 1
        before = client.installed()
        if not last or case.expected is None:
            outcome = client.update_check()
            installed = [image.sha256 if image else None for image in before.values()]
            expected = "up-to-date" if installed == _assigned(world) else "installed"
            assert outcome.status == expected, f"step {index} of {case.name}"
            assert all(result.rolled_back is False for result in client.boot())
            continue
        slots = client.slots[ECU_SERIAL]
        running = slots.image_bytes(slots.active)
        assert None not in before.values()  # a failure is judged against a real image, not None == None
        with pytest.raises(case.expected) as raised:
            client.update_check()
        assert type(raised.value) is case.expected, f"{case.name}: {type(raised.value).__name__}: {raised.value}"
        assert all(ecu.trial is None for ecu in client.slots.values())
        assert [result.image for result in client.boot()] == list(before.values())  # nothing new boots
        assert client.installed() == before  # the last good software kept
        assert slots.image_bytes(slots.active) == running


def _provision_factory_image(client: VehicleClient) -> None:
    """The ECU runs an image before the first check, so "keeps the last good software" compares images."""
    client.slots[ECU_SERIAL].provision(SlotImage("factory.bin", sha256(FACTORY), len(FACTORY), 1), FACTORY)


def _assigned(world: World) -> list[str]:
    """sha256 of what the Director assigns to the single ECU (for the expected status)."""
    return [info["hashes"]["sha256"] for info in world.director.targets.values()]


def test_success_installs_the_vector_target(tmp_path: Path) -> None:
    world = World()
    client = world.client(tmp_path)
    outcome = client.update_check()
    [update] = outcome.updates
    assert update.image.filepath == TARGET_NAME and update.image.sha256 == sha256(TARGET_CONTENT)
    assert client.slots[update.ecu_serial].image_bytes(update.slot) == TARGET_CONTENT
