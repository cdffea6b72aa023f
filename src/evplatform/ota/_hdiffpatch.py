"""HDiffPatch patches in detools' container: created by detools, applied here with every size bounded.

Used whole-image by the ``hdiffpatch`` encoder and segment by segment by the ``hdiffpatch-cdc``
container (``delta_cdc.py``). ``detools.apply_patch`` trusts what the patch declares: the
compression of its body (any of seven), the body's inflated size (``patch_size``, inflated in
full) and the inner HDiffPatch header's new size (allocated at once): a 424 B patch made the
vehicle allocate 4.1 GiB (issue 14 item 3). And on a body it cannot apply, its C core calls
``exit(1)``: one flipped byte in a patch ended the whole vehicle client. So this module reads
the documented format itself:

* detools' header: one byte (patch type ``hdiffpatch``, a compression from :data:`COMPRESSIONS`),
  then ``to_size`` (must equal the signed length) and ``patch_size`` (at most
  :func:`max_body_size` of it), as detools' variable-length sizes;
* the body, inflated incrementally to exactly ``patch_size`` bytes and refused if it inflates
  further, starting with HDiffPatch's own header: ``HDIFF13&``, no inner compression, new size =
  the signed length, old size = the old image's, and four buffer sizes that add up to the body;
* the buffers: covers (old bytes to reuse, with rle-coded additions) and the new bytes between
  them, decoded into an array of the signed length with every position checked; anything out of
  bounds, short or left over is refused with ``DeltaRefusedError``.
"""

from __future__ import annotations

import io

import detools
import numpy as np

from evplatform.errors import OtaError
from evplatform.ota._patch_bounds import BoundedInflater, DeltaRefusedError, check_declared

#: detools' compression numbers a patch may use (what the encoders write: lzma whole-image,
#: none inside ``hdiffpatch-cdc``); the other five (crle, bz2, heatshrink, zstd, lz4) are refused.
COMPRESSIONS = {0: "none", 1: "lzma"}
_PATCH_TYPE_HDIFFPATCH = 2
_INNER_MAGIC = b"HDIFF13&"
_BODY_SLACK = 64 * 1024
_RLE_ZERO, _RLE_255, _RLE_BYTE, _RLE_COPY = range(4)  # rle control entry types (2-bit tag)


def max_body_size(new_length: int) -> int:
    """Largest inflated body accepted for a new image of ``new_length`` bytes.

    A body holds the new bytes not found in the old image, the additions to the ones found and
    their positions, so a legitimate one stays under the new size plus bookkeeping; twice it
    leaves room and keeps memory linear in the signed length.
    """
    return 2 * new_length + _BODY_SLACK


def create_patch(old: bytes, new: bytes) -> bytes:
    """The lzma-compressed HDiffPatch patch from ``old`` to ``new`` (detools' hdiffpatch format)."""
    out = io.BytesIO()
    try:
        detools.create_patch(
            io.BytesIO(old), io.BytesIO(new), out, compression="lzma", patch_type="hdiffpatch",
            algorithm="hdiffpatch", use_mmap=False,
        )
    except detools.Error as error:
        raise OtaError(f"hdiffpatch: cannot create the patch: {error}") from error
    return out.getvalue()


def _detools_size(data: bytes | memoryview, at: int, name: str) -> tuple[int, int]:
    """(value, next offset) of one detools size: 6 bits then 7 per byte, sign in 0x40; never negative."""
    if at >= len(data):
        raise DeltaRefusedError(f"hdiffpatch: truncated header ({name})")
    byte = data[at]
    value, shift, at = byte & 0x3F, 6, at + 1
    negative = byte & 0x40
    while byte & 0x80:
        if at >= len(data) or shift > 63:
            raise DeltaRefusedError(f"hdiffpatch: malformed header ({name})")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        shift, at = shift + 7, at + 1
    if negative:
        raise DeltaRefusedError(f"hdiffpatch: negative {name} in the header")
    return value, at


