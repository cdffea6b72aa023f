"""Delta images between consecutive releases, with a full-image fallback and hash checks.

A vehicle that runs release N downloads only the difference to release N+1. Four encoders are
available, chosen by measurement on real binaries (``benchmarks/_ota_delta.py``); their patch
sizes against bsdiff4 and their build and apply times are in BENCHMARKS.md, "Delta images":

* ``hdiffpatch-cdc`` (the default) — the images cut into content-defined chunks; chunks found
  unchanged are copied, each changed run is diffed by ``hdiffpatch`` against the old bytes
  between its unchanged neighbours, and the whole is lzma-compressed (``delta_cdc.py``). About
  the size of plain ``hdiffpatch``, less CPU to build and to apply on a package tree;
* ``hdiffpatch`` — detools' HDiffPatch algorithm over the whole image, lzma-compressed
  (``_hdiffpatch.py``): smaller than bsdiff4's patches on two of the three measured pairs and
  faster to build and to apply;
* ``bsdiff4`` — the classic bsdiff (bz2 blocks), the anchor the size target is set against;
* ``zstd-prefix`` — zstd with the old image as a raw-content dictionary and a window spanning both
  images (``zstd --patch-from`` style): the fastest to build and apply, but python-zstandard
  cannot reference a dictionary as a prefix, so only the binary-tree strategies (level ≥ 12)
  find matches in it and long-distance matching ignores it; its patches are several times
  bsdiff4's on the big pairs.

``full`` is not an encoder but the fallback: the new image compressed with zstd, used when no
patch beats ``FALLBACK_RATIO`` × that size (a patch that saves little is not worth the risk of a
second reconstruction step).

Uptane (full and partial verification): an ECU installs an image only after checking it against
the length and hashes the Director and the Image repository signed. ``apply_delta``
therefore checks the old image, the patch and the reconstructed image against their SHA-256 and
length, and raises ``OtaError`` before anything could be installed. Every size a patch declares
is checked against the signed new length before it is decoded, and every compressed stream is
inflated incrementally only as far as that length allows (``_patch_bounds.py``, ``_bsdiff.py``,
``_hdiffpatch.py``), so a hostile patch cannot make the vehicle write endless data or spend memory
or CPU out of proportion to the signed image: it is refused with ``DeltaRefusedError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import bsdiff4
import zstandard

from evplatform.errors import OtaError
from evplatform.ota import _bsdiff as bsdiff
from evplatform.ota import _hdiffpatch as hdiffpatch
from evplatform.ota import delta_cdc
from evplatform.ota._patch_bounds import DeltaRefusedError, check_declared
from evplatform.ota.storage import sha256_hex

ALGORITHMS = ("hdiffpatch-cdc", "hdiffpatch", "bsdiff4", "zstd-prefix")
FULL = "full"
DEFAULT_ALGORITHM = "hdiffpatch-cdc"
#: A patch is used only when it is smaller than this share of the compressed full image.
FALLBACK_RATIO = 0.9
FULL_LEVEL = 9  # zstd level of the full-image fallback (size and speed against level 19: BENCHMARKS.md)
ZSTD_PREFIX_LEVEL = 12
MAX_WINDOW_LOG = 31


@dataclass(frozen=True, slots=True)
class Delta:
    """An encoded update from one image to another, with what it needs to be checked.

    ``payload`` is the patch (or, for ``full``, the compressed new image); ``patch_sha256`` and
    ``patch_length`` describe it as the Director's ``delta`` custom field does.
    """

    algorithm: str
    old_sha256: str
    old_length: int
    new_sha256: str
    new_length: int
    patch_sha256: str
    patch_length: int
    full_length: int  # the compressed full image, what the fallback would cost
    payload: bytes

    @property
    def ratio(self) -> float:
        """Patch size over the new image's size."""
        return self.patch_length / self.new_length if self.new_length else 1.0

    def metadata(self) -> dict[str, Any]:
        """Everything but the payload, in a fixed key order (for JSON and the Director)."""
        return {
            "algorithm": self.algorithm,
            "old_sha256": self.old_sha256,
            "old_length": self.old_length,
            "new_sha256": self.new_sha256,
            "new_length": self.new_length,
            "patch_sha256": self.patch_sha256,
            "patch_length": self.patch_length,
            "full_length": self.full_length,
        }

    def director_field(self) -> dict[str, Any]:
        """The ``delta`` entry of a Director target (INTERFACES.md)."""
        return {"algorithm": self.algorithm, "sha256": self.patch_sha256, "length": self.patch_length}

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any], payload: bytes) -> Delta:
        """A Delta from ``metadata()`` and its payload; OtaError when a field is missing or the payload differs."""
        try:
            delta = cls(
                algorithm=str(metadata["algorithm"]),
                old_sha256=str(metadata["old_sha256"]),
                old_length=int(metadata["old_length"]),
                new_sha256=str(metadata["new_sha256"]),
                new_length=int(metadata["new_length"]),
                patch_sha256=str(metadata["patch_sha256"]),
                patch_length=int(metadata["patch_length"]),
                full_length=int(metadata.get("full_length", 0)),
                payload=payload,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise OtaError(f"malformed delta metadata: {error!r}") from error
        _check_payload(delta)
        return delta


# --- encoders ----------------------------------------------------------------------------------


def _bsdiff4_create(old: bytes, new: bytes) -> bytes:
    return bytes(bsdiff4.diff(old, new))


def _window_log(old: bytes, new: bytes) -> int:
    """A window covering the whole prefix and the new image (``--patch-from`` does the same)."""
    return min(MAX_WINDOW_LOG, max(10, (len(old) + len(new)).bit_length()))


def _zstd_prefix_create(old: bytes, new: bytes) -> bytes:
    # Measured: python-zstandard indexes a raw-content dictionary only with the binary-tree
    # strategies (level >= 12 here), and long-distance matching does not see the dictionary
    # (it made patches 25 % larger), so this is a plain dictionary at level 12, not LDM.
    window_log = _window_log(old, new)
    params = zstandard.ZstdCompressionParameters.from_level(
        ZSTD_PREFIX_LEVEL, window_log=window_log, enable_ldm=False, write_content_size=True
    )
    prefix = zstandard.ZstdCompressionDict(old, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    return zstandard.ZstdCompressor(dict_data=prefix, compression_params=params).compress(new)


def _zstd_prefix_apply(old: bytes, patch: bytes, new_length: int) -> bytes:
    prefix = zstandard.ZstdCompressionDict(old, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    return _zstd_decompress(patch, new_length, prefix, 1 << MAX_WINDOW_LOG, "zstd-prefix")


def _zstd_decompress(
    payload: bytes, new_length: int, prefix: zstandard.ZstdCompressionDict | None, window: int, name: str
) -> bytes:
    try:
        params = zstandard.get_frame_parameters(payload)
    except zstandard.ZstdError as error:
        raise DeltaRefusedError(f"{name}: malformed patch: {error}") from error
    check_declared(name, params.content_size, new_length)
    decompressor = zstandard.ZstdDecompressor(dict_data=prefix, max_window_size=window)
    try:
        return decompressor.decompress(payload, max_output_size=new_length)
    except zstandard.ZstdError as error:
        raise DeltaRefusedError(f"{name}: cannot apply the patch: {error}") from error


def compress_full(new: bytes) -> bytes:
    """The full-image fallback: zstd with the content size in the frame header (bounds the output)."""
    params = zstandard.ZstdCompressionParameters.from_level(FULL_LEVEL, write_content_size=True)
    return zstandard.ZstdCompressor(compression_params=params).compress(new)


def _full_apply(_old: bytes, payload: bytes, new_length: int) -> bytes:
    return _zstd_decompress(payload, new_length, None, 1 << 27, "full image")


_CREATE: dict[str, Callable[[bytes, bytes], bytes]] = {
    "hdiffpatch-cdc": delta_cdc.create_patch,
    "hdiffpatch": hdiffpatch.create_patch,
    "bsdiff4": _bsdiff4_create,
    "zstd-prefix": _zstd_prefix_create,
}
_APPLY: dict[str, Callable[[bytes, bytes, int], bytes]] = {
    "hdiffpatch-cdc": delta_cdc.apply_patch,
    "hdiffpatch": hdiffpatch.apply_patch,
    "bsdiff4": bsdiff.apply_patch,
    "zstd-prefix": _zstd_prefix_apply,
    FULL: _full_apply,
}


def encode(old: bytes, new: bytes, algorithm: str) -> bytes:
    """The raw patch of one algorithm, no fallback (what the benchmark measures)."""
    if algorithm not in _CREATE:
        raise OtaError(f"unknown delta algorithm {algorithm!r} (known: {', '.join(ALGORITHMS)})")
    return _CREATE[algorithm](old, new)


def make_delta(
    old: bytes, new: bytes, algorithm: str | None = None, *, fallback_ratio: float = FALLBACK_RATIO
) -> Delta:
    """The update from ``old`` to ``new``: a patch, or the compressed full image when no patch pays.

    ``algorithm`` None means ``DEFAULT_ALGORITHM``. The patch is applied once here and compared with
    ``new`` before it is returned, so a bug in an encoder can never reach a vehicle.
    """
    chosen = algorithm or DEFAULT_ALGORITHM
    if chosen != FULL and chosen not in _CREATE:
        raise OtaError(f"unknown delta algorithm {chosen!r} (known: {', '.join(ALGORITHMS)}, {FULL})")
    full = compress_full(new)
    payload = full
    used = FULL
    if chosen != FULL:
        patch = _CREATE[chosen](old, new)
        if len(patch) < fallback_ratio * len(full):
            payload, used = patch, chosen
    delta = Delta(
        algorithm=used,
        old_sha256=sha256_hex(old),
        old_length=len(old),
        new_sha256=sha256_hex(new),
        new_length=len(new),
        patch_sha256=sha256_hex(payload),
        patch_length=len(payload),
        full_length=len(full),
        payload=payload,
    )
    if _APPLY[used](old, payload, len(new)) != new:
        raise OtaError(f"{used}: the patch does not reproduce the new image (encoder bug); not published")
    return delta


def _check_payload(delta: Delta) -> None:
    if len(delta.payload) != delta.patch_length:
        raise OtaError(f"delta payload is {len(delta.payload)} bytes, expected {delta.patch_length} (truncated?)")
    actual = sha256_hex(delta.payload)
    if actual != delta.patch_sha256:
        raise OtaError(f"delta payload hashes to {actual}, expected {delta.patch_sha256} (corrupted)")


def apply_delta(old: bytes, delta: Delta, expected_sha256: str) -> bytes:
    """The new image rebuilt from ``old`` and ``delta``, verified against ``expected_sha256``.

    ``expected_sha256`` comes from signed metadata (the Director's target), not from the delta
    itself, which is only as trustworthy as its download. Every mismatch raises OtaError: the
    wrong old image, a truncated or corrupted patch, a result of the wrong length or hash.
    """
    if delta.algorithm not in _APPLY:
        raise OtaError(f"unknown delta algorithm {delta.algorithm!r}")
    if expected_sha256.lower() != delta.new_sha256:
        raise OtaError(f"delta builds image {delta.new_sha256}, but the signed target is {expected_sha256}")
    _check_payload(delta)
    if delta.algorithm != FULL and (len(old) != delta.old_length or sha256_hex(old) != delta.old_sha256):
        raise OtaError(
            f"delta is from image {delta.old_sha256}, the installed image is {sha256_hex(old)}: cannot apply"
        )
    new = _APPLY[delta.algorithm](old, delta.payload, delta.new_length)
    if len(new) != delta.new_length:
        raise OtaError(f"reconstructed image is {len(new)} bytes, expected {delta.new_length}")
    actual = sha256_hex(new)
    if actual != expected_sha256.lower():
        raise OtaError(f"reconstructed image hashes to {actual}, expected {expected_sha256}: not installed")
    return new
