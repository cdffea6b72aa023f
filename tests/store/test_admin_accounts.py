"""Issue 16 §4: role changes with the last-admin rule, tokens issued with their record, audit filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evplatform.errors import ConflictError, InvalidValueError, NotFoundError
from evplatform.store import (
    AuditQuery,
    Store,
    account_for_token,
    audit_log,
    count_audit,
    create_account,
    issue_token_record,
    list_accounts,
    list_tokens,
    record_audit,
    set_role,
)


def test_the_last_admin_cannot_be_demoted_but_one_of_two_can(store: Store) -> None:
    create_account(store, "ada", "admin")
    create_account(store, "bob", "viewer")
    with pytest.raises(ConflictError, match="last admin"):
        set_role(store, "ada", "viewer", actor="ada")
    assert set_role(store, "bob", "admin", actor="ada").role == "admin"
    assert set_role(store, "ada", "release_manager", actor="bob").role == "release_manager"
    with pytest.raises(ConflictError, match="last admin"):
        set_role(store, "bob", "engineer", actor="bob")
    assert {a.name: a.role for a in list_accounts(store)} == {"ada": "release_manager", "bob": "admin"}
    changes = audit_log(store, query=AuditQuery(action="account.role"))
    assert [(e.actor, e.subject, e.detail) for e in changes] == [
        ("bob", "account:ada", {"from": "admin", "to": "release_manager"}),
        ("ada", "account:bob", {"from": "viewer", "to": "admin"}),
    ]


def test_a_role_change_to_the_same_role_records_nothing_and_bad_input_is_refused(store: Store) -> None:
    create_account(store, "ada", "admin")
    before = count_audit(store)
    assert set_role(store, "ada", "admin").role == "admin"  # the last admin staying admin is fine
    assert count_audit(store) == before
    with pytest.raises(InvalidValueError, match="unknown role 'root'"):
        set_role(store, "ada", "root")
    with pytest.raises(NotFoundError):
        set_role(store, "nobody", "viewer")


def test_a_role_change_takes_effect_on_the_accounts_token_at_once(store: Store) -> None:
    create_account(store, "ada", "admin")
    create_account(store, "eve", "engineer")
    token, _ = issue_token_record(store, "eve")
    set_role(store, "eve", "viewer", actor="ada")
    account = account_for_token(store, token)
    assert account is not None and account.role == "viewer" and not account.has_role("engineer")


def test_issue_token_record_returns_the_stored_record(store: Store) -> None:
    create_account(store, "rita", "release_manager")
    token, info = issue_token_record(store, "rita", label="ci", lifetime=timedelta(days=2), actor="ada")
    assert list_tokens(store, "rita") == [info]
    assert info.expires_at is not None and info.expires_at - info.created_at == timedelta(days=2)
    assert account_for_token(store, token) is not None
    issued = audit_log(store, query=AuditQuery(action="token.issue"))[0]
    assert (issued.actor, issued.detail["id"], issued.detail["label"]) == ("ada", info.id, "ci")


def test_audit_filters_by_who_action_prefix_and_half_open_time_window(store: Store) -> None:
    record_audit(store, "ada", "token.issue", "account:x")
    record_audit(store, "bob", "token.revoke", "tokens:1")
    record_audit(store, "ada", "tokens.purge", "x")  # 'token' is a dotted prefix: this one is not a token.* action
    record_audit(store, "ada", "campaign.pause", "campaign:1")
    assert [e.action for e in audit_log(store, query=AuditQuery(action="token"))] == ["token.revoke", "token.issue"]
    assert [e.action for e in audit_log(store, query=AuditQuery(actor="ada", action="campaign"))] == [
        "campaign.pause"]
    assert count_audit(store, AuditQuery(actor="ada")) == 3
    assert audit_log(store, query=AuditQuery(action="token%")) == []  # LIKE wildcards are literal
    entries = audit_log(store)
    newest, oldest = entries[0].at, entries[-1].at
    assert count_audit(store, AuditQuery(since=oldest, until=newest + timedelta(microseconds=1))) == 4
    assert count_audit(store, AuditQuery(until=oldest)) == 0  # until is exclusive
    future = datetime.now(UTC) + timedelta(days=1)
    assert count_audit(store, AuditQuery(since=future)) == 0


def test_audit_pages_do_not_overlap(store: Store) -> None:
    for index in range(7):
        record_audit(store, "ada", "thing.do", f"thing:{index}")
    pages = [audit_log(store, limit=3, offset=offset) for offset in (0, 3, 6)]
    subjects = [e.subject for page in pages for e in page]
    assert subjects == [f"thing:{i}" for i in range(6, -1, -1)]
