"""What every request needs: the workspace (loaded once), the database (opened once), a clock, caches.

The workspace is read-only and validated at load, so one ``Workspace`` serves every request;
simulation results depend only on it and the request, so they are cached per workspace and
request. The database is opened on first use: a server whose database is down still starts,
answers 503 with the reason, and connects once the database is back — no crash loop.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request

from evplatform.api.errors import Unavailable
from evplatform.store import Store, default_database_url, open_store
from evplatform.workspace import Workspace, demo_path, load_workspace

if TYPE_CHECKING:
    from evplatform.ota.service import OtaService

Clock = Callable[[], datetime]
ENV_OTA_ROOT = "EVPLATFORM_OTA_ROOT"


def utc_now() -> datetime:
    return datetime.now(UTC)


class ApiContext:
    """Shared state of one API application (one per ``create_app``)."""

    def __init__(
        self, workspace: Path | None, database_url: str | None, clock: Clock = utc_now, ota_root: Path | None = None
    ) -> None:
        self.workspace_path = workspace
        self.ota_root = ota_root or (Path(os.environ[ENV_OTA_ROOT]) if os.environ.get(ENV_OTA_ROOT) else None)
        self._ota: Any = None
        self.database_url = database_url or default_database_url(workspace, bundled=workspace is None)
        self.clock = clock
        self._workspace: Workspace | None = None
        self._store: Store | None = None
        self._lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], Any] = {}

    def workspace(self) -> Workspace:
        """The workspace, loaded on first use (WorkspaceError → 400 naming file:line)."""
        with self._lock:
            if self._workspace is None:
                self._workspace = load_unchanged(self.workspace_path)
            return self._workspace

    def store(self) -> Store:
        """The database, opened and migrated on first use; StoreError (503) while unreachable."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self.database_url)
            return self._store

    def ota(self) -> OtaService:
        """The Uptane repositories (``--ota-root``); 501 when this server has none configured."""
        with self._lock:
            if self._ota is None:
                if self.ota_root is None:
                    raise Unavailable(
                        f"no OTA repositories on this server (evplatform serve --ota-root DIR or {ENV_OTA_ROOT})"
                    )
                from evplatform.ota.service import OtaService

                self._ota = OtaService(self.ota_root, self.clock)
            service: OtaService = self._ota
            return service

    def cached(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """``compute()`` once per key for this workspace (results of pure functions of it)."""
        full = (str(self.workspace().root), *key)
        with self._lock:
            if full in self._cache:
                return self._cache[full]
        value = compute()
        with self._lock:
            self._cache[full] = value
        return value

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.dispose()
                self._store = None


_LOADED: dict[tuple[Any, ...], Workspace] = {}
_LOADED_LOCK = threading.Lock()


def _fingerprint(path: Path | None) -> tuple[Any, ...]:
    """The workspace's files and their modification times: equal fingerprints, equal workspaces."""
    root = (Path(path) if path is not None else demo_path()).resolve()
    if not root.is_dir():
        return (str(root),)
    files = sorted(
        (str(p), p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file() and ".evplatform" not in p.parts
    )
    return (str(root), *files)


def load_unchanged(path: Path | None) -> Workspace:
    """``load_workspace`` once per unchanged folder in this process (many apps in tests, one in serve)."""
    key = _fingerprint(path)
    with _LOADED_LOCK:
        found = _LOADED.get(key)
    if found is None:
        found = load_workspace(path)
        with _LOADED_LOCK:
            _LOADED[key] = found
    return found


def default_ota_root(workspace: Path | None) -> Path | None:
    """``EVPLATFORM_OTA_ROOT``, else ``.evplatform/ota`` of the workspace (of the current folder for the
    bundled demo) when ``evplatform ota init`` created repositories there, else None."""
    if os.environ.get(ENV_OTA_ROOT):
        return Path(os.environ[ENV_OTA_ROOT])
    base = Path(workspace) if workspace is not None else Path.cwd()
    candidate = base / ".evplatform" / "ota"
    return candidate if (candidate / "image" / "metadata" / "root.json").is_file() else None


def get_context(request: Request) -> ApiContext:
    """FastAPI dependency: the application's context."""
    context: ApiContext = request.app.state.context
    return context
