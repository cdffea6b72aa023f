"""What every request needs: the workspace (loaded once), the database (opened once), a clock, caches.

The workspace is read-only and validated at load, so one ``Workspace`` serves every request;
simulation results depend only on it and the request, so they are cached per workspace and
request. The database is opened on first use: a server whose database is down still starts,
answers 503 with the reason, and connects once the database is back — no crash loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request

from evplatform.store import Store, default_database_url, open_store
from evplatform.workspace import Workspace, load_workspace

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class ApiContext:
    """Shared state of one API application (one per ``create_app``)."""

    def __init__(self, workspace: Path | None, database_url: str | None, clock: Clock = utc_now) -> None:
        self.workspace_path = workspace
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
                self._workspace = load_workspace(self.workspace_path)
            return self._workspace

    def store(self) -> Store:
        """The database, opened and migrated on first use; StoreError (503) while unreachable."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self.database_url)
            return self._store

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


def get_context(request: Request) -> ApiContext:
    """FastAPI dependency: the application's context."""
    context: ApiContext = request.app.state.context
    return context
