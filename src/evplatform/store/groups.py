"""Saved fleet groups: a name and a fleet filter query, evaluated again every time the group is used.

Only the query is stored, never the vehicles: a group is dynamic, like a hawkBit target filter or
a Mender dynamic group, so a vehicle registered tomorrow that matches is in it tomorrow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from evplatform.errors import ConflictError, NotFoundError
from evplatform.store.database import Store
from evplatform.store.schema import FleetGroup


@dataclass(frozen=True, slots=True)
class GroupRecord:
    name: str
    query: str
    description: str
    created_by: str
    created_at: datetime


def _record(row: FleetGroup) -> GroupRecord:
    return GroupRecord(row.name, row.query, row.description, row.created_by, row.created_at)


def save_group(store: Store, group: GroupRecord) -> None:
    """Insert a new group; ConflictError when the name is taken (delete it first to replace it)."""
    try:
        with store.session() as session:
            session.add(FleetGroup(name=group.name, query=group.query, description=group.description,
                                   created_by=group.created_by, created_at=group.created_at))
    except ConflictError as error:
        if isinstance(error.__cause__, IntegrityError):
            raise ConflictError(f"a fleet group named {group.name!r} already exists") from error
        raise


def group(store: Store, name: str) -> GroupRecord | None:
    with store.session() as session:
        row = session.get(FleetGroup, name)
        return None if row is None else _record(row)


def list_groups(store: Store) -> list[GroupRecord]:
    with store.session() as session:
        return [_record(r) for r in session.scalars(select(FleetGroup).order_by(FleetGroup.name))]


def delete_group(store: Store, name: str) -> None:
    """Delete a group; NotFoundError when there is none of that name."""
    with store.session() as session:
        result = session.execute(delete(FleetGroup).where(FleetGroup.name == name)
                                 .execution_options(synchronize_session=False))
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFoundError("fleet group", name)
