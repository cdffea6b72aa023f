"""The time a vehicle says something happened: evidence, never the clock gates are decided on.

A vehicle's clock can be wrong or lied about. Campaign gates (soak times, wave openings) and
deadlines run on the server's clock only; a vehicle's ``at`` is stored as evidence when it falls in
a window around the server's time, and refused otherwise: a report dated two days ahead once
skipped a 48-hour soak, and one dated ``0001-01-01`` stretched a timeline over 70 million hours.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from evplatform.errors import FleetError

#: How far ahead of the server's clock a vehicle's time may be (clock skew of a vehicle that synced
#: with the network recently).
MAX_AHEAD = timedelta(minutes=5)
#: How old an event may be when it arrives (a vehicle offline for weeks still reports what happened).
MAX_BEHIND = timedelta(days=90)


class ReportedTimeError(FleetError):
    """A vehicle's time outside the window around the server's clock."""

    http_status = 422


def check_reported_time(at: datetime, now: datetime, where: str) -> datetime:
    """``at`` if it lies within [now − MAX_BEHIND, now + MAX_AHEAD]; ReportedTimeError otherwise."""
    if at.tzinfo is None:
        raise ReportedTimeError(f"{where}: time {at.isoformat()} has no time zone")
    if at > now + MAX_AHEAD:
        raise ReportedTimeError(f"{where}: time {at.isoformat()} is ahead of the server's clock "
                                f"({now.isoformat(timespec='seconds')}) by more than {MAX_AHEAD}")
    if at < now - MAX_BEHIND:
        raise ReportedTimeError(f"{where}: time {at.isoformat()} is more than {MAX_BEHIND.days} days before the "
                                f"server's clock ({now.isoformat(timespec='seconds')})")
    return at
