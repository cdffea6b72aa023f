"""Accounts and the audit log."""

from __future__ import annotations

from typing import Any

from evplatform.api.responses.common import Out


class MeOut(Out):
    name: str
    role: str


class AuditEntryOut(Out):
    id: int
    at: str
    actor: str
    action: str
    subject: str
    detail: dict[str, Any] | None


class AuditOut(Out):
    """A page of the audit log, newest first; ``total`` counts every entry the filters match."""

    entries: list[AuditEntryOut]
    total: int
    limit: int
    offset: int


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


class AccountOut(Out):
    name: str
    role: str
    disabled: bool


class AccountsOut(Out):
    accounts: list[AccountOut]
    roles: list[str]


class IssuedTokenOut(TokenOut):
    """A new token: the clear text is in this answer once and never again (only its digest is kept)."""

    token: str
