"""detools' HDiffPatch behind two functions that raise only ``OtaError``.

Used whole-image by the ``hdiffpatch`` encoder and segment by segment by the ``hdiffpatch-cdc``
container (``delta_cdc.py``). The declared output length is checked against the one the signed
release states before anything is applied, so a patch cannot make the vehicle write endless data.
"""

from __future__ import annotations

import io

import detools
from detools.apply import read_header_hdiffpatch

from evplatform.errors import OtaError


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


def apply_patch(old: bytes, patch: bytes, new_length: int) -> bytes:
    """``new`` rebuilt; OtaError for a malformed patch or one that declares another length than ``new_length``."""
    try:
        _compression, declared, _ = read_header_hdiffpatch(io.BytesIO(patch))
    except Exception as error:  # detools raises several types on a malformed header
        raise OtaError(f"hdiffpatch: malformed patch: {error}") from error
    if declared != new_length:
        raise OtaError(f"hdiffpatch: the patch produces {declared} bytes, the release says {new_length}")
    out = io.BytesIO()
    try:
        detools.apply_patch(io.BytesIO(old), io.BytesIO(patch), out)
    except Exception as error:  # lzma, detools and index errors all mean a bad patch
        raise OtaError(f"hdiffpatch: cannot apply the patch: {error}") from error
    return out.getvalue()
