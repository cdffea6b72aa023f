"""Browser tests: a real ``evplatform serve`` subprocess on a free loopback port, driven by Chromium.

The server serves a small demo database (300 vehicles, a completed and a halted campaign, plus
one running campaign for the pause button) built in a temporary folder. Playwright drives
Debian's ``/usr/bin/chromium`` (never a downloaded browser); without it every test here skips.
Screenshots go to ``out/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from evplatform.fleet import TargetFilter, WavePolicy, build_demo_database, create_campaign, start_campaign
from evplatform.store import create_account, issue_token, open_store
from evplatform.store import releases as rdb
from evplatform.workspace import load_workspace

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"
VEHICLES = 300

pytestmark = pytest.mark.browser


@dataclass
class Server:
    url: str
    database: str
    tokens: dict[str, str]
    running_campaign: int

    def api(self, path: str) -> Any:
        return httpx.get(self.url + path, timeout=30).json()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prepare(database: str) -> tuple[dict[str, str], int]:
    """Demo fleet, accounts viewer-ann, release_manager-ann and admin-ann, and a running campaign of
    hub-os 1.8.0 in China."""
    build_demo_database(database, vehicles=VEHICLES)
    store = open_store(database)
    try:
        tokens = {}
        for role in ("viewer", "release_manager", "admin"):
            create_account(store, f"{role}-ann", role)
            tokens[role] = issue_token(store, f"{role}-ann")
        ws = load_workspace(None)
        component = ws.software["hub-os"]
        now = datetime.now(UTC)
        rdb.save_release(store, rdb.ReleaseRecord("hub-os-1.8.0", "hub-os", component.ecu, component.hardware_id,
                                                  "1.8.0", component.compatible_text, created_at=now))
        rdb.save_approval(store, rdb.ApprovalRecord("hub-os-1.8.0", "CN", "MIIT", "GB44496-1", "rita", now))
        cid = create_campaign(store, name="hub-os 1.8.0 China", release_id="hub-os-1.8.0",
                              target=TargetFilter(markets=("CN",)), waves=(WavePolicy(0.1), WavePolicy(1.0)))
        start_campaign(store, cid, actor="release_manager-ann")
        return tokens, cid
    finally:
        store.dispose()


@contextmanager
def serving(folder: Path, *arguments: str) -> Iterator[str]:
    """``evplatform serve ARGUMENTS`` on a free loopback port, run in ``folder`` (its log there):
    the base URL once ``/api/platform`` answers; the server is stopped on leaving."""
    port = _free_port()
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "evplatform", "serve", *arguments, "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, cwd=folder, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(url + "/api/platform", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"server did not start: {(folder / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (make services installs it)")
    folder = tmp_path_factory.mktemp("web")
    database = f"sqlite:///{folder / 'demo.db'}"
    tokens, cid = _prepare(database)
    with serving(folder, "--database", database) as url:
        yield Server(url, database, tokens, cid)


@pytest.fixture(scope="session")
def browser(server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(90_000)  # the first visit of a page computes its figures; the machine is shared
    context.set_default_navigation_timeout(120_000)
    opened = context.new_page()
    yield opened
    context.close()
