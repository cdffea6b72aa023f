"""Crafted delta patches that declare or inflate to gigabytes from a few kilobytes (issue 14 item 3).

Shared by ``tests/security/test_delta_bombs.py`` and ``tests/ota/test_delta_bounds.py``. The bz2
bombs are built without compressing gigabytes: a bz2 stream is a header, bit-aligned blocks and
an end marker carrying a CRC combined from the blocks' CRCs, so one block of zeros compressed
once can be repeated N times, giving a valid stream of N times its content in milliseconds.
"""

from __future__ import annotations

import bz2
import functools
import io
import lzma
import resource
import struct
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import detools

GIB = 1 << 30
MIB = 1 << 20
#: What applying any of these patches may use at most (Python allocations, tracemalloc's peak).
MEMORY_BOUND = 64 * MIB
#: Address space a bomb may add to the test process before allocations fail (see the guard).
GUARD_HEADROOM = 1 * GIB
_BLOCK_ZEROS = 8 * MIB
_EOS_MAGIC = 0x177245385090


def _bits(data: bytes) -> str:
    return "".join(f"{byte:08b}" for byte in data)


@functools.cache
def _zero_block() -> tuple[str, int]:
    """(bits, CRC) of the one block a bz2 stream of ``_BLOCK_ZEROS`` zero bytes holds."""
    stream = bz2.compress(bytes(_BLOCK_ZEROS), 9)
    bits = _bits(stream[4:])
    for padding in range(8):
        end = len(bits) - padding - 80
        if int(bits[end : end + 48], 2) == _EOS_MAGIC:
            block = bits[:end]
            assert int(block[:48], 2) == 0x314159265359 and end + 80 + padding == len(bits)
            return block, int(block[48:80], 2)
    raise AssertionError("no bz2 end-of-stream marker found")