def _packed_uint(data: bytes, at: int, name: str, tag_bits: int = 0) -> tuple[int, int]:
    """(value, next offset) of one HDiffPatch packed integer after ``tag_bits`` tag bits.

    The first byte holds ``7 - tag_bits`` value bits and a continuation bit below the tag, each
    further byte 7 value bits and a continuation bit (most significant first); at most 64 bits.
    """
    if at >= len(data):
        raise DeltaRefusedError(f"hdiffpatch: truncated {name}")
    first = data[at]
    value = first & ((1 << (7 - tag_bits)) - 1)
    more = first & (1 << (7 - tag_bits))
    at += 1
    while more:
        if at >= len(data) or value >> 57:
            raise DeltaRefusedError(f"hdiffpatch: malformed {name}")
        value = (value << 7) | (data[at] & 0x7F)
        more = data[at] & 0x80
        at += 1
    return value, at


def read_header(patch: bytes) -> tuple[str, int, int, int]:
    """(compression, to_size, patch_size, body offset) of a detools hdiffpatch patch."""
    if not patch:
        raise DeltaRefusedError("hdiffpatch: empty patch")
    patch_type, compression = patch[0] >> 4, patch[0] & 0x0F
    if patch[0] & 0x80 or patch_type != _PATCH_TYPE_HDIFFPATCH:
        raise DeltaRefusedError(f"hdiffpatch: not an hdiffpatch patch (type {patch_type})")
    if compression not in COMPRESSIONS:
        raise DeltaRefusedError(
            f"hdiffpatch: compression {compression} refused (allowed: {', '.join(COMPRESSIONS.values())})"
        )
    to_size, at = _detools_size(patch, 1, "to_size")
    patch_size, at = _detools_size(patch, at, "patch_size")
    return COMPRESSIONS[compression], to_size, patch_size, at


def _check_inner(body: bytes, old_length: int, new_length: int) -> tuple[int, int, int, int, int]:
    """HDiffPatch's own header against the signed length, the old image and the body's size.

    Returns where the buffers start, the cover count and the sizes of the cover, rle control and
    rle code buffers (the new-data buffer is the rest).
    """
    end = body.find(b"\x00", 0, 64)
    if not body.startswith(_INNER_MAGIC) or end != len(_INNER_MAGIC):
        raise DeltaRefusedError("hdiffpatch: malformed inner header (not HDIFF13, or compressed inside)")
    at = end + 1
    names = ("new size", "old size", "cover count", "cover buffer", "compressed cover buffer",
             "rle control buffer", "compressed rle control buffer", "rle code buffer",
             "compressed rle code buffer", "new data buffer", "compressed new data buffer")
    fields: dict[str, int] = {}
    for name in names:
        fields[name], at = _packed_uint(body, at, name)
    check_declared("hdiffpatch (inner header)", fields["new size"], new_length)
    if fields["old size"] != old_length:
        raise DeltaRefusedError(f"hdiffpatch: patch is for a {fields['old size']}-byte old image, not {old_length}")
    if any(fields[name] for name in names if name.startswith("compressed")):
        raise DeltaRefusedError("hdiffpatch: compressed inner buffers refused")
    buffers = sum(fields[name] for name in ("cover buffer", "rle control buffer", "rle code buffer",
                                            "new data buffer"))
    if at + buffers != len(body) or fields["cover count"] > fields["cover buffer"]:
        raise DeltaRefusedError(f"hdiffpatch: inner sizes ({at} + {buffers}) do not match the {len(body)}-byte body")
    return (at, fields["cover count"], fields["cover buffer"], fields["rle control buffer"],
            fields["rle code buffer"])


def _body(patch: bytes, compression: str, at: int, patch_size: int) -> bytes:
    """The inflated body, exactly ``patch_size`` bytes, refused if it has more."""
    if compression == "none":
        if len(patch) - at != patch_size:
            raise DeltaRefusedError(f"hdiffpatch: body is {len(patch) - at} bytes, the header says {patch_size}")
        return patch[at:]
    stream = BoundedInflater("hdiffpatch body", memoryview(patch)[at:], compression, patch_size)
    body = stream.read(patch_size)
    stream.finish()
    return body


