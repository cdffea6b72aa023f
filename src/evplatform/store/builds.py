"""Databases built in many transactions (the demo fleet) that must never be seen half built.

A build killed midway used to leave a database that a rerun called "already there" and never
finished, and that a server would have served. Two means, by backend:

* a SQLite file is built under another name beside it (``<file>.building``) and renamed into
  place when complete (``os.replace`` is atomic on one file system), so the real path holds a
  finished database or none; a killed build leaves only the staging file, which the next build
  deletes;
* any database also carries a build mark (``build_marks``): ``building`` while the build runs,
  ``complete`` at the end. On PostgreSQL, where nothing can be renamed, a mark left at ``building``
  means a build was interrupted: the rerun empties the database and builds again.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from evplatform.errors import StoreError
from evplatform.store._sql import redact, translate_errors
from evplatform.store.database import Store
from evplatform.store.migrate import upgrade
from evplatform.store.schema import Base, BuildMark

logger = logging.getLogger(__name__)

BUILDING = "building"
COMPLETE = "complete"
STAGING_SUFFIX = ".building"
_SIDE_FILES = ("-wal", "-shm", "-journal")


def build_mark(store: Store, name: str) -> str | None:
    """The state of build ``name`` (``building`` or ``complete``), None if it never started."""
    with store.session() as session:
        return session.scalar(select(BuildMark.state).where(BuildMark.name == name))


def set_build_mark(store: Store, name: str, state: str) -> None:
    if state not in (BUILDING, COMPLETE):
        raise StoreError(f"unknown build state {state!r}")
    with store.session() as session:
        found = session.get(BuildMark, name)
        if found is None:
            session.add(BuildMark(name=name, state=state, at=store.now()))
        else:
            found.state, found.at = state, store.now()


def reset_database(store: Store) -> None:
    """Drop every table and create them again: what is left of an interrupted build goes.

    Dropped directly rather than by running the migrations down, which may refuse data they would lose.
    """
    logger.warning("emptying database %s (an interrupted build)", redact(store.url))
    with translate_errors(store.url), store.engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(store)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, None for another backend or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _remove_with_side_files(path: Path) -> None:
    for candidate in (path, *(path.with_name(path.name + suffix) for suffix in _SIDE_FILES)):
        candidate.unlink(missing_ok=True)


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (reads committed pages, WAL included)."""
    with translate_errors(f"sqlite:///{source}"):
        src = sqlite3.connect(source)
        try:
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()


def seal(store: Store) -> None:
    """Fold a SQLite build's write-ahead log into its file, before the file is moved."""
    if store.dialect == "sqlite":
        with translate_errors(store.url), store.engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


@contextmanager
def staged_sqlite(url: str, *, copy_existing: bool = True) -> Iterator[str]:
    """Yield the URL of a staging file for the SQLite file at ``url``; rename it into place when the block
    ends normally (the caller has sealed and disposed its stores), delete it when the block raises.

    The staging file starts as a copy of the existing file when there is one and ``copy_existing``
    (its accounts and settings kept), otherwise empty.
    """
    final = sqlite_file(url)
    if final is None:
        raise StoreError(f"{redact(url)} is not a SQLite file")
    staging = final.with_name(final.name + STAGING_SUFFIX)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        _remove_with_side_files(staging)  # what a killed build left
        if copy_existing and final.exists():
            _copy_sqlite(final, staging)
    except OSError as error:
        raise StoreError(f"cannot prepare a staging copy of {final}: {error}") from error
    try:
        yield f"sqlite:///{staging}"
    except BaseException:
        _remove_with_side_files(staging)
        raise
    try:
        for suffix in _SIDE_FILES:  # a finished build leaves none; the old file's must not meet the new one
            final.with_name(final.name + suffix).unlink(missing_ok=True)
            staging.with_name(staging.name + suffix).unlink(missing_ok=True)
        os.replace(staging, final)
    except OSError as error:
        raise StoreError(f"cannot move the finished database {staging} to {final}: {error}") from error
