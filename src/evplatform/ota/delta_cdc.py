"""The ``hdiffpatch-cdc`` delta container: HDiffPatch over content-defined segments.

A package-tree image keeps most of its files from one release to the next, only at other
offsets. Cutting both images where a rolling hash of the last 48 bytes hits a fixed pattern
(content-defined chunking: the cuts move with the content) finds those files as identical
chunks; they become copy operations and only the rest goes through hdiffpatch, each changed run
against the old bytes between its matched neighbours. What that saves against hdiffpatch over the
whole image (size and CPU, on real releases) is in BENCHMARKS.md, "Delta images".

The container, lzma-compressed as a whole: ``EVCDC1``, the operation count (``<I``), then per
operation either a copy ``0, old offset, length`` (``<BQQ``) or a diffed segment
``1, old offset, old length, new length, patch length`` (``<BQQQQ``) followed by the raw
HDiffPatch patch of that segment. Applying it checks every offset against the old image and every
length against the signed new length before it copies or decodes (a segment's own patch is
bounded by the same checks in ``_hdiffpatch.py``), and the container inflates only to twice that
length plus a margin, so a hostile container cannot read past the old image, produce more than
the signed length, or take memory out of proportion to it (issue 14 item 3).
"""

from __future__ import annotations

import hashlib
import io
import lzma
import struct
from collections import Counter

import detools
import numpy as np

from evplatform.errors import OtaError
from evplatform.ota import _hdiffpatch as hdiffpatch
from evplatform.ota._patch_bounds import DeltaRefusedError

CDC_WINDOW = 48
CDC_MASK = (1 << 16) - 1  # ~64 KiB average chunk
CDC_MIN_CHUNK = 4096
CDC_MARGIN = 1 << 20
_CDC_MAGIC = b"EVCDC1"
_GEAR = np.random.default_rng(0x5EED0DE17A).integers(0, 2**32, size=256, dtype=np.uint64)


def _cuts(data: bytes) -> list[int]:
    """Chunk end offsets: where the windowed sum of random byte values has its low 16 bits set."""
    if len(data) <= CDC_WINDOW + CDC_MIN_CHUNK:
        return [len(data)] if data else []
    sums = np.cumsum(_GEAR[np.frombuffer(data, dtype=np.uint8)], dtype=np.uint64)
    window = sums[CDC_WINDOW:] - sums[:-CDC_WINDOW]
    candidates = np.flatnonzero((window & np.uint64(CDC_MASK)) == np.uint64(CDC_MASK)) + CDC_WINDOW + 1
    cuts: list[int] = []
    last = 0
    for cut in candidates.tolist():
        if cut - last >= CDC_MIN_CHUNK and cut < len(data):
            cuts.append(cut)
            last = cut
    cuts.append(len(data))
    return cuts


def _chunks(data: bytes) -> list[tuple[int, int, bytes]]:
    """(offset, length, digest) of each content-defined chunk."""
    out = []
    start = 0
    view = memoryview(data)
    for end in _cuts(data):
        out.append((start, end - start, hashlib.blake2b(view[start:end], digest_size=16).digest()))
        start = end
    return out


def _hdiffpatch_raw(old: bytes, new: bytes) -> bytes:
    out = io.BytesIO()
    try:
        detools.create_patch(io.BytesIO(old), io.BytesIO(new), out, compression="none", patch_type="hdiffpatch",
                             algorithm="hdiffpatch", use_mmap=False)
    except detools.Error as error:
        raise OtaError(f"hdiffpatch-cdc: cannot create a segment patch: {error}") from error
    return out.getvalue()


