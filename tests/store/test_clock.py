"""The store's injected clock: audit rows and default timestamps record it, token expiry is judged by it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from evplatform.clock import FixedClock
from evplatform.store import (
    Store,
    account_for_token,
    audit_log,
    create_account,
    issue_token,
    open_store,
    record_audit,
)
from evplatform.store import campaigns as cdb
from evplatform.store import releases as rdb

START = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def timed(db_url: str, clock: FixedClock) -> Iterator[Store]:
    with open_store(db_url, clock=clock) as opened:
        yield opened


def test_audit_rows_carry_the_injected_time(timed: Store, clock: FixedClock) -> None:
    create_account(timed, "ada", "admin", actor="setup")
    clock.advance(timedelta(minutes=5))
    issue_token(timed, "ada", actor="setup")
    clock.advance(timedelta(hours=2))
    record_audit(timed, "ada", "vehicle.key", "vehicle:V1")
    times = [(e.action, e.at) for e in audit_log(timed)]
    assert times == [
        ("vehicle.key", START + timedelta(hours=2, minutes=5)),
        ("token.issue", START + timedelta(minutes=5)),
        ("account.create", START),
    ]


def test_campaign_audit_rows_carry_the_store_clock_not_the_campaign_time(timed: Store, clock: FixedClock) -> None:
    release = rdb.ReleaseRecord("hub-os-2.0.0", "hub-os", "central-compute", "hw-1", "2.0.0", "true")
    rdb.save_release(timed, release)
    assert rdb.release(timed, release.id).created_at == START  # type: ignore[union-attr]
    simulated = datetime(2040, 1, 1, tzinfo=UTC)  # the campaign's own (simulated) time
    clock.advance(timedelta(seconds=30))
    cid = cdb.create_campaign(timed, name="c", release_id=release.id, target={}, waves=[(1.0, 0.9, 0.1, 0.0)],
                              forced=False, window=None, seed=0, created_by="rita", at=simulated)
    assert cdb.campaign(timed, cid).created_at == simulated
    (entry, *_) = audit_log(timed, subject=f"campaign:{cid}")
    assert (entry.action, entry.at) == ("campaign.create", START + timedelta(seconds=30))


def test_token_expiry_is_judged_by_the_store_clock(timed: Store, clock: FixedClock) -> None:
    create_account(timed, "eve", "engineer")
    token = issue_token(timed, "eve", expires_at=START + timedelta(hours=1))
    assert account_for_token(timed, token) is not None
    clock.advance(timedelta(hours=1))
    assert account_for_token(timed, token) is None  # expired at the clock's "now", not the system's
    assert account_for_token(timed, token, now=START) is not None  # an explicit instant still wins


def test_the_default_clock_is_the_system_clock(store: Store) -> None:
    before = datetime.now(UTC)
    record_audit(store, "ada", "test", "thing:1")
    (entry,) = audit_log(store)
    assert before - timedelta(seconds=1) <= entry.at <= datetime.now(UTC) + timedelta(seconds=1)
