"""Rate limits per vehicle and per operator token, counted where every server process sees them.

A fleet server runs as several processes (``evplatform serve --workers N``, or several hosts behind
a proxy), so a limit counted in one process's memory would let a caller through N times over. The
counters live in the database by default (``store.rate_limits``: one atomic upsert per request, a
table bounded by expiry) or in Redis when the server is given ``--redis URL`` (one ``INCR`` and
``EXPIRE`` in a transaction: cheaper, for a fleet large enough that the database should not take
a write per request).

Limits are fixed windows (``requests`` per ``window_s`` seconds): simple to count the same way in
SQL and in Redis, at the price of a burst of up to twice the limit across a window's edge. A
caller over its limit gets 429 with ``Retry-After``, the seconds until its window ends. Callers are
counted only after they authenticated (a verified vehicle signature, a live token), so a flood of
made-up VINs or tokens never creates counters; per-address limits belong to the reverse proxy.

Redis is optional infrastructure: when it stops answering, requests go through uncounted (a
warning is logged at most once a minute; Redis is tried again every ``REDIS_RETRY_S``) rather than
the whole fleet being refused.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from evplatform.errors import EvplatformError
from evplatform.store.rate_limits import Count, stored_key

if TYPE_CHECKING:
    import redis

logger = logging.getLogger(__name__)

ENV_REDIS_URL = "EVPLATFORM_REDIS_URL"
ENV_VEHICLE_RATE = "EVPLATFORM_VEHICLE_RATE"
ENV_TOKEN_RATE = "EVPLATFORM_TOKEN_RATE"  # noqa: S105 (a variable name, not a secret)
#: Seconds a Redis command may take before the request goes through uncounted.
REDIS_TIMEOUT_S = 1.0
#: After Redis failed, seconds during which requests go through uncounted without trying it again:
#: a Redis host that drops packets would otherwise cost every request the whole timeout.
REDIS_RETRY_S = 5.0
#: Longest window accepted (a day): a counter is kept for one window.
WINDOW_MAX_S = 86_400
REQUESTS_MAX = 10_000_000
_RATE = re.compile(r"^\s*(\d{1,8})\s*/\s*(\d{1,5})\s*s?\s*$")


class RateLimited(EvplatformError):
    """A caller over its limit: HTTP 429 with ``Retry-After``."""

    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimitStoreError(EvplatformError):
    """The configured Redis cannot be used (at start: ``serve --redis`` stops with this line)."""

    http_status = 503


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``requests`` per ``window_s`` seconds; ``requests == 0`` means no limit."""

    requests: int
    window_s: int

    def __post_init__(self) -> None:
        if not 0 <= self.requests <= REQUESTS_MAX:
            raise ValueError(f"a rate limit allows 0 (no limit) to {REQUESTS_MAX:,} requests, not {self.requests}")
        if not 1 <= self.window_s <= WINDOW_MAX_S:
            raise ValueError(f"a rate-limit window lasts 1 to {WINDOW_MAX_S:,} s, not {self.window_s}")

    @property
    def enabled(self) -> bool:
        return self.requests > 0

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """``"120/60"`` (120 requests per 60 s; ``"120/60s"`` too) or ``"off"``; ValueError naming the text."""
        if text.strip().lower() in ("off", "0"):
            return cls(0, 60)
        match = _RATE.match(text)
        if match is None:
            raise ValueError(f"rate limit {text!r}: write REQUESTS/SECONDS (e.g. 120/60) or off")
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.requests}/{self.window_s}s" if self.enabled else "off"


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The limits of one server: per vehicle (signed requests) and per operator token."""

    #: A vehicle polls every few minutes and reports a few times per update: one signed request
    #: a second on average is far above a healthy vehicle and bounds a broken or cloned one.
    vehicle: RateLimit = RateLimit(60, 60)
    #: An operator's scripts and dashboard actions; the Prometheus scraper is 4 a minute.
    token: RateLimit = RateLimit(1200, 60)

    @classmethod
    def off(cls) -> RateLimits:
        return cls(RateLimit(0, 60), RateLimit(0, 60))


class Counter(Protocol):
    """Where hits are counted: ``hit`` adds one to ``key``'s current window and returns the count."""

    def hit(self, key: str, *, now: int, window_s: int) -> Count: ...


