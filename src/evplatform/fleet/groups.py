"""Saved fleet groups: named fleet filter queries, re-evaluated each time (dynamic groups).

A group is created only when its query parses and resolves against today's fleet (so a typo is
refused at once, with its column); later it is evaluated again on every use, so its vehicles
follow the fleet. Campaigns take a group as a target (``TargetFilter.group``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from evplatform.errors import FleetError, NotFoundError
from evplatform.fleet.listing import catalogue_for, count
from evplatform.fleet.query import Catalogue, compile_query
from evplatform.store import Store, record_audit
from evplatform.store import groups as gdb
from evplatform.store.groups import GroupRecord
from evplatform.workspace.model import Workspace

logger = logging.getLogger(__name__)

NAME_LENGTH = 64
DESCRIPTION_LENGTH = 200
NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


class GroupError(FleetError):
    """A group that cannot be saved as asked (bad name)."""

    http_status = 422


@dataclass(frozen=True, slots=True)
class GroupView:
    name: str
    query: str
    description: str
    created_by: str
    created_at: datetime
    vehicles: int

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "query": self.query, "description": self.description,
                "created_by": self.created_by, "created_at": self.created_at.isoformat(), "vehicles": self.vehicles}


def check_name(name: str) -> str:
    """A group name is 1–64 letters, digits, ``-``, ``_`` or ``.``: it goes into URLs and CLI arguments."""
    if not 1 <= len(name) <= NAME_LENGTH or not set(name) <= NAME_CHARACTERS:
        raise GroupError(f"group name {name[:80]!r}: 1 to {NAME_LENGTH} letters, digits, '-', '_' or '.'")
    return name


def create_group(store: Store, name: str, query: str, *, actor: str, description: str = "",
                 ws: Workspace | None = None, now: datetime | None = None) -> GroupView:
    """Save a group after checking its query against the fleet; audit-logged as ``fleet.group.create``."""
    check_name(name)
    if len(description) > DESCRIPTION_LENGTH:
        raise GroupError(f"description: at most {DESCRIPTION_LENGTH} characters")
    now = now or store.now()
    catalogue = catalogue_for(store, ws)
    compile_query(query, catalogue, now)  # refuses a bad query before anything is written
    gdb.save_group(store, GroupRecord(name, query.strip(), description, actor, now))
    record_audit(store, actor, "fleet.group.create", f"fleet-group:{name}", {"query": query.strip()})
    logger.info("fleet group %s saved by %s: %s", name, actor, query, extra={"event": "fleet_group", "group": name})
    return _view(store, gdb.group(store, name), now, catalogue)  # type: ignore[arg-type]


def get_group(store: Store, name: str) -> GroupRecord:
    found = gdb.group(store, name)
    if found is None:
        raise NotFoundError("fleet group", name)
    return found


def _view(store: Store, record: GroupRecord, now: datetime, catalogue: Catalogue) -> GroupView:
    return GroupView(record.name, record.query, record.description, record.created_by, record.created_at,
                     count(store, record.query, now=now, catalogue=catalogue))


def group_view(store: Store, name: str, *, now: datetime | None = None, ws: Workspace | None = None) -> GroupView:
    return _view(store, get_group(store, name), now or store.now(), catalogue_for(store, ws))


def list_group_views(store: Store, *, now: datetime | None = None, ws: Workspace | None = None) -> list[GroupView]:
    """Every group with its vehicle count today (a query that no longer resolves counts -1)."""
    now = now or store.now()
    catalogue = catalogue_for(store, ws)
    views = []
    for record in gdb.list_groups(store):
        try:
            views.append(_view(store, record, now, catalogue))
        except FleetError as error:  # e.g. a campaign the query names was deleted
            logger.warning("fleet group %s no longer resolves: %s", record.name, error)
            views.append(GroupView(record.name, record.query, record.description, record.created_by,
                                   record.created_at, -1))
    return views


def delete_group(store: Store, name: str, *, actor: str) -> None:
    """Delete a group (campaigns already started keep their targets); audit-logged."""
    gdb.delete_group(store, name)
    record_audit(store, actor, "fleet.group.delete", f"fleet-group:{name}", {})


def group_query(store: Store, name: str) -> str:
    """The query of a saved group (NotFoundError when there is none)."""
    return get_group(store, name).query
