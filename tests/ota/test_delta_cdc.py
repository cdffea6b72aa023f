"""The hdiffpatch-cdc container on its own: content-defined cuts, copies, and hostile containers."""

from __future__ import annotations

import lzma
import random
import struct

import pytest

from evplatform.errors import OtaError
from evplatform.ota import delta_cdc


def _payload(body: bytes) -> bytes:
    return lzma.compress(b"EVCDC1" + body)


def test_cuts_move_with_the_content() -> None:
    data = random.Random(3).randbytes(1_000_000)
    shifted = random.Random(4).randbytes(777) + data
    before = {digest for _, _, digest in delta_cdc._chunks(data)}
    after = [digest for _, _, digest in delta_cdc._chunks(shifted)]
    assert len(before) > 5  # ~64 KiB average chunks
    # Only the chunks around the inserted bytes change; a fixed-size split would change them all.
    assert sum(d not in before for d in after) <= 2


def test_unchanged_chunks_become_copies_and_the_rest_is_diffed() -> None:
    rng = random.Random(5)
    old = rng.randbytes(600_000)
    new = old[:200_000] + rng.randbytes(5_000) + old[200_000:]
    patch = delta_cdc.create_patch(old, new)
    assert len(patch) < 5_000 + 2_000  # the inserted bytes and a few operations, not the image
    body = lzma.decompress(patch)
    assert body[:6] == b"EVCDC1" and body[10] == 0  # the first operation copies the unchanged start
    kind, at, length = struct.unpack("<BQQ", body[10:27])
    assert (kind, at) == (0, 0) and 100_000 < length <= 200_000
    assert delta_cdc.apply_patch(old, patch, len(new)) == new


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (struct.pack("<I", 1) + struct.pack("<BQQ", 0, 10, 10**9), "past the old image"),
        (struct.pack("<I", 1) + struct.pack("<BQQQQ", 1, 0, 10, 10**9, 0), "produces more than"),
        (struct.pack("<I", 1) + struct.pack("<BQQQQ", 1, 99_995, 10, 10, 0), "segment reaches past the old"),
        (struct.pack("<I", 1) + b"\x07", "unknown operation"),
        (struct.pack("<I", 2) + struct.pack("<BQQ", 0, 0, 10), "truncated"),
        (struct.pack("<I", 0) + b"junk", "trailing data"),
        (struct.pack("<I", 3) + struct.pack("<BQQ", 0, 0, 90_000) * 3, "more than"),
        (b"", "malformed"),
    ],
)
def test_malicious_segment_containers_are_refused(body: bytes, message: str) -> None:
    old = bytes(100_000)
    with pytest.raises(OtaError, match=message):
        delta_cdc.apply_patch(old, _payload(body), 200_000)
