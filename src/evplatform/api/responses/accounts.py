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


class TokenOut(Out):
    id: int
    account: str
    label: str
    created_at: str
    expires_at: str | None
    revoked: bool


class TokensOut(Out):
    tokens: list[TokenOut]


class RevokedOut(Out):
    revoked: list[int]
