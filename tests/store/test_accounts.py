"""Operator accounts, roles, hashed bearer tokens and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from evplatform.errors import ConflictError, InvalidValueError, NotFoundError
from evplatform.store import (
    Store,
    account_for_token,
    audit_log,
    create_account,
    issue_token,
    list_accounts,
    revoke_tokens,
)
from evplatform.store.schema import Token


def test_token_round_trip_and_role_order(store: Store) -> None:
    create_account(store, "rita", "release_manager")
    token = issue_token(store, "rita", label="laptop")
    account = account_for_token(store, token)
    assert account is not None and account.name == "rita"
    assert account.has_role("engineer") and account.has_role("release_manager")
    assert not account.has_role("admin")
    assert account_for_token(store, token + "x") is None


def test_only_the_digest_is_stored(store: Store) -> None:
    create_account(store, "vic", "viewer")
    token = issue_token(store, "vic")
    with store.session() as session:
        digests = list(session.scalars(select(Token.digest)))
    assert len(digests) == 1 and token not in digests[0] and len(digests[0]) == 64


def test_revoked_expired_and_disabled_tokens_fail(store: Store) -> None:
    create_account(store, "eve", "engineer")
    live = issue_token(store, "eve")
    expired = issue_token(store, "eve", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert account_for_token(store, expired) is None
    assert account_for_token(store, live) is not None
    assert revoke_tokens(store, "eve") == 2
    assert account_for_token(store, live) is None


def test_duplicate_name_and_unknown_role_are_refused(store: Store) -> None:
    create_account(store, "ada", "admin")
    with pytest.raises(ConflictError, match="an account named 'ada' already exists"):
        create_account(store, "ada", "viewer")
    with pytest.raises(InvalidValueError, match="unknown role 'root'"):  # the request's fault: 422, not 503
        create_account(store, "bob", "root")
    with pytest.raises(NotFoundError, match="no account nobody") as missing:
        issue_token(store, "nobody")
    assert (missing.value.kind, missing.value.identifier) == ("account", "nobody")
    assert [a.name for a in list_accounts(store)] == ["ada"]


def test_audit_log_records_who_did_what(store: Store) -> None:
    create_account(store, "ada", "admin", actor="setup")
    issue_token(store, "ada", actor="setup")
    actions = [(e.actor, e.action, e.subject) for e in audit_log(store)]
    assert actions == [("setup", "token.issue", "account:ada"), ("setup", "account.create", "account:ada")]
