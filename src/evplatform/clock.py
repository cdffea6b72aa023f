"""The one clock of the whole package: "now" is always injected, never read from the system.

Every decision that depends on time (metadata expiry, gate soak times, deadlines, audit rows,
approval dates) takes a ``Clock`` argument, so that tests can move time and the server decides
on its own clock, never on one a client sends. Only the outermost layers (the CLI, ``serve``)
pass ``system_clock``; libraries never call ``datetime.now``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from evplatform.errors import EvplatformError

#: "now" as an aware UTC datetime.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real clock, for the CLI and servers; libraries take a ``Clock`` argument instead."""
    return datetime.now(UTC)


def aware_now(clock: Clock) -> datetime:
    """The clock's time, checked aware and converted to UTC (a naive time is a programming error)."""
    now = clock()
    if now.tzinfo is None:
        raise EvplatformError("the clock returned a naive datetime; decisions need an aware UTC time")
    return now.astimezone(UTC)


class FixedClock:
    """A clock that stands still until moved: for tests, simulations and replaying history."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise EvplatformError("FixedClock needs an aware datetime")
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward (never backward: time in a simulation only grows)."""
        if delta < timedelta(0):
            raise EvplatformError(f"a clock moves forward only, not by {delta}")
        self.now += delta
        return self.now
