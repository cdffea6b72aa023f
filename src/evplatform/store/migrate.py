"""Alembic migrations run from code: no alembic.ini, the scripts ship inside the package.

``upgrade(store)`` brings any database (new or older) to the current schema; it is what
``open_store`` calls, so a fresh SQLite file or an empty PostgreSQL database just works.

This module does not import ``store.database`` (which imports it): it needs of a store only its
engine and URL, written down as the ``Migratable`` protocol that ``Store`` satisfies.
"""

from __future__ import annotations

import fcntl
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RangeNotAncestorError, RevisionError
from alembic.util import CommandError
from sqlalchemy import Engine, make_url, text

from evplatform.errors import StoreError
from evplatform.store._sql import redact, translate_errors

MIGRATIONS = Path(__file__).with_name("migrations")

logger = logging.getLogger(__name__)

#: Key of the PostgreSQL advisory lock held while migrating (any constant all processes share).
PG_MIGRATION_LOCK = 0x65767066  # "evpf"


class Migratable(Protocol):
    """What migrations need of an open store (``evplatform.store.Store`` has both)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def url(self) -> str: ...


def alembic_config(store: Migratable) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of evplatform."""
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    if head is None:
        raise AssertionError("the package ships at least one migration")  # an invariant, kept under python -O
    return head


def current_revision(store: Migratable) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with translate_errors(store.url), store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(store: Migratable, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` in one connection (a no-op when up to date).

    Two processes opening a new database at once (two ``fleet import`` runs) would both see it
    empty and both create the tables, and the second fails on "table already exists". So the
    migration runs under a lock, one process at a time, and each reads the revision again once it
    holds the lock: the second finds the work done.
    """
    if revision == "head" and current_revision(store) == head_revision():
        return
    config = alembic_config(store)
    with _migration_lock(store), translate_errors(store.url), store.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Held to the end of this transaction; Alembic reads the version table after it.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextmanager
def _migration_lock(store: Migratable) -> Iterator[None]:
    """An exclusive lock on ``<database file>.migrate-lock`` for a SQLite file; nothing for others.

    A separate file, not the database: SQLite's own POSIX locks on the database file would be
    released by closing any other descriptor of it in this process.
    """
    url = make_url(store.url)
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        logger.debug("waiting for the migration lock %s", lock_path)
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
            # Done: the database is at the revision, so a process that comes later and locks a new
            # file finds nothing to do after its own re-read; no lock file is left beside the database.
            lock_path.unlink(missing_ok=True)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def downgrade(store: Migratable, revision: str) -> None:
    """Undo migrations down to ``revision`` (``"base"``: an empty database). Data in dropped tables is lost."""
    config = alembic_config(store)
    with translate_errors(store.url), store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@dataclass(frozen=True, slots=True)
class Step:
    """One migration: its revision and the one line that says what it changes."""

    revision: str
    description: str


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    """From which revision to which, and the migrations in between (oldest first)."""

    from_revision: str | None
    to_revision: str
    steps: tuple[Step, ...]


def plan(store: Migratable, to: str | None = None) -> MigrationPlan:
    """What ``migrate_to(store, to)`` would apply; StoreError for an unknown revision or a downgrade.

    The explicit ``evplatform migrate`` only moves forward: going back loses the data of dropped
    columns and tables, and is ``downgrade`` in code, not an operator command.
    """
    script = ScriptDirectory(str(MIGRATIONS))
    target = head_revision() if to in (None, "head") else str(to)
    try:
        if script.get_revision(target) is None:
            raise StoreError(f"unknown revision {target!r}")
    except (CommandError, RevisionError) as error:
        raise StoreError(f"unknown revision {target!r}: {error}") from error
    current = current_revision(store)
    if current is not None and script.get_revision(current) is None:
        raise StoreError(f"{redact(store.url)} is at revision {current!r}, which this evplatform does not know "
                         f"(a newer version migrated it)")
    if current == target:
        return MigrationPlan(current, target, ())
    try:
        revisions = list(script.iterate_revisions(target, current or "base"))
    except RangeNotAncestorError as error:
        raise StoreError(f"{redact(store.url)} is at revision {current}, newer than {target}; migrate only "
                         "upgrades") from error
    except RevisionError as error:
        raise StoreError(f"cannot go from {current} to {target}: {error}") from error
    steps = tuple(Step(r.revision, (r.doc or "").strip().splitlines()[0] if r.doc else "") for r in reversed(revisions))
    return MigrationPlan(current, target, steps)


def migrate_to(store: Migratable, to: str | None = None) -> MigrationPlan:
    """Upgrade explicitly to ``to`` (default: the newest), under the same lock as migrate-on-open."""
    planned = plan(store, to)
    if planned.steps:
        upgrade(store, planned.to_revision)
    return planned


def upgrade_sql(store: Migratable, to: str | None = None) -> tuple[MigrationPlan, str]:
    """The SQL ``migrate_to`` would run, without running it (Alembic offline mode), for a DBA to review.

    PostgreSQL only: SQLite cannot alter columns in place, so its migrations copy tables, which
    needs the live schema that offline mode does not have.
    """
    planned = plan(store, to)
    if store.engine.dialect.name != "postgresql":
        raise StoreError("--sql is available for PostgreSQL only: SQLite migrations rebuild tables from the live "
                         "schema; back up the file and run migrate instead")
    if not planned.steps:
        return planned, ""
    buffer = io.StringIO()
    config = Config(output_buffer=buffer)
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["offline_dialect"] = "postgresql"
    start = planned.from_revision or "base"
    command.upgrade(config, f"{start}:{planned.to_revision}" if planned.from_revision else planned.to_revision,
                    sql=True)
    return planned, buffer.getvalue()