def apply_patch(old: bytes, patch: bytes, new_length: int) -> bytes:
    """``new`` rebuilt; DeltaRefusedError for a malformed patch or one whose sizes differ from the signed ones."""
    compression, to_size, patch_size, at = read_header(patch)
    check_declared("hdiffpatch", to_size, new_length)
    if patch_size > max_body_size(new_length):
        raise DeltaRefusedError(
            f"hdiffpatch: body declares {patch_size} bytes, over {max_body_size(new_length)} for a "
            f"{new_length}-byte image"
        )
    if new_length == 0:
        return b""
    body = _body(patch, compression, at, patch_size)
    start, covers, cover_size, control_size, code_size = _check_inner(body, len(old), new_length)
    view = memoryview(body)
    control_start = start + cover_size
    code_start = control_start + control_size
    diff_start = code_start + code_size
    new = np.zeros(new_length, dtype=np.uint8)
    _decode_rle(bytes(view[control_start:code_start]), bytes(view[code_start:diff_start]), new)
    _apply_covers(bytes(view[start:control_start]), covers, np.frombuffer(old, dtype=np.uint8),
                  np.frombuffer(body, dtype=np.uint8, offset=diff_start), new)
    return new.tobytes()


def _decode_rle(control: bytes, code: bytes, new: np.ndarray) -> None:
    """Write the rle-coded additions into ``new``; they must cover it exactly, no byte left over.

    Control entries: a 2-bit type (a run of 0, of 255, of one code byte, or code bytes copied)
    and a packed length - 1. The additions run in new-image order, over covered and uncovered
    bytes alike (uncovered ones are overwritten by the new-data buffer afterwards).
    """
    at = code_at = written = 0
    while at < len(control):
        kind = control[at] >> 6
        length, at = _packed_uint(control, at, "rle control entry", tag_bits=2)
        length += 1
        if written + length > len(new):
            raise DeltaRefusedError(f"hdiffpatch: rle additions run past the signed length {len(new)}")
        if kind == _RLE_COPY:
            if code_at + length > len(code):
                raise DeltaRefusedError("hdiffpatch: rle code buffer too short")
            new[written : written + length] = np.frombuffer(code, dtype=np.uint8, count=length, offset=code_at)
            code_at += length
        elif kind == _RLE_BYTE:
            if code_at >= len(code):
                raise DeltaRefusedError("hdiffpatch: rle code buffer too short")
            new[written : written + length] = code[code_at]
            code_at += 1
        elif kind == _RLE_255:
            new[written : written + length] = 255
        written += length  # _RLE_ZERO: already zero
    if written != len(new) or code_at != len(code):
        raise DeltaRefusedError(f"hdiffpatch: rle additions cover {written} of {len(new)} bytes "
                                f"and use {code_at} of {len(code)} code bytes")


def _apply_covers(covers: bytes, count: int, old: np.ndarray, diff: np.ndarray, new: np.ndarray) -> None:
    """Add old bytes under each cover, fill the gaps from the new-data buffer; all of it used exactly.

    A cover is three packed integers: the old position's change from the end of the previous
    cover (sign in a 1-bit tag), the gap in the new image before it, and its length.
    """
    at = old_back = new_back = used = 0
    for _ in range(count):
        negative = covers[at] >> 7 if at < len(covers) else 0
        step, at = _packed_uint(covers, at, "cover", tag_bits=1)
        gap, at = _packed_uint(covers, at, "cover")
        length, at = _packed_uint(covers, at, "cover")
        old_position = old_back - step if negative else old_back + step
        new_position = new_back + gap
        if old_position < 0 or old_position + length > len(old) or new_position + length > len(new):
            raise DeltaRefusedError(f"hdiffpatch: a cover ({old_position}, {new_position}, {length}) is out of bounds")
        used = _fill_gap(new, new_back, new_position, diff, used)
        target = new[new_position : new_position + length]
        np.add(target, old[old_position : old_position + length], out=target)
        old_back, new_back = old_position + length, new_position + length
    used = _fill_gap(new, new_back, len(new), diff, used)
    if at != len(covers) or used != len(diff):
        raise DeltaRefusedError(
            f"hdiffpatch: {len(covers) - at} cover bytes and {len(diff) - used} new-data bytes unused"
        )


def _fill_gap(new: np.ndarray, start: int, end: int, diff: np.ndarray, used: int) -> int:
    """Copy new-data bytes into ``new[start:end]``; how many of them are used now."""
    if end > start:
        if used + end - start > len(diff):
            raise DeltaRefusedError("hdiffpatch: new-data buffer too short")
        new[start:end] = diff[used : used + end - start]
    return used + max(0, end - start)
