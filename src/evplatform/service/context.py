"""What every request needs: the workspace (loaded once), the database (opened once), a clock, caches.

The workspace is read-only and validated at load, so one ``Workspace`` serves every request;
simulation results depend only on it and the request, so they are cached per workspace and
request. The database is opened on first use: a server whose database is down still starts,
answers 503 with the reason, and connects once the database is back — no crash loop.

Both the JSON routes (``evplatform.api``) and the dashboard (``evplatform.web``) read this
context, which is why it lives here and not in either of them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from evplatform.clock import Clock, system_clock
from evplatform.errors import EvplatformError
from evplatform.service.rate_limits import Counter, RateLimiter, RateLimits, RedisCounter
from evplatform.store import Store, default_database_url, open_store
from evplatform.store.generations import bump_generation
from evplatform.store.rate_limits import CounterTable
from evplatform.workspace import Workspace, demo_path, load_workspace

T = TypeVar("T")
logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from evplatform.ota.service import OtaService
    from evplatform.service.configurator import SessionStore

ENV_OTA_ROOT = "EVPLATFORM_OTA_ROOT"
#: Results kept per application: a client varying a query (a scenario seed) must not grow memory forever.
RESULTS_CACHED = 128


class Unavailable(EvplatformError):
    """A part of the platform that is not configured on this server (HTTP 501)."""

    http_status = 501


class AppContext:
    """Shared state of one application (one per ``create_app``), for its routes and pages."""

    def __init__(
        self, workspace: Path | None, database_url: str | None, clock: Clock = system_clock,
        ota_root: Path | None = None, results_cached: int = RESULTS_CACHED,
        rate_limits: RateLimits | None = None, redis_url: str | None = None,
    ) -> None:
        self.workspace_path = workspace
        self.ota_root = ota_root or (Path(os.environ[ENV_OTA_ROOT]) if os.environ.get(ENV_OTA_ROOT) else None)
        self._ota: Any = None
        self.database_url = database_url or default_database_url(workspace, bundled=workspace is None)
        self.clock = clock
        self._workspace: Workspace | None = None
        self._store: Store | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._cache_capacity = results_cached
        self._fm_sessions: SessionStore | None = None
        self._rate_limits = rate_limits
        #: Where rate limits are counted: Redis at this URL, else the database (``service.rate_limits``).
        self.redis_url = redis_url
        self._limiter: RateLimiter | None = None

    def workspace(self) -> Workspace:
        """The workspace, loaded on first use (WorkspaceError → 400 naming file:line)."""
        with self._lock:
            if self._workspace is None:
                self._workspace = load_unchanged(self.workspace_path)
            return self._workspace

    def store(self) -> Store:
        """The database, opened and migrated on first use; StoreError (503) while unreachable."""
        opened = self._store  # once open, no lock: every vehicle request asks several times (2 % of a
        if opened is not None:  # check's samples were threads queueing on this lock; py-spy, issue 18)
            return opened
        with self._lock:
            if self._store is None:
                self._store = open_store(self.database_url, clock=self.clock)  # audit rows on the server clock
            return self._store

    def opened_store(self) -> Store | None:
        """The database if it is already open (never opens it: no I/O)."""
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
                self._ota.on_publish(self._director_published)
            service: OtaService = self._ota
            return service

    def _director_published(self, vin: str) -> None:
        """The Director re-signed a vehicle's metadata: move its generation number (its update check's ETag).

        A database that cannot be written is logged, not raised: the metadata are published, and
        their own ETags (``api.conditional``) still change.
        """
        try:
            bump_generation(self.store(), vin)
        except EvplatformError as error:
            logger.warning("generation of %s not bumped after the Director published: %s", vin, error,
                           extra={"event": "generation_not_bumped", "vin": vin})

    def fm_sessions(self) -> SessionStore:
        """The configurator sessions of this server (``service.configurator``), made on first use."""
        with self._lock:
            if self._fm_sessions is None:
                from evplatform.service.configurator import SessionStore

                self._fm_sessions = SessionStore(self.clock)
            return self._fm_sessions

    def rate_limiter(self) -> RateLimiter:
        """The per-vehicle and per-token limits of this server, counted in Redis (``redis_url``) or the
        database, so every process on the same store shares them."""
        with self._lock:
            if self._limiter is None:
                self._limiter = RateLimiter(self._rate_limits or RateLimits(), self._counter)
            return self._limiter

    def _counter(self) -> Counter:
        if self.redis_url:
            return RedisCounter(self.redis_url)
        return CounterTable(self.store())

    def cached(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """``compute()`` once per key for this workspace (results of pure functions of it), keeping the
        most recently used ``results_cached`` results."""
        full = (str(self.workspace().root), *key)
        with self._lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return cast(T, self._cache[full])
        value = compute()
        with self._lock:
            self._cache[full] = value
            while len(self._cache) > self._cache_capacity:
                self._cache.popitem(last=False)
        return value

    def close(self) -> None:
        with self._lock:
            sessions, self._fm_sessions = self._fm_sessions, None
        if sessions is not None:
            sessions.close()
        with self._lock:
            limiter, self._limiter = self._limiter, None
        if limiter is not None:
            limiter.close()
        with self._lock:
            if self._store is not None:
                self._store.dispose()
                self._store = None


def fingerprint(root: Path) -> tuple[Any, ...]:
    """The workspace's files and their modification times: equal fingerprints, equal workspaces."""
    if not root.is_dir():
        return ()
    return tuple(sorted(
        (str(p), p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file() and ".evplatform" not in p.parts
    ))


class WorkspaceCache:
    """Loaded workspaces of the last ``capacity`` folders used, each kept while its files are unchanged.

    A test session or a long-running server creates many applications; loading (and validating)
    a workspace takes a noticeable fraction of a second, so applications share loads. The cache
    holds one entry per folder — a folder whose files changed is loaded again and replaces its
    entry — and forgets the least recently used folder beyond ``capacity``, so memory stays bounded
    however many folders a process visits.
    """

    def __init__(self, capacity: int = 4, loader: Callable[[Path | None], Workspace] = load_workspace) -> None:
        if capacity < 1:
            raise ValueError(f"a workspace cache holds at least one workspace, not {capacity}")
        self.capacity = capacity
        self._loader = loader
        self._entries: OrderedDict[str, tuple[tuple[Any, ...], Workspace]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def folders(self) -> list[str]:
        """The cached folders, least recently used first."""
        with self._lock:
            return list(self._entries)

    def get(self, path: Path | None) -> Workspace:
        """The workspace at ``path`` (None: the bundled demo), loaded again only when its files changed."""
        root = (Path(path) if path is not None else demo_path()).resolve()
        key, stamp = str(root), fingerprint(root)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == stamp:
                self._entries.move_to_end(key)
                return entry[1]
        loaded = self._loader(path)  # outside the lock: loading is slow and may raise WorkspaceError
        with self._lock:
            self._entries[key] = (stamp, loaded)
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return loaded


_LOADED = WorkspaceCache()


def load_unchanged(path: Path | None) -> Workspace:
    """``load_workspace`` once per unchanged folder in this process (many apps in tests, one in serve)."""
    return _LOADED.get(path)
