"""How the vehicle gets bytes: one small seam with an HTTP implementation and in-process fakes.

Like python-tuf's ``ngclient/fetcher.py``: :meth:`Fetcher.fetch` wraps the implementation's
``_fetch``, enforces ``max_length`` (endless-data attacks end after ``max_length + 1`` bytes) and
re-raises anything foreign as :class:`DownloadError` ``from`` the original, so the orchestrator
only ever sees the client's own errors. ``HttpFetcher`` resumes an interrupted body with a
``Range`` request; ``DirectoryFetcher`` and ``InMemoryFetcher`` serve the fleet simulator and
the tests in-process.
"""

from __future__ import annotations

import abc
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Protocol

import httpx

from evplatform.errors import OtaError
from evplatform.ota.client.errors import (
    ClientError,
    DownloadError,
    EndlessDataError,
    NotFoundError,
    SlowRetrievalError,
)

#: Defaults of the slow-retrieval guard: a mobile link in a basement still does far better than
#: 1 KiB/s over 30 s, an attacker dripping bytes to hold the vehicle on old software does not.
MIN_BYTES_PER_SECOND = 1024
RATE_WINDOW_SECONDS = 30.0


class RateMonitor:
    """Abort a download whose average rate over the last ``window_s`` falls below ``min_bytes_per_s``.

    Uptane 5.4 (all ECUs SHALL monitor the download speed): a per-read timeout alone lets an
    attacker send one byte just before each timeout and keep a vehicle on old, vulnerable
    software for days. The clock is injected (monotonic seconds) so tests need no real waiting.
    """

    def __init__(self, min_bytes_per_s: float = MIN_BYTES_PER_SECOND, window_s: float = RATE_WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if min_bytes_per_s < 0 or window_s <= 0:
            raise ValueError("the minimum rate must be ≥ 0 and the window > 0 seconds")
        self.min_bytes_per_s = min_bytes_per_s
        self.window_s = window_s
        self.clock = clock
        self._samples: list[tuple[float, int]] = []

    def start(self) -> None:
        self._samples = [(self.clock(), 0)]

    def observe(self, total_bytes: int, url: str) -> None:
        """Record the bytes received so far; SlowRetrievalError when the last window was too slow."""
        now = self.clock()
        self._samples.append((now, total_bytes))
        while len(self._samples) > 2 and self._samples[1][0] <= now - self.window_s:
            self._samples.pop(0)  # keep one sample at or before the window's start
        since, bytes_then = self._samples[0]
        elapsed = now - since
        if elapsed >= self.window_s and (total_bytes - bytes_then) / elapsed < self.min_bytes_per_s:
            raise SlowRetrievalError(
                f"{url}: {total_bytes - bytes_then} bytes in {elapsed:.0f} s, below the minimum of "
                f"{self.min_bytes_per_s:.0f} B/s (slow retrieval)")


class Fetcher(abc.ABC):
    """Download a whole file, never more than ``max_length`` bytes."""

    def fetch(self, url: str, max_length: int) -> bytes:
        """The bytes at ``url``; EndlessDataError past ``max_length``, DownloadError on failure."""
        try:
            data = self._fetch(url, max_length)
        except ClientError:
            raise
        except Exception as error:  # the seam: nothing foreign leaves a fetcher
            raise DownloadError(f"{url}: {type(error).__name__}: {error}") from error
        if len(data) > max_length:
            raise EndlessDataError(f"{url}: more than the {max_length} bytes allowed")
        return data

    @abc.abstractmethod
    def _fetch(self, url: str, max_length: int) -> bytes:
        """Implementation: may return up to ``max_length + 1`` bytes; raise NotFoundError for 404."""


class InMemoryFetcher(Fetcher):
    """Files in a dict (``url → bytes``); tests and attack scenarios change it between checks.

    ``on_fetch`` (if set) sees each url first and may raise, e.g. to cut the link mid-update.
    """

    def __init__(self, files: MutableMapping[str, bytes] | None = None) -> None:
        self.files: MutableMapping[str, bytes] = files if files is not None else {}
        self.requests: list[str] = []
        self.on_fetch: Callable[[str], None] | None = None

    def _fetch(self, url: str, max_length: int) -> bytes:
        self.requests.append(url)
        if self.on_fetch is not None:
            self.on_fetch(url)
        try:
            data = self.files[url]
        except KeyError as error:
            raise NotFoundError(f"{url}: not found") from error
        return data[: max_length + 1]


class DirectoryFetcher(Fetcher):
    """Serve url prefixes from folders: ``{"image/": [Path(...)], "director/VIN/": [p1, p2]}``.

    Each prefix maps to folders tried in order (the Director serves its shared root and the
    vehicle's own files under one prefix). Paths that would leave a folder are refused.
    """

    def __init__(self, mounts: Mapping[str, Sequence[Path] | Path]) -> None:
        self.mounts: dict[str, list[Path]] = {
            prefix: [Path(p) for p in (folders if isinstance(folders, list | tuple) else [folders])]
            for prefix, folders in sorted(mounts.items(), key=lambda item: -len(item[0]))
        }

    def _fetch(self, url: str, max_length: int) -> bytes:
        for prefix, folders in self.mounts.items():
            if not url.startswith(prefix):
                continue
            relative = PurePosixPath(url[len(prefix) :])
            if relative.is_absolute() or ".." in relative.parts or not relative.parts:
                raise DownloadError(f"{url}: path leaves the served folder")
            for folder in folders:
                path = folder.joinpath(*relative.parts)
                if path.is_file():
                    with path.open("rb") as handle:
                        return handle.read(max_length + 1)
            raise NotFoundError(f"{url}: not found")
        raise NotFoundError(f"{url}: no folder serves this path")


class OtaServer(Protocol):
    """What :class:`ServiceFetcher` needs of ``evplatform.ota.service.OtaService``."""

    def image_metadata(self, role: str, version: int | None = None) -> bytes: ...

    def director_metadata(self, vin: str, role: str, version: int | None = None) -> bytes: ...

    def image_path(self, sha256: str) -> Path: ...


_METADATA_FILE = re.compile(r"^(?:(\d+)\.)?([a-z][a-z0-9_-]*)\.json\Z")


class ServiceFetcher(Fetcher):
    """The OTA server in the same process (fleet simulator): urls of the default client layout.

    ``image/<file>``, ``director/<VIN>/<file>`` and ``images/<sha256>`` become calls on the
    service; whatever the service cannot serve is NotFoundError, as a 404 would be.
    """

    def __init__(self, service: OtaServer) -> None:
        self.service = service

    def _fetch(self, url: str, max_length: int) -> bytes:
        parts = url.split("/")
        try:
            if parts[0] == "images" and len(parts) == 2:
                with self.service.image_path(parts[1]).open("rb") as handle:
                    return handle.read(max_length + 1)
            if parts[0] == "image" and len(parts) == 2:
                version, role = _metadata_file(url, parts[1])
                return self.service.image_metadata(role, version)
            if parts[0] == "director" and len(parts) == 3:
                version, role = _metadata_file(url, parts[2])
                return self.service.director_metadata(parts[1], role, version)
        except OtaError as error:
            raise NotFoundError(f"{url}: {error}") from error
        raise NotFoundError(f"{url}: not a path of the OTA service")


def _metadata_file(url: str, name: str) -> tuple[int | None, str]:
    match = _METADATA_FILE.match(name)
    if match is None:
        raise NotFoundError(f"{url}: not a metadata file name")
    return (int(match.group(1)) if match.group(1) else None), match.group(2)


#: Metadata files whose bytes and ETag an ``HttpFetcher`` keeps for ``If-None-Match`` (the top-level
#: roles and a few delegations: a few hundred KiB at most).
VALIDATORS_KEPT = 32


class HttpFetcher(Fetcher):
    """httpx GET with streaming, a length cap and resume by ``Range`` after an interrupted body.

    A server that ignores ``Range`` (answers 200) makes the download start over; 404 is
    NotFoundError; other statuses and exhausted retries are DownloadError.

    Metadata (``*.json``) are fetched conditionally: the bytes of the last 200 are kept with its
    ``ETag`` and the next request for the same url sends ``If-None-Match``; a 304 hands back the kept
    bytes, which the client then verifies exactly as if they had been sent again (expiry, versions:
    a 304 can no more freeze a vehicle than a replayed 200 could). Images are never kept.
    """

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.Client | None = None,
        attempts: int = 5,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        rate: RateMonitor | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.client = client or httpx.Client(timeout=timeout)
        self.rate = rate or RateMonitor()
        self.attempts = attempts
        self.headers = dict(headers or {})
        self.resumed = 0
        self.not_modified = 0  # metadata requests answered 304 (the kept bytes were used)
        self._validators: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._etag: str | None = None  # of the response being read
        self._restart_only = False

    def _fetch(self, url: str, max_length: int) -> bytes:
        full = url if url.startswith(("http://", "https://")) else self.base_url + url.lstrip("/")
        received = bytearray()
        last_error: Exception | None = None
        self._restart_only = False
        self.rate.start()  # the whole download, retries included, must keep the minimum rate
        for _attempt in range(self.attempts):
            # Ranges count bytes of the body as sent: ask for no transfer encoding and read it raw.
            headers = {**self.headers, "Accept-Encoding": "identity"}
            kept = self._validators.get(full) if not received else None
            if received:
                headers["Range"] = f"bytes={len(received)}-"
                self.resumed += 1
            elif kept is not None:
                headers["If-None-Match"] = kept[0]
            try:
                if self._stream_into(full, headers, received, max_length, kept):
                    self._keep(full, bytes(received))
                    return bytes(received)
            except (httpx.TransportError, httpx.StreamError) as error:
                last_error = error  # body cut: retry from what we have
                if self._restart_only:
                    received.clear()
                continue
        raise DownloadError(f"{full}: gave up after {self.attempts} attempts ({last_error})") from last_error

    def _stream_into(self, url: str, headers: dict[str, str], received: bytearray, max_length: int,
                     kept: tuple[str, bytes] | None = None) -> bool:
        """Append the (rest of the) body to ``received``; True when it ended, False to start over."""
        with self.client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304 and kept is not None:
                received[:] = kept[1]  # our copy is current: the same bytes, verified again by the caller
                self._etag = kept[0]
                self.not_modified += 1
                return True
            self._etag = response.headers.get("etag") if response.status_code == 200 else None
            if response.status_code == 404:
                raise NotFoundError(f"{url}: not found (404)")
            if response.status_code == 416 and received:
                return True  # nothing left past what we already hold
            if response.status_code == 200 and received:
                received.clear()  # the server ignored Range: start over
            elif response.status_code == 206 and not _range_starts_at(response, len(received)):
                received.clear()  # resumed at the wrong offset: start over on the next attempt
                return False
            elif response.status_code not in (200, 206):
                raise DownloadError(f"{url}: HTTP {response.status_code}")
            if response.headers.get("content-encoding", "identity") != "identity":
                received.clear()  # offsets of an encoded body are not those of the file: no resume
                self._restart_only = True
            for chunk in response.iter_bytes(None):  # each chunk as it arrives, nothing held back
                received.extend(chunk)
                self.rate.observe(len(received), url)
                if len(received) > max_length:
                    raise EndlessDataError(f"{url}: more than the {max_length} bytes allowed")
        return True

    def _keep(self, url: str, data: bytes) -> None:
        """Remember a metadata file's bytes with the ETag of the 200 that brought them (bounded)."""
        if not url.endswith(".json") or not self._etag:
            return
        self._validators[url] = (self._etag, data)
        self._validators.move_to_end(url)
        while len(self._validators) > VALIDATORS_KEPT:
            self._validators.popitem(last=False)

    def close(self) -> None:
        self.client.close()


def _range_starts_at(response: httpx.Response, offset: int) -> bool:
    """``Content-Range: bytes START-END/TOTAL`` starts where the received bytes end."""
    value = response.headers.get("content-range", "")
    unit, _, rest = value.partition(" ")
    start, _, _ = rest.partition("-")
    return unit == "bytes" and start.isdigit() and int(start) == offset
