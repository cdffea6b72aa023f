"""detools' HDiffPatch behind two functions that raise only ``OtaError``, every size bounded.

Used whole-image by the ``hdiffpatch`` encoder and segment by segment by the ``hdiffpatch-cdc``
container (``delta_cdc.py``). ``detools.apply_patch`` trusts what the patch declares: the
compression of its body (any of seven), the body's inflated size (``patch_size``, inflated in
full), and the inner HDiffPatch header's new size (allocated at once) — a 424 B patch made the
vehicle allocate 4.1 GiB (issue 14 item 3), and a body its C core cannot apply makes that core
call ``exit(1)``. So this module reads both headers itself and checks them first:

* detools header: one byte (patch type ``hdiffpatch``, a compression from :data:`COMPRESSIONS`),
  then ``to_size`` (must equal the signed length) and ``patch_size`` (at most
  :func:`max_body_size` of it), as detools' variable-length sizes;
* the body, inflated incrementally to exactly ``patch_size`` bytes and refused if it inflates
  further, then HDiffPatch's own header: ``HDIFF13&``, no inner compression (detools' core has
  no decompressor for it), new size = the signed length, old size = the old image's, and four
  buffer sizes that add up to exactly the body.

Only then does detools' C core run, on a body whose sizes all match; its output buffer is the
signed length.
"""

from __future__ import annotations

import io

import detools
from detools import hdiffpatch as hdiffpatch_core

from evplatform.errors import OtaError
from evplatform.ota._patch_bounds import BoundedInflater, DeltaRefusedError, check_declared

#: detools' compression numbers a patch may use (what the encoders write: lzma whole-image,
#: none inside ``hdiffpatch-cdc``); the other five (crle, bz2, heatshrink, zstd, lz4) are refused.
COMPRESSIONS = {0: "none", 1: "lzma"}
_PATCH_TYPE_HDIFFPATCH = 2
_INNER_MAGIC = b"HDIFF13&"
_BODY_SLACK = 64 * 1024


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


def _packed_uint(data: bytes, at: int, name: str) -> tuple[int, int]:
    """(value, next offset) of one HDiffPatch packed integer: 7 bits per byte, most significant first."""
    value = 0
    for length in range(10):
        if at + length >= len(data):
            break
        byte = data[at + length]
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at + length + 1
    raise DeltaRefusedError(f"hdiffpatch: malformed inner header ({name})")


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


def _check_inner(body: bytes, old_length: int, new_length: int) -> None:
    """HDiffPatch's own header against the signed length, the old image and the body's size."""
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
    _check_inner(body, len(old), new_length)
    try:
        new = bytes(hdiffpatch_core.apply_patch(old, body))
    except Exception as error:  # the core returns NULL (SystemError) on what it cannot read
        raise DeltaRefusedError(f"hdiffpatch: cannot apply the patch: {error}") from error
    check_declared("hdiffpatch (result)", len(new), new_length)
    return new
