"""SQL building blocks every store module shares: error translation, audit rows, dialect helpers.

A leaf of the package (it imports no other store module except the schema), so ``database``,
``migrate`` and the query modules can all use it without importing each other.

Driver errors leave the store in three kinds (``evplatform.errors``):

* ``StoreError`` (HTTP 503): the database cannot be reached or fails — nothing the caller asked
  for is wrong, trying again later may work;
* ``ConflictError`` (409): an integrity constraint refused the write (a duplicate id, a missing
  row a foreign key points to) — the request contradicts what is stored;
* ``InvalidValueError`` (422): a value the database cannot hold (a string longer than its column,
  an integer past the column's range, a NUL character in text) — the request is wrong;
* ``NotFoundError`` (404): raised by the query modules themselves when a thing asked for by its
  identifier does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text, cast, func, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DataError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from evplatform.errors import ConflictError, InvalidValueError, StoreError
from evplatform.store.schema import AuditEntry, Base


def redact(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable URL>"


@contextmanager
def translate_errors(url: str) -> Iterator[None]:
    """Re-raise driver errors as ``ConflictError`` (integrity), ``InvalidValueError`` (a value the
    database cannot hold) or ``StoreError`` naming the database.

    Project errors raised inside the block (``StoreError``, ``NotFoundError``, …) pass through.
    """
    try:
        yield
    except DataError as error:  # PostgreSQL: value too long, numeric out of range, NUL in text
        raise InvalidValueError(f"database {redact(url)} cannot hold a value of the request: "
                                f"{_first_line(error.orig)}") from error
    except OverflowError as error:  # the driver cannot bind it (SQLite: an integer past 64 bits)
        raise InvalidValueError(f"database {redact(url)} cannot hold a value of the request: {error}") from error
    except IntegrityError as error:
        raise ConflictError(
            f"database {redact(url)} refused a write that conflicts with what it holds: {_first_line(error.orig)}"
        ) from error
    except DBAPIError as error:
        if error.connection_invalidated or _is_connection_error(error):
            raise StoreError(f"cannot reach the database {redact(url)}: {_first_line(error.orig)}") from error
        raise StoreError(f"database {redact(url)} refused the operation: {_first_line(error.orig)}") from error
    except SQLAlchemyError as error:
        raise StoreError(f"database {redact(url)}: {_first_line(error)}") from error


@contextmanager
def conflict_means(message: str) -> Iterator[None]:
    """An integrity violation inside the block becomes ``ConflictError(message)``.

    For writes where the caller knows what a violation means (a taken name, a duplicate id), so
    the message names the thing instead of quoting the driver.
    """
    try:
        yield
    except ConflictError as error:
        if not isinstance(error.__cause__, IntegrityError):
            raise
        raise ConflictError(message) from error


def _is_connection_error(error: DBAPIError) -> bool:
    name = type(error.orig).__name__
    message = str(error.orig).lower()
    return name in {"OperationalError", "InterfaceError"} and any(
        word in message for word in ("connect", "unable to open", "could not", "timeout", "refused", "no such host")
    )


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def audit(session: Session, at: datetime, actor: str, action: str, subject: str, detail: Mapping[str, Any]) -> None:
    """Append one audit row (who did what to which thing) in the caller's transaction.

    ``at`` is the store's injected clock (``Store.now()``), so tests and replays see their time.
    """
    session.add(AuditEntry(at=at, actor=actor, action=action, subject=subject, detail=dict(detail)))


def insert_ignore(session: Session, table: type[Base], key: Sequence[str]) -> Any:
    """``INSERT … ON CONFLICT (key) DO NOTHING`` into ``table``, in the session's dialect.

    What makes repeated reports and evidence idempotent: the database itself drops the second row.
    """
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(key))
    if name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(key))
    raise StoreError(f"unsupported database dialect {name!r} (SQLite and PostgreSQL are supported)")


def json_set(session: Session, column: Any, key: str, value: Mapping[str, str] | str) -> Any:
    """``column`` with ``column[key] = value``, computed by the database (no read-modify-write)."""
    text = json.dumps(value if isinstance(value, str) else dict(value), sort_keys=True)
    if session.get_bind().dialect.name == "postgresql":
        path = postgresql.array([key], type_=Text())
        return cast(func.jsonb_set(cast(column, JSONB), path, cast(literal(text, Text()), JSONB)), JSON)
    return func.json_set(column, f'$."{key}"', func.json(literal(text, Text())))
