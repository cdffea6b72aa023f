"""Content-addressed image storage behind a small interface.

Images are named by the SHA-256 of their bytes (the Image repository's target hashes and the
Director's ``delta`` entries refer to them that way), so storing the same image twice is free and
a stored image can never be silently replaced: its name is its hash. The hash is checked when an
image is put *and* when it is read back, so a bit flip on disk is an error, never an install.

``ImageStore`` is the seam (STYLE.md point 3): ``DirectoryImageStore`` keeps ``<root>/<sha256 hex>``
files (the layout INTERFACES.md fixes for the OTA server); an S3-compatible store can implement
the same four methods later without touching callers.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import BinaryIO

from evplatform.errors import OtaError

CHUNK = 1 << 20
_HEX64 = re.compile(r"[0-9a-f]{64}")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> tuple[str, int]:
    """(sha256 hex, length) of a file, read in chunks so big images need no memory."""
    digest = hashlib.sha256()
    length = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                length += len(chunk)
    except OSError as error:
        raise OtaError(f"cannot read image {path}: {error.strerror or error}") from error
    return digest.hexdigest(), length


def check_digest(sha256: str) -> str:
    """The digest in lower case, or an OtaError: callers name images only by a 64-hex SHA-256."""
    lowered = sha256.lower()
    if not _HEX64.fullmatch(lowered):
        raise OtaError(f"not a SHA-256 hex digest: {sha256!r}")
    return lowered


class ImageStore(ABC):
    """Where release images live, addressed by the SHA-256 of their content."""

    @abstractmethod
    def put(self, data: bytes | Path) -> str:
        """Store an image (bytes, or a file to copy) and return its SHA-256 hex digest."""

    @abstractmethod
    def open(self, sha256: str) -> BinaryIO:
        """A readable binary stream of the image; OtaError if absent or if its hash no longer matches."""

    @abstractmethod
    def exists(self, sha256: str) -> bool:
        """Whether an image with this digest is stored."""

    @abstractmethod
    def length(self, sha256: str) -> int:
        """The image's length in bytes; OtaError if absent."""

    def read(self, sha256: str) -> bytes:
        """The whole image, verified against its digest."""
        with self.open(sha256) as stream:
            return stream.read()


class DirectoryImageStore(ImageStore):
    """Images as files ``<root>/<sha256 hex>``, written atomically (temporary file, fsync, rename).

    A crash mid-write leaves at most a ``.tmp-*`` file, never a half image under a real name;
    readers therefore only ever see complete images, and ``open`` verifies the hash anyway
    because disks rot.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OtaError(f"cannot create image store {self.root}: {error.strerror or error}") from error

    def path(self, sha256: str) -> Path:
        """Where the image with this digest is (or would be) stored."""
        return self.root / check_digest(sha256)

    def put(self, data: bytes | Path) -> str:
        if isinstance(data, Path):
            return self._put_file(data)
        digest = sha256_hex(data)
        if not self.exists(digest):
            self._write_atomically(digest, io.BytesIO(data))
        return digest

    def _put_file(self, source: Path) -> str:
        """Copy a file in while hashing it; the copy is renamed only if its hash is the one computed."""
        try:
            handle = source.open("rb")
        except OSError as error:
            raise OtaError(f"cannot read image {source}: {error.strerror or error}") from error
        with handle:
            return self._write_atomically(None, handle)

    def _write_atomically(self, expected: str | None, stream: BinaryIO) -> str:
        fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=self.root)
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            actual = digest.hexdigest()
            if expected is not None and actual != expected:
                raise OtaError(f"image changed while being stored: expected sha256 {expected}, wrote {actual}")
            # A second writer of the same image renames an identical file over the first: harmless.
            os.replace(temporary, self.root / actual)
            return actual
        except OSError as error:
            raise OtaError(f"cannot write image to {self.root}: {error.strerror or error}") from error
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def open(self, sha256: str) -> BinaryIO:
        path = self.path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise OtaError(f"no image {sha256} in {self.root}") from None
        except OSError as error:
            raise OtaError(f"cannot read image {path}: {error.strerror or error}") from error
        actual = sha256_hex(data)
        if actual != path.name:
            raise OtaError(f"stored image {path.name} is corrupted: its content hashes to {actual}")
        return io.BytesIO(data)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def length(self, sha256: str) -> int:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            raise OtaError(f"no image {sha256} in {self.root}") from None