class RedisCounter:
    """Counters in Redis: one key per caller and window, expiring a second after its window ends."""

    def __init__(self, url: str, *, timeout_s: float = REDIS_TIMEOUT_S) -> None:
        try:
            import redis
        except ImportError as error:
            raise RateLimitStoreError(f"cannot use Redis at {redact_redis(url)}: the redis package is missing "
                                      f"(pip install 'evplatform[redis]')") from error
        try:
            self.client: redis.Redis = redis.Redis.from_url(
                url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        except ValueError as error:  # redis-py's message for a URL it cannot read
            raise RateLimitStoreError(f"invalid Redis URL {redact_redis(url)!r}: {error}") from error
        self.url = url

    def ping(self) -> None:
        """Raise RateLimitStoreError naming the server when Redis does not answer (checked at start)."""
        import redis

        try:
            self.client.ping()
        except redis.RedisError as error:
            raise RateLimitStoreError(f"Redis at {redact_redis(self.url)} does not answer: {error}") from error

    def hit(self, key: str, *, now: int, window_s: int) -> Count:
        start = now - now % window_s
        name = f"evplatform:rate:{stored_key(key)}:{start}"
        with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_s + 1)
            hits, _ = pipe.execute()
        return Count(int(hits), start)

    def close(self) -> None:
        self.client.close()


def redact_redis(url: str) -> str:
    """The URL without its password (``redis://:secret@host`` → ``redis://:***@host``)."""
    return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)


def token_key(token: str) -> str:
    """What a token is counted under: a digest, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


class RateLimiter:
    """Checks callers against ``limits`` with one shared counter (made on first use: the database
    is opened lazily, like the routes')."""

    def __init__(self, limits: RateLimits, counter: Callable[[], Counter],
                 wall: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self._make_counter = counter
        self._counter: Counter | None = None
        self._lock = threading.Lock()
        self._wall = wall
        self._last_warning = -1e9
        self._skip_until = -1e9

    def counter(self) -> Counter:
        with self._lock:
            if self._counter is None:
                self._counter = self._make_counter()
            return self._counter

    def enabled(self, scope: str) -> bool:
        return self._limit(scope).enabled

    def _limit(self, scope: str) -> RateLimit:
        if scope == "vehicle":
            return self.limits.vehicle
        if scope == "token":
            return self.limits.token
        raise ValueError(f"unknown rate-limit scope {scope!r}")

    def check(self, scope: str, subject: str, now: float) -> None:
        """Count one request of ``subject`` (a VIN, a token key) at ``now`` (server clock); RateLimited
        when it is over the limit of ``scope``."""
        limit = self._limit(scope)
        if not limit.enabled:
            return
        second = int(now)
        count = self._count(f"{scope}:{subject}", second, limit.window_s)
        if count is not None and count.hits > limit.requests:
            retry_after = max(1, count.window_start + limit.window_s - second)
            raise RateLimited(f"too many requests from this {'vehicle' if scope == 'vehicle' else 'token'}: "
                              f"the limit is {limit.requests} per {limit.window_s} s; retry in {retry_after} s",
                              retry_after)

    def _count(self, key: str, now: int, window_s: int) -> Count | None:
        counter = self.counter()
        if not isinstance(counter, RedisCounter):
            return counter.hit(key, now=now, window_s=window_s)  # database errors answer 503 like any route's
        import redis

        if self._wall() < self._skip_until:
            return None
        try:
            return counter.hit(key, now=now, window_s=window_s)
        except redis.RedisError as error:
            wall = self._wall()
            self._skip_until = wall + REDIS_RETRY_S
            if wall - self._last_warning >= 60:
                self._last_warning = wall
                logger.warning("rate limits not counted: Redis at %s: %s", redact_redis(counter.url), error,
                               extra={"event": "rate_limit_store_down"})
            return None

    def close(self) -> None:
        with self._lock:
            counter, self._counter = self._counter, None
        if isinstance(counter, RedisCounter):
            counter.close()
