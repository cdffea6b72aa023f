"""Issue 18 §4: ``evplatform serve`` stopped with SIGTERM lets a request in flight finish.

A real server in a subprocess, a real route made slow by its client: an image download (48 MiB, more
than the socket buffers hold) read one chunk, then SIGTERM, then the rest. The download must arrive
whole, new connections must be refused meanwhile, and the process must end once the download has.
A client that stalls longer than ``--graceful-timeout`` is cut off and the server stops anyway.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO

import httpx
import pytest

from evplatform.clock import system_clock
from evplatform.ota.keys import KeyRing
from evplatform.ota.service import OtaService

IMAGE_MIB = 48

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def ota_image(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, str]:
    """An OTA server folder holding one large image: (folder, image, its sha256)."""
    root = tmp_path_factory.mktemp("graceful") / "ota"
    OtaService.initialise(root, system_clock, KeyRing.init(root / "keys", insecure_demo_keys=True))
    image = os.urandom(1 << 20) * IMAGE_MIB
    sha256 = hashlib.sha256(image).hexdigest()
    (root / "images" / sha256).write_bytes(image)
    return root, image, sha256


def _serve(tmp_path: Path, root: Path, port: int, graceful_s: int, log: TextIO,
           workers: int = 1) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "evplatform", "serve", "--database", f"sqlite:///{tmp_path / 'db.sqlite'}",
         "--ota-root", str(root), "--port", str(port), "--graceful-timeout", str(graceful_s),
         "--log-level", "info", "--log-format", "json", "--workers", str(workers)],
        stdout=log, stderr=log, cwd=tmp_path, env={**os.environ, "PYTHONUNBUFFERED": "1"})


@pytest.mark.parametrize("workers", [1, 2])  # 2: uvicorn's supervisor passes SIGTERM on to each worker
def test_sigterm_lets_a_download_in_flight_finish(
        tmp_path: Path, ota_image: tuple[Path, bytes, str], workers: int) -> None:
    root, image, sha256 = ota_image
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = _serve(tmp_path, root, port, 60, log, workers)
        try:
            _wait_until_up(url, process, log_path)
            received = bytearray()
            with httpx.stream("GET", f"{url}/uptane/images/{sha256}", timeout=30) as response:
                assert response.status_code == 200
                chunks = response.iter_bytes(64 * 1024)
                received += next(chunks)
                process.send_signal(signal.SIGTERM)
                time.sleep(1.5)  # the server has begun to stop
                assert process.poll() is None, "the server stopped with a download in flight"
                with pytest.raises(httpx.TransportError):
                    httpx.get(url + "/healthz", timeout=2)  # no new requests once stopping
                for chunk in chunks:
                    received += chunk
            assert len(received) == len(image) and hashlib.sha256(received).hexdigest() == sha256
            process.wait(timeout=30)  # it ends once the download has
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    access = [json.loads(line) for line in log_path.read_text().splitlines()
              if line.startswith("{") and '"evplatform.access"' in line]
    assert {"route": "/uptane/images/{sha256}", "status": 200} in [
        {"route": e["route"], "status": e["status"]} for e in access]


def test_a_stalled_download_is_cut_after_the_graceful_timeout(
        tmp_path: Path, ota_image: tuple[Path, bytes, str]) -> None:
    root, image, sha256 = ota_image
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = _serve(tmp_path, root, port, 1, log)
        try:
            _wait_until_up(url, process, log_path)
            with httpx.stream("GET", f"{url}/uptane/images/{sha256}", timeout=30) as response:
                chunks = response.iter_bytes(64 * 1024)
                received = len(next(chunks))
                started = time.monotonic()
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=20)  # the client reads nothing more: only the timeout ends the wait
                assert time.monotonic() - started < 15
                with pytest.raises(httpx.TransportError):
                    for chunk in chunks:
                        received += len(chunk)
            assert received < len(image)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_serve_passes_the_graceful_timeout_and_leaves_access_lines_to_the_app(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from evplatform.cli.main import app as cli

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    database = f"sqlite:///{tmp_path / 'db.sqlite'}"
    for extra, expected in (([], 10), (["--graceful-timeout", "25"], 25)):
        result = CliRunner().invoke(cli, ["serve", "--database", database, "--port", str(_free_port()), *extra])
        assert result.exit_code == 0, result.output
        assert calls[-1]["timeout_graceful_shutdown"] == expected and calls[-1]["access_log"] is False
    assert CliRunner().invoke(cli, ["serve", "--database", database, "--graceful-timeout", "-1"]).exit_code == 2
