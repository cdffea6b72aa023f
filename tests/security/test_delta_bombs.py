"""Issue 14 item 3: delta patch bombs are refused with memory bounded by the signed image length.

Each algorithm the project applies gets a crafted patch of a few kilobytes that declares or
inflates to gigabytes. Before the fix a 2.3 KB bsdiff4 patch took 4.0 GiB and a 424 B
hdiffpatch-cdc patch 4.1 GiB for a 3.8 KB image; now each is refused with DeltaRefusedError (an
OtaError) while Python's allocations stay under ``MEMORY_BOUND`` (tracemalloc's peak; the
address-space guard makes a regression fail with MemoryError instead of taking the machine's
memory). The vehicle then falls back to the full image, verified the same way, and never fetches
a delta longer than its signed length or its image limit.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from evplatform.errors import OtaError
from evplatform.ota.client.fetcher import InMemoryFetcher
from evplatform.ota.delta import Delta, DeltaRefusedError, apply_delta, make_delta
from ota.delta_bombs import (
    GIB,
    MEMORY_BOUND,
    MIB,
    address_space_guard,
    bsdiff4_bomb,
    cdc_container,
    hdiffpatch_body_bomb,
    hdiffpatch_inner_bomb,
    peak_memory,
    zstd_declaring,
)
from ota.vehicle_support import Server, Vehicle, build_server, build_vehicle, no_fsync  # noqa: F401

OLD = bytes(range(256)) * 15  # 3.8 KB, the size the issue measured with
NEW = OLD[:1000] + b"patched " * 20 + OLD[1000:]

#: The vehicle path swallows a wrapped MemoryError (it falls back to the full image), so its bomb
#: stays under the guard's headroom: without the fix its allocation succeeds and shows in the peak.
VEHICLE_BOMB = 256 * MIB

pytestmark = pytest.mark.usefixtures("no_fsync")

BOMBS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "bsdiff4 diff block inflating to 4 GiB": ("bsdiff4", lambda: bsdiff4_bomb(len(NEW))),
    "hdiffpatch inner header declaring 4 GiB": ("hdiffpatch", lambda: hdiffpatch_inner_bomb(len(OLD), len(NEW))),
    "hdiffpatch bz2 body inflating to 4 GiB": ("hdiffpatch", lambda: hdiffpatch_body_bomb(len(NEW))),
    "hdiffpatch-cdc segment declaring 4 GiB": (
        "hdiffpatch-cdc", lambda: cdc_container(len(OLD), len(NEW), hdiffpatch_inner_bomb(len(OLD), len(NEW)))),
    "zstd-prefix frame declaring 4 GiB": ("zstd-prefix", lambda: zstd_declaring(4 * GIB)),
    "full image frame declaring 4 GiB": ("full", lambda: zstd_declaring(4 * GIB)),
}


def _delta(algorithm: str, payload: bytes) -> Delta:
    """A delta whose metadata is the real one from OLD to NEW, carrying ``payload`` (signed by hash)."""
    real = make_delta(OLD, NEW, "bsdiff4")
    return dataclasses.replace(real, algorithm=algorithm, payload=payload, patch_length=len(payload),
                               patch_sha256=hashlib.sha256(payload).hexdigest())


@pytest.mark.parametrize("name", list(BOMBS))
def test_each_algorithms_bomb_is_refused_with_bounded_memory(name: str) -> None:
    """Issue 14 item 3: a few-KB patch declaring or inflating to GiBs, refused under 64 MiB."""
    algorithm, build = BOMBS[name]
    payload = build()
    assert len(payload) < 32 * 1024
    delta = _delta(algorithm, payload)
    peak, error = peak_memory(lambda: apply_delta(OLD, delta, delta.new_sha256))
    assert isinstance(error, OtaError), f"{name}: {error!r}"
    assert peak < MEMORY_BOUND, f"{name}: {peak / 2**20:.0f} MiB"


def test_every_patch_algorithm_is_covered() -> None:
    """Issue 14 item 3: the bombs above cover every algorithm ``apply_delta`` accepts."""
    from evplatform.ota.delta import _APPLY

    assert {algorithm for algorithm, _ in BOMBS.values()} == set(_APPLY)


@pytest.fixture
def server(tmp_path: Path) -> Server:
    server = build_server(tmp_path / "server")
    server.release_many([("main/1.0", OLD, "hw-main", 1), ("main/2.0", NEW, "hw-main", 2)])
    return server


@pytest.fixture
def car(server: Server, tmp_path: Path) -> Vehicle:
    return build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0"}, hardware={"ecu-main": "hw-main"})


def _offer(server: Server, car: Vehicle, algorithm: str, payload: bytes, length: int | None = None) -> str:
    """Store ``payload`` and make the Director offer it as the delta to main/2.0; its address."""
    server.store.put(payload)
    digest = hashlib.sha256(payload).hexdigest()
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0",
                          delta={"algorithm": algorithm, "sha256": digest, "length": length or len(payload)},
                          delta_from=hashlib.sha256(OLD).hexdigest())
    return f"images/{digest}"


def test_vehicle_refuses_a_bomb_delta_and_installs_the_verified_full_image(server: Server, car: Vehicle) -> None:
    """Issue 14 item 3: a signed-by-hash bomb costs the vehicle no memory; the slot gets the real image."""
    url = _offer(server, car, "bsdiff4", bsdiff4_bomb(len(NEW), VEHICLE_BOMB))
    fetcher = server.mirror(car.registered.vin)
    car.client.fetcher = fetcher
    peak, error = peak_memory(lambda: car.client.update_check())
    assert error is None and peak < MEMORY_BOUND, f"{peak / 2**20:.0f} MiB, {error!r}"
    assert fetcher.files[url] and url in fetcher.requests  # served, fetched, refused
    assert car.client.slots["ecu-main"].image_bytes("b") == NEW
    assert car.client.installed()["ecu-main"] is not None and car.client.slots["ecu-main"].active == "a"


class _Recording(InMemoryFetcher):
    """Records the byte limit asked for each url and how many bytes were handed back."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(files)
        self.asked: dict[str, int] = {}
        self.handed: dict[str, int] = {}

    def _fetch(self, url: str, max_length: int) -> bytes:
        self.asked[url] = max_length
        data = super()._fetch(url, max_length)
        self.handed[url] = len(data)
        return data


