"""Accounts and the audit log."""

from __future__ import annotations

from typing import Any

from evplatform.api.responses.common import Out


class MeOut(Out):
    name: str
    role: str


class AuditEntryOut(Out):
    at: str
    actor: str
    action: str
    subject: str
    detail: dict[str, Any] | None


class AuditOut(Out):
    entries: list[AuditEntryOut]
