"""How the simulated fleet reaches the OTA service: images over an in-process HTTP transport that can
cut a transfer mid-way (to exercise resume by ``Range``), metadata straight from the service.

Kept apart from ``uptane_link`` (which drives vehicles through offers) because it is the network:
what a real deployment replaces with the vehicle's modem and the server's HTTP endpoint.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from evplatform.errors import OtaError
from evplatform.ota.client import Fetcher, HttpFetcher, ServiceFetcher
from evplatform.ota.service import OtaService

#: Base URL of the simulated server; never resolved (the transport answers in-process).
SIMULATED_URL = "http://ota.invalid/"


class ImageTransport:
    """httpx transport handler serving images from the service, with ``Range`` and injected cuts.

    A request carrying ``X-Interrupt-After: N`` and no ``Range`` gets a 200 whose body breaks after
    N bytes (``httpx.ReadError``, as a dropped mobile link would); a ``Range`` request gets 206.
    """

    def __init__(self, service: OtaService) -> None:
        self.service = service

    def __call__(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "images":
            return httpx.Response(404)
        try:
            data = self.service.image_path(parts[1]).read_bytes()
        except OtaError:
            return httpx.Response(404)
        wanted = request.headers.get("range", "")
        if wanted.startswith("bytes=") and wanted.endswith("-") and wanted[6:-1].isdigit():
            start = int(wanted[6:-1])
            if start >= len(data):
                return httpx.Response(416)
            return httpx.Response(206, content=data[start:],
                                  headers={"content-range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
        cut = request.headers.get("x-interrupt-after", "")
        if cut.isdigit():
            return httpx.Response(200, stream=CutStream(data, int(cut)))
        return httpx.Response(200, content=data)


class CutStream(httpx.SyncByteStream):
    def __init__(self, data: bytes, after: int) -> None:
        self.data = data
        self.after = after

    def __iter__(self) -> Any:
        yield self.data[: self.after]
        raise httpx.ReadError("simulated link loss in the middle of the image")


class VehicleFetcher(Fetcher):
    """Metadata from the service in-process; images too, or over HTTP with a cut when asked."""

    def __init__(self, service: OtaService, http: httpx.Client) -> None:
        self.direct = ServiceFetcher(service)
        self.http = http
        self.interrupt_after: int | None = None
        self.resumed = 0

    def _fetch(self, url: str, max_length: int) -> bytes:
        if self.interrupt_after is None or not url.startswith("images/"):
            return self.direct.fetch(url, max_length)
        fetcher = HttpFetcher(SIMULATED_URL, client=self.http,
                              headers={"X-Interrupt-After": str(self.interrupt_after)})
        self.interrupt_after = None  # only the first transfer of this offer is cut
        data = fetcher.fetch(url, max_length)
        self.resumed += fetcher.resumed
        return data


def scratch_dir() -> str | None:
    """A memory filesystem for the temporary vehicles when there is one (``/dev/shm``), else the default.

    The slots fsync every file they write (that is what makes them power-loss safe on a real ECU);
    on a shared disk that costs tens of milliseconds per vehicle, on tmpfs almost nothing, and the
    write order — all the power-loss injection relies on — is the same.
    """
    shm = Path("/dev/shm")  # noqa: S108 - per-run folders made with mkdtemp (mode 0700) inside it
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
