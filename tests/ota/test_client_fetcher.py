"""Fetchers: length caps, errors re-raised as our own, HTTP resume with Range requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from evplatform.ota.client.errors import DownloadError, EndlessDataError, NotFoundError, SlowRetrievalError
from evplatform.ota.client.fetcher import (
    DirectoryFetcher,
    Fetcher,
    HttpFetcher,
    InMemoryFetcher,
    RateMonitor,
    ServiceFetcher,
)

BODY = bytes(range(256)) * 40  # 10 KiB


class CutStream(httpx.SyncByteStream):
    """A body that breaks after ``cut`` bytes, as a dropped mobile link does."""

    def __init__(self, data: bytes, cut: int) -> None:
        self.data, self.cut = data, cut

    def __iter__(self) -> Iterator[bytes]:
        yield self.data[: self.cut]
        raise httpx.ReadError("connection reset")


def range_server(cuts: list[int], honour_range: bool = True) -> tuple[httpx.MockTransport, list[dict[str, str]]]:
    """A server whose first len(cuts) responses break after cuts[i] bytes of their body."""
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.headers))
        if request.url.path.endswith("/missing"):
            return httpx.Response(404)
        start = 0
        status = 200
        header = request.headers.get("range")
        if header and honour_range:
            start = int(header.removeprefix("bytes=").rstrip("-"))
            status = 206
        body = BODY[start:]
        headers = {"content-range": f"bytes {start}-{len(BODY) - 1}/{len(BODY)}"} if status == 206 else {}
        if cuts:
            return httpx.Response(status, headers=headers, stream=CutStream(body, cuts.pop(0)))
        return httpx.Response(status, headers=headers, content=body)

    return httpx.MockTransport(handler), seen


def http(transport: httpx.MockTransport, attempts: int = 5) -> HttpFetcher:
    return HttpFetcher("http://127.0.0.1:8000/uptane", client=httpx.Client(transport=transport), attempts=attempts)


def test_http_plain_download() -> None:
    transport, seen = range_server([])
    assert http(transport).fetch("images/abc", len(BODY)) == BODY
    assert "range" not in seen[0]


def test_http_resumes_an_interrupted_download_with_range() -> None:
    transport, seen = range_server([3000, 2500])
    fetcher = http(transport)
    assert fetcher.fetch("images/abc", len(BODY)) == BODY
    assert [h.get("range") for h in seen] == [None, "bytes=3000-", "bytes=5500-"]
    assert fetcher.resumed == 2


def test_http_restarts_when_the_server_ignores_range() -> None:
    transport, seen = range_server([4000], honour_range=False)
    assert http(transport).fetch("images/abc", len(BODY)) == BODY
    assert seen[1].get("range") == "bytes=4000-"


def test_http_gives_up_after_its_attempts() -> None:
    transport, _ = range_server([100, 100, 100])
    with pytest.raises(DownloadError, match="gave up after 3 attempts"):
        http(transport, attempts=3).fetch("images/abc", len(BODY))


def test_http_endless_data_stops_at_the_limit() -> None:
    transport, _ = range_server([])
    with pytest.raises(EndlessDataError):
        http(transport).fetch("images/abc", len(BODY) - 1)


def test_http_404_is_not_found() -> None:
    transport, _ = range_server([])
    with pytest.raises(NotFoundError):
        http(transport).fetch("image/missing", 1000)


def test_foreign_errors_become_download_errors() -> None:
    class Broken(Fetcher):
        def _fetch(self, url: str, max_length: int) -> bytes:
            raise ConnectionRefusedError("no route")

    with pytest.raises(DownloadError, match="ConnectionRefusedError") as raised:
        Broken().fetch("x", 10)
    assert isinstance(raised.value.__cause__, ConnectionRefusedError)


def test_http_status_errors() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(500))
    with pytest.raises(DownloadError, match="HTTP 500"):
        http(transport).fetch("image/timestamp.json", 100)


def test_in_memory_fetcher() -> None:
    fetcher = InMemoryFetcher({"a": b"12345"})
    assert fetcher.fetch("a", 5) == b"12345"
    with pytest.raises(EndlessDataError):
        fetcher.fetch("a", 4)
    with pytest.raises(NotFoundError):
        fetcher.fetch("b", 4)
    assert fetcher.requests == ["a", "a", "b"]


def test_directory_fetcher(tmp_path: Path) -> None:
    (tmp_path / "vehicle").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "vehicle" / "timestamp.json").write_bytes(b"ts")
    (tmp_path / "shared" / "1.root.json").write_bytes(b"root")
    fetcher = DirectoryFetcher({"director/V1/": [tmp_path / "vehicle", tmp_path / "shared"]})
    assert fetcher.fetch("director/V1/timestamp.json", 10) == b"ts"
    assert fetcher.fetch("director/V1/1.root.json", 10) == b"root"
    with pytest.raises(NotFoundError):
        fetcher.fetch("director/V1/2.root.json", 10)
    with pytest.raises(NotFoundError):
        fetcher.fetch("image/1.root.json", 10)
    with pytest.raises(DownloadError, match="leaves"):
        fetcher.fetch("director/V1/../vehicle/timestamp.json", 10)
    with pytest.raises(EndlessDataError):
        fetcher.fetch("director/V1/1.root.json", 3)


def test_service_fetcher_maps_urls_and_missing_files(tmp_path: Path) -> None:
    from evplatform.errors import OtaError

    class Service:
        def image_metadata(self, role: str, version: int | None = None) -> bytes:
            if version == 2:
                raise OtaError("no version 2 of root metadata")
            return f"image {role} {version}".encode()

        def director_metadata(self, vin: str, role: str, version: int | None = None) -> bytes:
            return f"director {vin} {role} {version}".encode()

        def image_path(self, sha256: str) -> Path:
            path = tmp_path / sha256
            path.write_bytes(b"image bytes")
            return path

    fetcher = ServiceFetcher(Service())
    assert fetcher.fetch("image/1.root.json", 100) == b"image root 1"
    assert fetcher.fetch("image/timestamp.json", 100) == b"image timestamp None"
    assert fetcher.fetch("director/V9/3.targets.json", 100) == b"director V9 targets 3"
    assert fetcher.fetch("images/ab12", 100) == b"image bytes"
    with pytest.raises(NotFoundError, match="no version 2"):
        fetcher.fetch("image/2.root.json", 100)
    with pytest.raises(NotFoundError):
        fetcher.fetch("elsewhere/x.json", 100)
    with pytest.raises(NotFoundError):
        fetcher.fetch("image/../x", 100)


def test_http_resume_over_a_real_loopback_socket() -> None:
    """A real server on 127.0.0.1 that drops the connection after 4 KiB of the first response."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    ranges: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            header = self.headers.get("Range")
            ranges.append(header)
            start = int(header.removeprefix("bytes=").rstrip("-")) if header else 0
            self.send_response(206 if header else 200)
            self.send_header("Content-Length", str(len(BODY) - start))
            if header:
                self.send_header("Content-Range", f"bytes {start}-{len(BODY) - 1}/{len(BODY)}")
            self.end_headers()
            if len(ranges) == 1:
                self.wfile.write(BODY[:4096])
                self.wfile.flush()
                self.connection.shutdown(2)  # the link drops mid-body
                return
            self.wfile.write(BODY[start:])

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        fetcher = HttpFetcher(f"http://127.0.0.1:{server.server_address[1]}", timeout=5)
        assert fetcher.fetch("images/abc", len(BODY)) == BODY
        fetcher.close()
    finally:
        server.shutdown()
        server.server_close()
    assert ranges == [None, "bytes=4096-"]