def create_patch(old: bytes, new: bytes) -> bytes:
    """Copy operations for chunks found once in each image; hdiffpatch for the runs in between.

    Only chunks unique in both images anchor a copy: a chunk that occurs many times (padding,
    zero pages) would point anywhere in the old image and send the next run's diff to the wrong
    neighbourhood, so such chunks stay inside the diffed runs (hdiffpatch handles them well).
    """
    old_chunks = _chunks(old)
    old_counts = Counter(digest for _, _, digest in old_chunks)
    index = {digest: offset for offset, _, digest in old_chunks if old_counts[digest] == 1}
    chunks = _chunks(new)
    new_counts = Counter(digest for _, _, digest in chunks)
    anchors = [digest in index and new_counts[digest] == 1 for _, _, digest in chunks]
    out = io.BytesIO()
    ops = 0
    copy: list[int] | None = None  # [old offset, length] of the copy being extended
    previous_end = 0
    i = 0
    while i < len(chunks):
        offset, length, digest = chunks[i]
        if anchors[i]:
            at = index[digest]
            if copy is not None and copy[0] + copy[1] == at:
                copy[1] += length
            else:
                if copy is not None:
                    out.write(struct.pack("<BQQ", 0, *copy))
                    ops += 1
                copy = [at, length]
            previous_end = copy[0] + copy[1]
            i += 1
            continue
        if copy is not None:
            out.write(struct.pack("<BQQ", 0, *copy))
            ops += 1
            copy = None
        j = i
        while j < len(chunks) and not anchors[j]:
            j += 1
        new_length = sum(c[1] for c in chunks[i:j])
        next_start = index[chunks[j][2]] if j < len(chunks) else len(old)
        if previous_end < next_start <= previous_end + 4 * new_length + CDC_MARGIN:
            low, high = previous_end, next_start
        else:  # moved or reordered: the neighbourhood of where the previous match ended
            low = max(0, previous_end - CDC_MARGIN)
            high = min(len(old), previous_end + new_length + CDC_MARGIN)
        raw = _hdiffpatch_raw(old[low:high], new[offset : offset + new_length])
        out.write(struct.pack("<BQQQQ", 1, low, high - low, new_length, len(raw)))
        out.write(raw)
        ops += 1
        i = j
    if copy is not None:
        out.write(struct.pack("<BQQ", 0, *copy))
        ops += 1
    return lzma.compress(_CDC_MAGIC + struct.pack("<I", ops) + out.getvalue())


def apply_patch(old: bytes, patch: bytes, new_length: int) -> bytes:  # noqa: C901 - the hostile-container checks, in the order the format is read
    """``new`` rebuilt from the container; OtaError for anything malformed, out of bounds or over ``new_length``."""
    decompressor = lzma.LZMADecompressor()
    try:
        body = decompressor.decompress(patch, max_length=2 * new_length + CDC_MARGIN)
    except lzma.LZMAError as error:
        raise DeltaRefusedError(f"hdiffpatch-cdc: malformed patch: {error}") from error
    if not decompressor.eof or body[: len(_CDC_MAGIC)] != _CDC_MAGIC or len(body) < len(_CDC_MAGIC) + 4:
        raise DeltaRefusedError("hdiffpatch-cdc: malformed patch (bad header, trailing data or over the size bound)")
    stream = io.BytesIO(body)
    stream.seek(len(_CDC_MAGIC))
    (count,) = struct.unpack("<I", stream.read(4))
    parts: list[bytes] = []
    produced = 0
    try:
        for _ in range(count):
            kind = stream.read(1)
            if not kind:
                raise DeltaRefusedError("hdiffpatch-cdc: truncated patch (fewer operations than declared)")
            if kind == b"\x00":
                low, length = struct.unpack("<QQ", stream.read(16))
                if low + length > len(old):
                    raise DeltaRefusedError("hdiffpatch-cdc: a copy reaches past the old image")
                if produced + length > new_length:
                    raise DeltaRefusedError(f"hdiffpatch-cdc: the patch produces more than {new_length} bytes")
                parts.append(old[low : low + length])
            elif kind == b"\x01":
                low, length, segment_length, raw_length = struct.unpack("<QQQQ", stream.read(32))
                if low + length > len(old):
                    raise DeltaRefusedError("hdiffpatch-cdc: a segment reaches past the old image")
                if produced + segment_length > new_length:
                    raise DeltaRefusedError(f"hdiffpatch-cdc: the patch produces more than {new_length} bytes")
                parts.append(hdiffpatch.apply_patch(old[low : low + length], stream.read(raw_length), segment_length))
            else:
                raise DeltaRefusedError(f"hdiffpatch-cdc: unknown operation {kind!r}")
            produced += len(parts[-1])
            if produced > new_length:
                raise DeltaRefusedError(f"hdiffpatch-cdc: the patch produces more than {new_length} bytes")
    except struct.error as error:
        raise DeltaRefusedError(f"hdiffpatch-cdc: truncated patch: {error}") from error
    if stream.read(1):
        raise DeltaRefusedError("hdiffpatch-cdc: trailing data after the last operation")
    return b"".join(parts)
