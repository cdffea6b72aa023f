"""Readiness of a running server: the checks behind ``/readyz`` (``/healthz`` needs none).

Ready means a request that needs the database can be answered now and, when the server has OTA
repositories, their folder can be read. Each check is cheap (one ``SELECT 1``, one directory
listing) because orchestrators call it every few seconds. A failing check names itself; its reason
(which may name hosts and folders) goes to the log, not to the unauthenticated caller.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Literal

from evplatform.errors import EvplatformError
from evplatform.service.context import AppContext
from evplatform.store.health import ping

logger = logging.getLogger(__name__)

CheckState = Literal["ok", "failed", "not configured"]


@dataclass(frozen=True)
class Check:
    """One readiness check: its name and how it went."""

    name: str
    state: CheckState

    @property
    def failed(self) -> bool:
        return self.state == "failed"


def database_check(context: AppContext) -> Check:
    """The database answers a ``SELECT 1`` (opening it first if this server has not yet)."""
    try:
        ping(context.store())
    except EvplatformError as error:
        logger.warning("readiness: database check failed: %s", error, extra={"event": "not_ready", "check": "database"})
        return Check("database", "failed")
    return Check("database", "ok")


def ota_repository_check(context: AppContext) -> Check:
    """The OTA folder (``--ota-root``) is a directory this process may list; none configured passes."""
    root = context.ota_root
    if root is None:
        return Check("ota_repository", "not configured")
    try:
        with os.scandir(root) as entries:
            next(entries, None)
    except OSError as error:
        logger.warning("readiness: OTA folder %s unreadable: %s", root, error,
                       extra={"event": "not_ready", "check": "ota_repository"})
        return Check("ota_repository", "failed")
    return Check("ota_repository", "ok")


def readiness(context: AppContext) -> list[Check]:
    """Every readiness check, in a fixed order."""
    return [database_check(context), ota_repository_check(context)]
