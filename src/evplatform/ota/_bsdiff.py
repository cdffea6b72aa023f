"""BSDIFF40 patches (the ``bsdiff4`` encoder) applied with every size bounded by the signed length.

``bsdiff4.patch`` inflates the three bz2 blocks in full before it looks at them, so a 2.3 KB
patch whose blocks inflate to 4 GiB took 4 GiB of memory and 13.7 s before any check (issue 14
item 3). This module applies the same documented format itself, streaming:

* header: ``BSDIFF40``, then three 8-byte sign-magnitude integers: the control block's and the
  diff block's compressed lengths and the new image's size, then the three bz2 blocks (control,
  diff, extra; extra runs to the end);
* control: tuples ``(x, y, z)``: add ``x`` diff bytes to the old image at the old position (a
  position outside the old image adds nothing), copy ``y`` extra bytes, move the old position by
  ``z``.

The declared new size must equal the signed one; the output buffer is that size and no tuple may
write past it; the diff and extra blocks are inflated only as far as the tuples consume them
(never past the signed length in total), the control block only 24 bytes per tuple, and the
number of tuples that write nothing is capped, so memory and CPU are linear in the signed length.
Creating patches stays with ``bsdiff4.diff`` (the encoder is trusted: it runs at the publisher).
"""

from __future__ import annotations

import numpy as np

from evplatform.ota._patch_bounds import BoundedInflater, DeltaRefusedError, check_declared

_MAGIC = b"BSDIFF40"
_HEADER = 32
_TUPLE = 24
#: Control tuples that produce no byte (legitimate patches have at most a handful): an endless run
#: of them would cost CPU without output.
MAX_EMPTY_TUPLES = 64
_TUPLES_PER_READ = 2048


def _offt(raw: bytes) -> int:
    """bsdiff's 8-byte integer: little-endian magnitude, sign in the top bit."""
    value = int.from_bytes(raw, "little")
    magnitude = value & ~(1 << 63)
    return -magnitude if value >> 63 else magnitude


def read_header(patch: bytes) -> tuple[int, int, int]:
    """(control length, diff length, new size), each checked against the patch's own length."""
    if len(patch) < _HEADER or patch[:8] != _MAGIC:
        raise DeltaRefusedError("bsdiff4: malformed patch (no BSDIFF40 header)")
    control, diff, new_size = (_offt(patch[i : i + 8]) for i in (8, 16, 24))
    if control < 0 or diff < 0 or new_size < 0 or _HEADER + control + diff > len(patch):
        raise DeltaRefusedError(
            f"bsdiff4: malformed header (control {control}, diff {diff}, new size {new_size} bytes "
            f"in a {len(patch)}-byte patch)"
        )
    return control, diff, new_size


def apply_patch(old: bytes, patch: bytes, new_length: int) -> bytes:
    """``new`` rebuilt from ``old``; DeltaRefusedError for a malformed patch or one that goes past ``new_length``."""
    control_length, diff_length, new_size = read_header(patch)
    check_declared("bsdiff4", new_size, new_length)
    view = memoryview(patch)
    diff_start = _HEADER + control_length
    extra_start = diff_start + diff_length
    control = BoundedInflater("bsdiff4 control block", view[_HEADER:diff_start], "bz2",
                              _TUPLE * (new_length + MAX_EMPTY_TUPLES))
    diff = BoundedInflater("bsdiff4 diff block", view[diff_start:extra_start], "bz2", new_length)
    extra = BoundedInflater("bsdiff4 extra block", view[extra_start:], "bz2", new_length)
    new = bytearray(new_length)
    written = _run_tuples(control, diff, extra, np.frombuffer(old, dtype=np.uint8),
                          np.frombuffer(new, dtype=np.uint8))
    if written != new_length:
        raise DeltaRefusedError(f"bsdiff4: the patch produces {written} bytes, the signed target says {new_length}")
    for stream in (control, diff, extra):
        stream.finish()
    return bytes(new)


def _run_tuples(control: BoundedInflater, diff: BoundedInflater, extra: BoundedInflater,
                old: np.ndarray, new: np.ndarray) -> int:
    """Apply every control tuple into ``new`` (preallocated at the signed length); bytes written."""
    new_position = old_position = empty = 0
    pending = b""
    at = 0
    while True:
        if at + _TUPLE > len(pending):
            pending, at = _refill(control, pending[at:]), 0
            if not pending:
                return new_position
        add, copy, seek = (_offt(pending[i : i + 8]) for i in (at, at + 8, at + 16))
        at += _TUPLE
        if add < 0 or copy < 0 or new_position + add + copy > len(new):
            raise DeltaRefusedError(
                f"bsdiff4: a control tuple ({add}, {copy}, {seek}) writes past the signed length {len(new)}"
            )
        if add == copy == 0:
            empty += 1
            if empty > MAX_EMPTY_TUPLES:
                raise DeltaRefusedError(f"bsdiff4: more than {MAX_EMPTY_TUPLES} control tuples that write nothing")
        if add:
            _add_diff(new, new_position, np.frombuffer(diff.read(add), dtype=np.uint8), old, old_position)
        new_position += add
        old_position += add
        if copy:
            new[new_position : new_position + copy] = np.frombuffer(extra.read(copy), dtype=np.uint8)
        new_position += copy
        old_position += seek


def _refill(control: BoundedInflater, rest: bytes) -> bytes:
    """``rest`` and the next control tuples: b"" at the end of the block, at least one whole tuple otherwise."""
    while len(rest) < _TUPLE:
        more = control.read_some(_TUPLE * _TUPLES_PER_READ)
        if not more:
            if rest:
                raise DeltaRefusedError("bsdiff4 control block: truncated control tuple")
            return b""
        rest += more
    return rest


def _add_diff(new: np.ndarray, at: int, diff: np.ndarray, old: np.ndarray, old_position: int) -> None:
    """``new[at:] = diff + old[old_position:]`` bytewise mod 256, old bytes outside ``old`` counting as 0."""
    new[at : at + len(diff)] = diff
    low = max(old_position, 0)
    high = min(old_position + len(diff), len(old))
    if low < high:
        target = new[at + low - old_position : at + high - old_position]
        np.add(target, old[low:high], out=target)
