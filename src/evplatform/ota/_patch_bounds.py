"""Bounded reading of hostile delta patches: every size is checked against the signed target.

A delta's bytes are covered by the Director's signature over its hash, but what they *declare*
(a new size, a patch size, a compression) and how far their compressed streams inflate is
whatever the patch's author chose. A 2.3 KB bsdiff4 patch whose bz2 blocks inflate to 4 GiB, or
a 424 B hdiffpatch patch whose header declares 4 GiB, made the vehicle allocate 4 GiB before any
hash could be compared (issue 14 item 3). The length of the image a patch must rebuild is signed
in the Image repository's and the Director's targets (Uptane 2.1.0 5.4.4.2 step 10, 5.4.4.7), so
every size a patch declares is compared with it first, and every compressed stream is inflated
incrementally, never past what that length allows: memory and CPU stay linear in the signed
length, and a patch that would go further is refused with :class:`DeltaRefusedError`.
"""

from __future__ import annotations

import bz2
import lzma
from typing import Protocol

from evplatform.errors import OtaError

#: Input fed to a decompressor per call: the output it may produce per call is capped separately.
_INPUT_CHUNK = 64 * 1024


class DeltaRefusedError(OtaError):
    """A delta patch refused before or while it was applied: malformed, or declaring or inflating
    past what the signed target length allows. Nothing was written anywhere."""


class _Decompressor(Protocol):
    """What ``bz2.BZ2Decompressor`` and ``lzma.LZMADecompressor`` have in common."""

    @property
    def eof(self) -> bool: ...

    @property
    def needs_input(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


def decompressor(kind: str) -> _Decompressor:
    """A fresh incremental decompressor of ``kind`` (``bz2`` or ``lzma``)."""
    if kind == "bz2":
        return bz2.BZ2Decompressor()
    if kind == "lzma":
        return lzma.LZMADecompressor()
    raise DeltaRefusedError(f"unsupported compression {kind!r}")


class BoundedInflater:
    """One compressed stream inside a patch, inflated only as far as the caller asks.

    ``limit`` is the most output the whole stream may produce (derived from the signed length);
    a read past it, a stream that ends early or one with output left at :meth:`finish` is refused.
    """

    def __init__(self, name: str, data: bytes | memoryview, kind: str, limit: int) -> None:
        self.name = name
        self._data = memoryview(data)
        self._position = 0
        self._decompressor = decompressor(kind)
        self._limit = limit
        self.produced = 0

    def read(self, size: int) -> bytes:
        """Exactly ``size`` bytes of output; DeltaRefusedError if the stream is shorter or over its limit."""
        if size < 0 or self.produced + size > self._limit:
            raise DeltaRefusedError(f"{self.name}: more than the {self._limit} bytes the signed length allows")
        out = bytearray()
        while len(out) < size:
            chunk = self._next(size - len(out))
            if not chunk:
                raise DeltaRefusedError(f"{self.name}: ends {size - len(out)} bytes early (truncated patch)")
            out += chunk
        self.produced += size
        return bytes(out)

    def read_some(self, size: int) -> bytes:
        """Up to ``size`` bytes of output (b"" once the stream has ended), within the limit."""
        size = min(size, self._limit - self.produced)
        out = self._next(size) if size > 0 else b""
        self.produced += len(out)
        return out

    def finish(self) -> None:
        """Refuse a stream that has output left or compressed bytes after its end."""
        if self._next(1):
            raise DeltaRefusedError(f"{self.name}: inflates past what the patch uses (over {self.produced} bytes)")
        if not self._decompressor.eof:
            raise DeltaRefusedError(f"{self.name}: compressed stream does not end (truncated patch)")
        if self._decompressor.unused_data or self._position < len(self._data):
            raise DeltaRefusedError(f"{self.name}: bytes after the end of its compressed stream")

    def _next(self, size: int) -> bytes:
        """At most ``size`` bytes of output, feeding input as the decompressor asks; b"" at the end."""
        try:
            for _ in range(len(self._data) // _INPUT_CHUNK + 3):  # each turn feeds input or returns
                if self._decompressor.eof:
                    return b""
                if self._decompressor.needs_input:
                    data = bytes(self._data[self._position : self._position + _INPUT_CHUNK])
                    self._position += len(data)
                    if not data:
                        return b""
                else:
                    data = b""
                out = self._decompressor.decompress(data, size)
                if out:
                    return out
            return b""
        except (OSError, EOFError, ValueError, lzma.LZMAError) as error:
            raise DeltaRefusedError(f"{self.name}: corrupt compressed data: {error}") from error


def check_declared(name: str, declared: int, signed: int) -> None:
    """Refuse a size a patch declares that differs from the signed one."""
    if declared != signed:
        raise DeltaRefusedError(f"{name}: the patch produces {declared} bytes, the signed target says {signed}")
