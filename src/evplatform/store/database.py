"""Opening the database: URL resolution, engine settings, the ``Store`` and its sessions.

SQLite is the default (one file under the workspace's ``.evplatform/``, in WAL mode so the API
can read while a campaign writes); PostgreSQL is used when the URL says so. Every driver error
leaves this package as a ``StoreError`` that names the database (without its password) and what
went wrong, or a ``ConflictError`` when an integrity constraint refused a write (``store._sql``
does the translation), so callers print one line instead of a traceback and never retry in a loop.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, ColumnElement, Engine, any_, create_engine, event, literal, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from evplatform.clock import Clock, aware_now, system_clock
from evplatform.errors import StoreError
from evplatform.store._sql import redact, translate_errors
from evplatform.store.migrate import upgrade

ENV_URL = "EVPLATFORM_DATABASE_URL"
DB_FOLDER = ".evplatform"
DB_FILE = "evplatform.db"
ID_CHUNK = 20_000  # ids per IN (…) on SQLite, well under its 32,766 variables


def default_database_url(workspace_root: Path | None = None, *, bundled: bool = False) -> str:
    """The URL the project uses when none is given.

    ``EVPLATFORM_DATABASE_URL`` wins; otherwise a SQLite file in ``<workspace>/.evplatform/``.
    The bundled demo lives inside the installed package, which may be read-only, so its database
    goes to ``./.evplatform/`` under the current directory instead.
    """
    env = os.environ.get(ENV_URL)
    if env:
        return env
    base = Path.cwd() if bundled or workspace_root is None else workspace_root
    return f"sqlite:///{(base / DB_FOLDER / DB_FILE).resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL: readers never block the writer; NORMAL sync is durable across process crashes
    # (kill -9), which is the failure the campaign controller must survive.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")  # a busy machine: wait for the other writer, not fail
    cursor.close()


def create_store_engine(url: str) -> Engine:
    """An engine for ``url`` with the project's settings; raises StoreError on a bad URL."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreError(f"invalid database URL {url!r}: {error}") from error
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(f"cannot create the folder of database {redact(url)}: {error}") from error
        kwargs["connect_args"] = {"timeout": 30}
    elif parsed.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": 5}
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, ImportError) as error:
        missing_driver = isinstance(error, ImportError) and parsed.get_backend_name() == "postgresql"
        extra = " (pip install 'evplatform[postgres]' and use a postgresql+psycopg:// URL)" if missing_driver else ""
        raise StoreError(f"cannot use database URL {redact(url)}: {error}{extra}") from error
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Store:
    """An open database: the engine, a session factory, the URL it came from and the clock it writes.

    A context manager: ``with open_store(url) as store: …`` disposes the engine's connections
    when the block ends, however it ends.
    """

    def __init__(self, engine: Engine, url: str, clock: Clock = system_clock) -> None:
        self.engine = engine
        self.url = url
        self.clock = clock
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def now(self) -> datetime:
        """The injected clock's time (aware UTC): what audit rows and default timestamps record."""
        return aware_now(self.clock)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error."""
        with translate_errors(self.url), self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()


def open_store(url: str | None = None, *, migrate: bool = True, clock: Clock = system_clock) -> Store:
    """Connect to ``url`` (default: ``default_database_url()``), check it answers, migrate it.

    Raises StoreError at once when the server is unreachable: the caller reports it and stops,
    rather than looping on reconnects. ``clock`` is the time the store writes where the caller
    gives none (audit rows, creation dates); the CLI and servers pass the system clock.
    """
    url = url or default_database_url()
    engine = create_store_engine(url)
    store = Store(engine, url, clock)
    try:
        with translate_errors(url), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        if migrate:
            upgrade(store)
    except BaseException:
        engine.dispose()
        raise
    return store


def id_clauses(session: Session, column: Any, ids: np.ndarray) -> Iterator[ColumnElement[bool]]:
    """``column IN ids`` as one array parameter on PostgreSQL, or chunks within SQLite's limits."""
    values = np.asarray(ids, dtype=np.int64).tolist()
    if not values:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield column == any_(literal(values, ARRAY(BigInteger())))
        return
    for start in range(0, len(values), ID_CHUNK):
        yield column.in_(values[start : start + ID_CHUNK])