class DripStream(httpx.SyncByteStream):
    """A body sent ``size`` bytes at a time, each piece ``seconds`` after the last (on a fake clock)."""

    def __init__(self, data: bytes, size: int, seconds: float, clock: list[float]) -> None:
        self.data, self.size, self.seconds, self.clock = data, size, seconds, clock

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.data), self.size):
            self.clock[0] += self.seconds
            yield self.data[start:start + self.size]


def dripping(size: int, seconds: float) -> tuple[HttpFetcher, list[float]]:
    clock = [0.0]
    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=DripStream(BODY, size, seconds, clock)))
    monitor = RateMonitor(min_bytes_per_s=100, window_s=10, clock=lambda: clock[0])
    fetcher = HttpFetcher("http://127.0.0.1:8000/uptane", client=httpx.Client(transport=transport), rate=monitor)
    return fetcher, clock


def test_slow_retrieval_is_aborted_below_the_minimum_rate() -> None:
    fetcher, clock = dripping(size=64, seconds=1.0)  # 64 B/s, each piece well within any read timeout
    with pytest.raises(SlowRetrievalError, match="below the minimum of 100 B/s"):
        fetcher.fetch("images/abc", len(BODY))
    assert 10 <= clock[0] <= 12  # aborted as soon as one window was too slow, not at the end


def test_a_download_at_the_minimum_rate_or_faster_completes() -> None:
    fetcher, clock = dripping(size=1024, seconds=1.0)  # 1 KiB/s, ten seconds for the body
    assert fetcher.fetch("images/abc", len(BODY)) == BODY
    assert clock[0] == pytest.approx(10.0)


def test_a_slow_start_is_judged_over_the_whole_window_only() -> None:
    monitor = RateMonitor(min_bytes_per_s=100, window_s=10, clock=iter([0.0, 5.0, 9.0, 20.0]).__next__)
    monitor.start()
    monitor.observe(0, "u")       # 5 s with nothing: not yet a whole window
    monitor.observe(2000, "u")    # 9 s: still within the first window
    with pytest.raises(SlowRetrievalError):
        monitor.observe(2100, "u")  # 100 B in the 11 s since the sample at 9 s → 9 B/s
