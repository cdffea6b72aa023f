"""What the Image repository, the Director and the manifest checker share.

- an injected clock (``evplatform.clock.Clock``, re-exported here): every expiry and freshness
  decision takes "now" from it, never from the system, so tests can move time and a vehicle with
  a skewed clock can be modelled; ``now_of`` reads it at TUF's one-second resolution;
- atomic writes (temp file in the same folder + ``os.replace``): a reader sees the old file or
  the new one, never half of one;
- reading a metadata file into python-tuf's ``Metadata`` with an ``OtaError`` that names the file,
  line and column when the JSON is malformed;
- canonical JSON (TUF 4.2 "Canonical JSON", the OLPC dialect securesystemslib implements) on a
  fast path: for values made only of dicts with str keys, lists, str, int, bool and None, where no
  string holds a control character, ``"`` or ``\\``, ``json.dumps(sort_keys=True,
  separators=(",", ":"), ensure_ascii=False)`` produces exactly the same bytes as
  ``securesystemslib.formats.encode_canonical`` and runs in C. Anything else takes the slow path.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from securesystemslib.formats import encode_canonical
from tuf.api.exceptions import RepositoryError
from tuf.api.metadata import Metadata

from evplatform.clock import Clock
from evplatform.clock import system_clock as system_clock  # re-exported: the CLI imports it from here
from evplatform.errors import OtaError

TOP_LEVEL_ROLES = ("root", "targets", "snapshot", "timestamp")
OFFLINE_ROLES = ("root", "targets")  # Uptane 5.3: Image repository root and targets keys stay offline
ONLINE_ROLES = ("snapshot", "timestamp")

#: Default lifetimes. Short for online roles (freeze attacks are bounded by the timestamp's).
DEFAULT_EXPIRY: dict[str, timedelta] = {
    "root": timedelta(days=365),
    "targets": timedelta(days=90),
    "snapshot": timedelta(days=7),
    "timestamp": timedelta(days=1),
}
#: Director metadata is regenerated per vehicle, so it can live shorter.
DIRECTOR_EXPIRY: dict[str, timedelta] = {
    "root": timedelta(days=365),
    "targets": timedelta(days=7),
    "snapshot": timedelta(days=7),
    "timestamp": timedelta(days=1),
}

_FORBIDDEN_IN_FAST_STRINGS = frozenset(chr(c) for c in range(0x20)) | {'"', "\\"}


def now_of(clock: Clock) -> datetime:
    """The clock's time, checked aware and truncated to seconds (TUF ``expires`` has seconds)."""
    now = clock()
    if now.tzinfo is None:
        raise OtaError("the clock returned a naive datetime; OTA decisions need an aware UTC time")
    return now.astimezone(UTC).replace(microsecond=0)


def write_atomic(path: Path, data: bytes, mode: int = 0o644, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so that no reader ever sees a partial file.

    The temp file lives in the same folder (``os.replace`` is atomic only within a file system)
    and is fsynced before the rename, so a crash leaves either the old or the new content.
    ``durable=False`` skips the fsync for a bulk writer that syncs once at its end (the demo
    fleet's registration: 10,000 fsyncs took minutes on a busy disk).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def parse_json(data: bytes, source: str) -> Any:
    """JSON from bytes, or an OtaError naming ``source:line:column`` and what is wrong.

    Floats are refused: canonical JSON (TUF 4.2) has none, so a float can only be an attack or
    a bug.
    """
    try:
        return json.loads(data, parse_float=_reject_float, parse_constant=_reject_float)
    except json.JSONDecodeError as error:
        raise OtaError(f"{source}:{error.lineno}:{error.colno}: malformed JSON: {error.msg}") from error
    except UnicodeDecodeError as error:
        raise OtaError(f"{source}: not UTF-8 text (byte {error.start})") from error
    except ValueError as error:
        raise OtaError(f"{source}: {error}") from error


def _reject_float(text: str) -> Any:
    raise ValueError(f"number {text!r} is not an integer (canonical JSON has no floats)")


def metadata_from_bytes(data: bytes, source: str, role: str | None = None) -> Metadata[Any]:
    """python-tuf ``Metadata`` from bytes with a clear OtaError for malformed input or wrong type."""
    parsed = parse_json(data, source)
    if not isinstance(parsed, dict) or "signed" not in parsed or "signatures" not in parsed:
        raise OtaError(f"{source}: not TUF metadata (expected an object with 'signed' and 'signatures')")
    try:
        metadata: Metadata[Any] = Metadata.from_dict(parsed)
    except (KeyError, ValueError, TypeError, AttributeError, RepositoryError) as error:
        raise OtaError(f"{source}: invalid TUF metadata: {error}") from error
    if role is not None and metadata.signed.type != role:
        raise OtaError(f"{source}: expected {role} metadata, found {metadata.signed.type!r}")
    return metadata


def read_metadata(path: Path, role: str | None = None) -> Metadata[Any]:
    """Read a metadata file; OtaError if it is missing, malformed or of the wrong role."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise OtaError(f"{path}: metadata file not found") from error
    return metadata_from_bytes(data, str(path), role)


def canonical_bytes(value: Any) -> bytes:
    """Canonical JSON bytes of ``value`` (TUF 4.2), through the C encoder when it is safe."""
    if _fast_safe(value):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text = encode_canonical(value)
    if text is None:
        raise AssertionError("without output_function encode_canonical returns the text")  # kept under -O
    return text.encode("utf-8")


def _fast_safe(value: Any) -> bool:
    if isinstance(value, str):
        return _FORBIDDEN_IN_FAST_STRINGS.isdisjoint(value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return True
    if isinstance(value, dict):
        return all(isinstance(k, str) and _fast_safe(k) and _fast_safe(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_fast_safe(v) for v in value)
    return False


def fast_safe_string(text: str) -> bool:
    """True when ``text`` can be placed between quotes as is in canonical JSON and in json.dumps."""
    return _FORBIDDEN_IN_FAST_STRINGS.isdisjoint(text)


def expires_text(moment: datetime) -> str:
    """TUF's ``expires`` format (seconds, ``Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