def bz2_zeros(total: int) -> bytes:
    """A valid bz2 stream of at least ``total`` zero bytes (a multiple of 8 MiB), a few KB long."""
    block, crc = _zero_block()
    count = max(1, -(-total // _BLOCK_ZEROS))
    combined = 0
    for _ in range(count):
        combined = (((combined << 1) | (combined >> 31)) & 0xFFFFFFFF) ^ crc
    bits = block * count + f"{_EOS_MAGIC:048b}" + f"{combined:032b}"
    bits += "0" * (-len(bits) % 8)
    return b"BZh9" + int(bits, 2).to_bytes(len(bits) // 8, "big")


def _offt(value: int) -> bytes:
    return (abs(value) | ((1 << 63) if value < 0 else 0)).to_bytes(8, "little")


def bsdiff4_patch(new_size: int, control: bytes, diff: bytes, extra: bytes) -> bytes:
    """A BSDIFF40 patch from already-compressed blocks."""
    return b"BSDIFF40" + _offt(len(control)) + _offt(len(diff)) + _offt(new_size) + control + diff + extra


def bsdiff4_tuples(*tuples: tuple[int, int, int]) -> bytes:
    """The bz2 control block of these tuples."""
    return bz2.compress(b"".join(_offt(x) + _offt(y) + _offt(z) for x, y, z in tuples))


def bsdiff4_bomb(new_length: int, inflate: int = 4 * GIB) -> bytes:
    """Declares the signed length, but its diff block inflates to ``inflate`` bytes."""
    return bsdiff4_patch(new_length, bsdiff4_tuples((new_length, 0, 0)), bz2_zeros(inflate), bz2.compress(b""))


def _detools_size(value: int) -> bytes:
    """detools' variable-length size (6 bits, then 7 per byte)."""
    out = bytearray([(0x80 if value >> 6 else 0) | (value & 0x3F)])
    value >>= 6
    while value:
        out.append((0x80 if value >> 7 else 0) | (value & 0x7F))
        value >>= 7
    return bytes(out)


def _packed(value: int) -> bytes:
    """HDiffPatch's packed integer (7 bits per byte, most significant first)."""
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(groups))


def hdiffpatch_patch(compression: int, to_size: int, patch_size: int, body: bytes) -> bytes:
    """A detools hdiffpatch patch: header byte (type 2, compression), sizes, body."""
    return bytes([0x20 | compression]) + _detools_size(to_size) + _detools_size(patch_size) + body


def hdiffpatch_inner_bomb(old_length: int, new_length: int, declared: int = 4 * GIB) -> bytes:
    """Outer header honest (``to_size`` = the signed length); the inner HDIFF13 header declares ``declared``."""
    inner = b"HDIFF13&\x00" + b"".join(_packed(v) for v in (declared, old_length, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    return hdiffpatch_patch(0, new_length, len(inner), inner)


def hdiffpatch_body_bomb(new_length: int, inflate: int = 4 * GIB) -> bytes:
    """Declares a ``patch_size`` of ``inflate`` bytes in bz2, which detools inflates in full."""
    return hdiffpatch_patch(3, new_length, inflate, bz2_zeros(inflate))


def hdiffpatch_lzma_bomb(new_length: int, inflate: int = 4 * GIB) -> bytes:
    """The allowed compression (lzma) but a ``patch_size`` of gigabytes."""
    return hdiffpatch_patch(1, new_length, inflate, lzma.compress(bytes(MIB)))


def cdc_container(old_length: int, new_length: int, segment: bytes) -> bytes:
    """An ``hdiffpatch-cdc`` container with one diffed segment over the whole old image."""
    body = b"EVCDC1" + struct.pack("<I", 1) + struct.pack("<BQQQQ", 1, 0, old_length, new_length, len(segment))
    return lzma.compress(body + segment)


def cdc_copy_bomb(old_length: int, new_length: int, copies: int = 100_000) -> bytes:
    """Copies of the whole old image, far more than the signed length, from a few KB of lzma."""
    ops = struct.pack("<BQQ", 0, 0, old_length) * copies
    return lzma.compress(b"EVCDC1" + struct.pack("<I", copies) + ops)


def zstd_declaring(size: int) -> bytes:
    """A zstd frame header declaring ``size`` bytes of content."""
    return b"\x28\xb5\x2f\xfd" + bytes([0xC0]) + struct.pack("<Q", size) + b"\x01\x00\x00"


def detools_raw(old: bytes, new: bytes) -> bytes:
    """A genuine uncompressed detools hdiffpatch patch (to tamper with)."""
    out = io.BytesIO()
    detools.create_patch(io.BytesIO(old), io.BytesIO(new), out, compression="none", patch_type="hdiffpatch",
                         algorithm="hdiffpatch", use_mmap=False)
    return out.getvalue()


@contextmanager
def address_space_guard(headroom: int = GUARD_HEADROOM) -> Iterator[None]:
    """Cap this process's address space at its current size plus ``headroom`` while a bomb runs.

    Without the fix a bomb asks for 4 GiB: with the cap it fails at once with MemoryError
    instead of taking the machine's memory. Linux only (the size comes from /proc).
    """
    if not sys.platform.startswith("linux"):
        yield
        return
    with open("/proc/self/status", encoding="ascii") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + headroom if hard == resource.RLIM_INFINITY else min(hard, size + headroom)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _refused_by_the_guard(error: BaseException | None) -> bool:
    """A MemoryError anywhere in the chain (code may wrap it in its own error)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, MemoryError):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def peak_memory(action: Callable[[], object]) -> tuple[int, BaseException | None]:
    """(peak bytes, the exception ``action`` raised or None), under the address-space guard.

    The peak is tracemalloc's (Python allocations: bytes, bytearrays, decompressor output); an
    allocation the guard refused counts as the guard's headroom, even if the code under test
    wrapped the MemoryError in an error of its own.
    """
    error: BaseException | None = None
    tracemalloc.start()
    try:
        with address_space_guard():
            action()
    except Exception as raised:  # the caller asserts on it
        error = raised
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return (max(peak, GUARD_HEADROOM) if _refused_by_the_guard(error) else peak), error
