"""Issue 18 §2: rate limits per vehicle and token — parsing, the 429's Retry-After, Redis shared and down."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
import redis

from evplatform.service.rate_limits import (
    REDIS_RETRY_S,
    RateLimit,
    RateLimited,
    RateLimiter,
    RateLimits,
    RateLimitStoreError,
    RedisCounter,
    redact_redis,
)
from evplatform.store import open_store
from evplatform.store.rate_limits import Count, CounterTable
from store_fixtures import redis_url  # noqa: F401

WINDOW = 60
T0 = 1_800_000_000 - 1_800_000_000 % WINDOW


@pytest.mark.parametrize(("text", "expected"), [("120/60", RateLimit(120, 60)), (" 5 / 10s ", RateLimit(5, 10)),
                                                ("off", RateLimit(0, 60)), ("0", RateLimit(0, 60))])
def test_a_limit_is_requests_per_seconds_or_off(text: str, expected: RateLimit) -> None:
    assert RateLimit.parse(text) == expected
    assert RateLimit.parse(str(expected)) == expected  # what serve prints reads back


@pytest.mark.parametrize("text", ["", "120", "120/0", "-1/60", "1/100000", "a/b", "120 per minute"])
def test_a_malformed_limit_names_the_text(text: str) -> None:
    with pytest.raises(ValueError, match=r"rate limit|window"):
        RateLimit.parse(text)


def test_over_the_limit_is_refused_until_the_window_ends(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        limiter = RateLimiter(RateLimits(vehicle=RateLimit(3, WINDOW)), lambda: CounterTable(store))
        for second in (0, 1, 2):
            limiter.check("vehicle", "V1", T0 + second)
        with pytest.raises(RateLimited) as refused:
            limiter.check("vehicle", "V1", T0 + 20.7)
        assert refused.value.retry_after == 40 and refused.value.http_status == 429
        assert "3 per 60 s" in str(refused.value)
        limiter.check("vehicle", "V2", T0 + 21)  # another vehicle has its own budget
        limiter.check("token", "t", T0 + 22)  # the token limit (default) is separate
        limiter.check("vehicle", "V1", T0 + WINDOW)  # a new window
    finally:
        store.dispose()


def test_an_off_limit_counts_nothing() -> None:
    def no_counter() -> CounterTable:
        raise AssertionError("an off limit must not open the counter")

    limiter = RateLimiter(RateLimits.off(), no_counter)
    for _ in range(5):
        limiter.check("vehicle", "V1", T0)
        limiter.check("token", "t", T0)


def test_two_redis_clients_share_one_count(redis_url: str) -> None:  # noqa: F811
    """Two server processes = two clients: the count is Redis's, and it expires with its window."""
    first, second = RedisCounter(redis_url), RedisCounter(redis_url)
    key = f"vehicle:{uuid.uuid4().hex}"
    try:
        hits = [c.hit(key, now=T0 + 1, window_s=WINDOW).hits for c in (first, second, first)]
        assert hits == [1, 2, 3]
        assert second.hit(key, now=T0 + WINDOW, window_s=WINDOW).hits == 1  # the next window
        ttl = first.client.ttl(f"evplatform:rate:{key}:{T0}")
        assert 0 < ttl <= WINDOW + 1  # bounded: Redis forgets it after the window
    finally:
        first.close()
        second.close()


def test_redis_down_lets_requests_through_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RateLimiter(RateLimits(vehicle=RateLimit(1, WINDOW)),
                          lambda: RedisCounter("redis://127.0.0.1:1/0", timeout_s=0.2))
    with caplog.at_level(logging.WARNING, logger="evplatform.service.rate_limits"):
        for _ in range(3):  # over the limit of 1, yet not refused: nothing could be counted
            limiter.check("vehicle", "V1", T0)
    warnings = [r for r in caplog.records if getattr(r, "event", None) == "rate_limit_store_down"]
    assert len(warnings) == 1 and "127.0.0.1:1" in warnings[0].getMessage()
    limiter.close()


class FlakyRedis(RedisCounter):
    """A Redis counter that fails while ``down`` and counts the calls that reached it."""

    def __init__(self) -> None:
        super().__init__("redis://127.0.0.1:1/0")
        self.down, self.calls, self.hits = True, 0, 0

    def hit(self, key: str, *, now: int, window_s: int) -> Count:
        self.calls += 1
        if self.down:
            raise redis.ConnectionError("connection refused")
        self.hits += 1
        return Count(self.hits, now - now % window_s)


def test_after_a_redis_failure_it_is_left_alone_for_a_while() -> None:
    """A Redis that times out must not cost every request the timeout: tried again after REDIS_RETRY_S."""
    wall = [1000.0]
    flaky = FlakyRedis()
    limiter = RateLimiter(RateLimits(vehicle=RateLimit(1, WINDOW)), lambda: flaky, wall=lambda: wall[0])
    for _ in range(5):
        limiter.check("vehicle", "V1", T0)
    assert flaky.calls == 1  # one try, then uncounted without waiting on Redis
    flaky.down = False
    wall[0] += REDIS_RETRY_S
    limiter.check("vehicle", "V1", T0)  # tried again: counted (1 of 1)
    with pytest.raises(RateLimited):
        limiter.check("vehicle", "V1", T0)
    assert flaky.calls == 3


def test_an_unreachable_redis_is_one_error_at_start() -> None:
    counter = RedisCounter("redis://:secret@127.0.0.1:1/0", timeout_s=0.2)
    with pytest.raises(RateLimitStoreError, match=r"127\.0\.0\.1:1") as error:
        counter.ping()
    assert "secret" not in str(error.value)
    assert redact_redis("redis://user:pw@h:6379/0") == "redis://user:***@h:6379/0"
    with pytest.raises(RateLimitStoreError, match="invalid Redis URL"):
        RedisCounter("http://not-redis")
