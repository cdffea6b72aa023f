"""Operator accounts, roles and bearer tokens (stored only as SHA-256 digests), and the audit log.

A token is 32 random bytes shown once when issued; the database keeps its SHA-256 digest, so a
stolen database dump does not let anyone sign in. Looking a token up hashes what the client sent
and compares digests through the unique index. Tokens expire after ``DEFAULT_TOKEN_LIFETIME``
unless the issuer says otherwise (a leaked token must not work forever), judged on the server's
clock, and each can be revoked by its id or label.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from evplatform.errors import ConflictError, InvalidValueError, NotFoundError, StoreError
from evplatform.store._sql import audit, conflict_means
from evplatform.store.database import Store
from evplatform.store.schema import Account, AuditEntry, Token

#: How long a token works when its issuer does not say (30 days); ``lifetime=None`` means no expiry.
DEFAULT_TOKEN_LIFETIME = timedelta(days=30)

#: Roles from least to most privileged; each role can do what the ones before it can.
ROLES: tuple[str, ...] = ("viewer", "engineer", "release_manager", "admin")


@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: int
    name: str
    role: str
    disabled: bool

    def has_role(self, role: str) -> bool:
        """True when this account's role is ``role`` or a more privileged one."""
        return not self.disabled and ROLES.index(self.role) >= ROLES.index(_check_role(role))


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What is known of a token without its clear text: who, what for, until when, revoked or not."""

    id: int
    account: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "account": self.account, "label": self.label, "created_at": self.created_at.isoformat(),
                "expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
                "revoked": self.revoked}


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidValueError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    return role


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _info(account: Account) -> AccountInfo:
    return AccountInfo(account.id, account.name, account.role, account.disabled)


def create_account(store: Store, name: str, role: str, *, actor: str = "system") -> AccountInfo:
    """A new operator account; ConflictError when the name is taken, StoreError when the role is unknown."""
    _check_role(role)
    if not name.strip():
        raise StoreError("an account needs a non-empty name")
    with conflict_means(f"an account named {name!r} already exists"), store.session() as session:
        now = store.now()
        account = Account(name=name, role=role, disabled=False, created_at=now)
        session.add(account)
        session.flush()
        audit(session, now, actor, "account.create", f"account:{name}", {"role": role})
        return _info(account)


def issue_token(
    store: Store,
    account_name: str,
    *,
    label: str = "",
    expires_at: datetime | None = None,
    lifetime: timedelta | None = DEFAULT_TOKEN_LIFETIME,
    actor: str = "system",
) -> str:
    """A new bearer token for the account. The clear text is returned once and never stored.

    It expires at ``expires_at`` when given, else ``lifetime`` after now on the store's clock
    (``lifetime=None``: never; the caller asks for that explicitly).
    """
    token, _ = issue_token_record(store, account_name, label=label, expires_at=expires_at, lifetime=lifetime,
                                  actor=actor)
    return token


def issue_token_record(
    store: Store,
    account_name: str,
    *,
    label: str = "",
    expires_at: datetime | None = None,
    lifetime: timedelta | None = DEFAULT_TOKEN_LIFETIME,
    actor: str = "system",
) -> tuple[str, TokenInfo]:
    """``issue_token`` that also returns what is kept of the new token (its id and expiry, to show
    beside the clear text) from the same transaction — no second lookup that could find another token."""
    if lifetime is not None and lifetime <= timedelta(0):
        raise StoreError(f"a token lifetime must be positive, not {lifetime}")
    token = secrets.token_urlsafe(32)
    with store.session() as session:
        account = session.scalar(select(Account).where(Account.name == account_name))
        if account is None:
            raise NotFoundError("account", account_name)
        now = store.now()
        if expires_at is None and lifetime is not None:
            expires_at = now + lifetime
        row = Token(account_id=account.id, digest=token_digest(token), label=label, created_at=now,
                    expires_at=expires_at, revoked=False)
        session.add(row)
        session.flush()
        audit(session, now, actor, "token.issue", f"account:{account_name}",
              {"id": row.id, "label": label, "expires_at": None if expires_at is None else expires_at.isoformat()})
        return token, TokenInfo(row.id, account_name, label, now, expires_at, False)


def account_for_token(store: Store, token: str, *, now: datetime | None = None) -> AccountInfo | None:
    """The account a bearer token belongs to, or None when unknown, revoked, expired or disabled.

    Expiry is judged at ``now`` (default: the store's clock).
    """
    now = now or store.now()
    with store.session() as session:
        query = select(Account, Token).join(Token, Token.account_id == Account.id)
        row = session.execute(query.where(Token.digest == token_digest(token))).first()
        if row is None:
            return None
        account, stored = row
        if stored.revoked or account.disabled or (stored.expires_at is not None and stored.expires_at <= now):
            return None
        return _info(account)


def revoke_tokens(store: Store, account_name: str, *, actor: str = "system") -> int:
    """Revoke every token of an account; returns how many were live."""
    with store.session() as session:
        tokens = session.scalars(
            select(Token).join(Account).where(Account.name == account_name, Token.revoked.is_(False))
        ).all()
        for token in tokens:
            token.revoked = True
        audit(session, store.now(), actor, "token.revoke", f"account:{account_name}", {"count": len(tokens)})
        return len(tokens)


def list_tokens(store: Store, account_name: str | None = None) -> list[TokenInfo]:
    """Every token (optionally of one account), oldest first; never the clear text or the digest."""
    with store.session() as session:
        query = select(Token, Account.name).join(Account, Token.account_id == Account.id).order_by(Token.id)
        if account_name is not None:
            query = query.where(Account.name == account_name)
        return [TokenInfo(t.id, name, t.label, t.created_at, t.expires_at, t.revoked)
                for t, name in session.execute(query)]


def revoke_token(
    store: Store,
    *,
    token_id: int | None = None,
    account_name: str | None = None,
    label: str | None = None,
    actor: str = "system",
) -> list[int]:
    """Revoke one token by id, or an account's live tokens with ``label``; returns the ids revoked.

    NotFoundError when nothing live matches, so a mistyped id is never reported as done.
    """
    if (token_id is None) == (label is None) or (label is not None and account_name is None):
        raise StoreError("revoke a token by its id, or by an account and a label")
    with store.session() as session:
        query = select(Token).join(Account, Token.account_id == Account.id).where(Token.revoked.is_(False))
        query = query.where(Token.id == token_id) if token_id is not None else query.where(
            Account.name == account_name, Token.label == label)
        tokens = session.scalars(query).all()
        if not tokens:
            raise NotFoundError("live token", token_id if token_id is not None else f"{label!r} of {account_name}")
        for token in tokens:
            token.revoked = True
        ids = [t.id for t in tokens]
        audit(session, store.now(), actor, "token.revoke", f"tokens:{','.join(map(str, ids))}",
              {"ids": ids, "label": label})
        return ids


def list_accounts(store: Store) -> list[AccountInfo]:
    with store.session() as session:
        return [_info(a) for a in session.scalars(select(Account).order_by(Account.name))]


def record_audit(store: Store, actor: str, action: str, subject: str, detail: dict[str, Any] | None = None) -> None:
    """Append one entry to the audit log (who did what to which thing, when)."""
    with store.session() as session:
        audit(session, store.now(), actor, action, subject, detail or {})


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which audit entries to show: all filters optional and combined with AND.

    ``action`` matches an action exactly or as a dotted prefix (``token`` finds ``token.issue`` and
    ``token.revoke``); ``since`` is inclusive and ``until`` exclusive, so consecutive windows never
    count an entry twice.
    """

    actor: str | None = None
    action: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.actor is not None:
            query = query.where(AuditEntry.actor == self.actor)
        if self.action is not None:
            query = query.where((AuditEntry.action == self.action)
                                | AuditEntry.action.startswith(self.action + ".", autoescape=True))
        if self.subject is not None:
            query = query.where(AuditEntry.subject == self.subject)
        if self.since is not None:
            query = query.where(AuditEntry.at >= self.since)
        if self.until is not None:
            query = query.where(AuditEntry.at < self.until)
        return query


def _record(entry: AuditEntry) -> AuditRecord:
    return AuditRecord(entry.id, entry.at, entry.actor, entry.action, entry.subject, dict(entry.detail))


def audit_log(
    store: Store, *, limit: int = 100, subject: str | None = None, query: AuditQuery | None = None, offset: int = 0
) -> list[AuditRecord]:
    """The newest audit entries first (optionally only those about one subject, or matching ``query``)."""
    wanted = query or AuditQuery()
    if subject is not None:
        wanted = AuditQuery(wanted.actor, wanted.action, subject, wanted.since, wanted.until)
    with store.session() as session:
        rows = wanted.apply(select(AuditEntry)).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
        return [_record(e) for e in session.scalars(rows)]


def count_audit(store: Store, query: AuditQuery | None = None) -> int:
    """How many audit entries match ``query`` (the total a paged listing shows)."""
    with store.session() as session:
        return int(session.scalar((query or AuditQuery()).apply(select(func.count(AuditEntry.id)))) or 0)


def set_role(store: Store, name: str, role: str, *, actor: str = "system") -> AccountInfo:
    """Give an account another role, audit-logged with the old and the new one.

    Refused (``ConflictError``) when it would leave no enabled admin: nobody could then manage
    accounts or tokens through the API, and only someone with the database could repair it. The
    enabled admins are read ``FOR UPDATE`` (PostgreSQL), so two admins demoting each other at once
    cannot both succeed. Giving an account the role it has changes and records nothing.
    """
    _check_role(role)
    with store.session() as session:
        account = session.scalar(select(Account).where(Account.name == name).with_for_update())
        if account is None:
            raise NotFoundError("account", name)
        old = account.role
        if old == role:
            return _info(account)
        if old == "admin" and not account.disabled:
            admins = session.scalars(
                select(Account.id).where(Account.role == "admin", Account.disabled.is_(False)).with_for_update()
            ).all()
            if len(admins) <= 1:
                raise ConflictError(f"cannot make {name!r} a {role}: it is the last admin (make another account "
                                    "admin first)")
        account.role = role
        audit(session, store.now(), actor, "account.role", f"account:{name}", {"from": old, "to": role})
        return _info(account)