def _recording(server: Server, car: Vehicle) -> _Recording:
    return _Recording(dict(server.mirror(car.registered.vin).files))


def test_delta_longer_than_the_image_limit_is_never_fetched(server: Server, car: Vehicle) -> None:
    """Issue 14 item 3: the Director's stated delta length is capped by the client's image limit."""
    real = make_delta(OLD, NEW, "bsdiff4")
    stated = 5 * GIB  # over the default 4 GiB image limit
    url = _offer(server, car, "bsdiff4", real.payload, length=stated)
    fetcher = _recording(server, car)
    fetcher.files[url] = real.payload + bytes(1 << 20)
    car.client.fetcher = fetcher
    [update] = car.client.update_check().updates
    assert url not in fetcher.asked, f"asked for up to {fetcher.asked.get(url)} bytes"
    assert not update.via_delta and car.client.slots["ecu-main"].image_bytes("b") == NEW


def test_delta_served_longer_than_its_signed_length_is_cut_off(server: Server, car: Vehicle) -> None:
    """Issue 14 item 3: a delta served past its signed length stops one byte past it; full image used."""
    real = make_delta(OLD, NEW, "bsdiff4")
    url = _offer(server, car, "bsdiff4", real.payload)
    fetcher = _recording(server, car)
    fetcher.files[url] = real.payload + bytes(64 << 20)
    car.client.fetcher = fetcher
    [update] = car.client.update_check().updates
    assert fetcher.asked[url] == real.patch_length and fetcher.handed[url] <= real.patch_length + 1
    assert not update.via_delta and car.client.slots["ecu-main"].image_bytes("b") == NEW


def test_refused_delta_with_no_full_image_installs_nothing(server: Server, car: Vehicle) -> None:
    """Issue 14 item 3: bomb refused and no full image to fall back on: an OtaError, slots untouched."""
    _offer(server, car, "bsdiff4", bsdiff4_bomb(len(NEW), VEHICLE_BOMB))
    fetcher = server.mirror(car.registered.vin)
    del fetcher.files[f"images/{hashlib.sha256(NEW).hexdigest()}"]
    car.client.fetcher = fetcher
    slots = car.client.slots["ecu-main"]
    peak, error = peak_memory(lambda: car.client.update_check())
    assert isinstance(error, OtaError) and peak < MEMORY_BOUND
    assert slots.trial is None and slots.active == "a" and slots.image_bytes("a") == OLD


def test_refusal_is_a_delta_refused_error_naming_the_algorithm() -> None:
    """Issue 14 item 3: the error is the OtaError subclass, its message names the patch's claim."""
    delta = _delta("hdiffpatch", hdiffpatch_inner_bomb(len(OLD), len(NEW)))
    claim = r"\(inner header\): the patch produces 4294967296"
    with address_space_guard(), pytest.raises(DeltaRefusedError, match=claim):
        apply_delta(OLD, delta, delta.new_sha256)
