"""Alembic migrations run from code: no alembic.ini, the scripts ship inside the package.

``upgrade(store)`` brings any database (new or older) to the current schema; it is what
``open_store`` calls, so a fresh SQLite file or an empty PostgreSQL database just works.

This module does not import ``store.database`` (which imports it): it needs of a store only its
engine and URL, written down as the ``Migratable`` protocol that ``Store`` satisfies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from evplatform.store._sql import translate_errors

MIGRATIONS = Path(__file__).with_name("migrations")


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
    """Apply every migration up to ``revision`` in one connection (a no-op when up to date)."""
    if revision == "head" and current_revision(store) == head_revision():
        return
    config = alembic_config(store)
    with translate_errors(store.url), store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(store: Migratable, revision: str) -> None:
    """Undo migrations down to ``revision`` (``"base"``: an empty database). Data in dropped tables is lost."""
    config = alembic_config(store)
    with translate_errors(store.url), store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
