"""First sign-in: make sure an admin account exists and its token is at hand (``make run``).

The database keeps only token digests, so the clear token of a new account is written once to a
file readable by its owner only (0600); later runs read it back instead of issuing new tokens,
and issue a new one only when the kept one no longer works (expired or revoked).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from evplatform.errors import StoreError
from evplatform.store import Store, account_for_token, create_account, issue_token, list_accounts


@dataclass(frozen=True, slots=True)
class AdminToken:
    name: str
    token: str
    token_file: Path
    created: bool  # False when the account and a working token in its file were already there


def ensure_admin(store: Store, name: str, token_file: Path) -> AdminToken:
    """The admin account ``name`` and a working token (a new one when the file is missing)."""
    accounts = {a.name: a for a in list_accounts(store)}
    existing = accounts.get(name)
    if existing is not None and existing.role != "admin":
        raise StoreError(f"account {name!r} exists with role {existing.role}, not admin")
    if existing is not None and token_file.is_file():
        token = token_file.read_text(encoding="utf-8").strip()
        if token and account_for_token(store, token) is not None:
            return AdminToken(name, token, token_file, created=False)
    if existing is None:
        create_account(store, name, "admin", actor="serve")
    token = issue_token(store, name, label="dashboard", actor="serve")
    token_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return AdminToken(name, token, token_file, created=True)
