"""Per-market facts a market file states about itself: its time zone and its share of the fleet.

They used to be code tables keyed by the demo's market ids, so any other platform's markets fell
back to UTC and to an equal share without a word. Now ``markets/<id>.yaml`` says them::

    time_zone: Europe/Berlin     # IANA name; maintenance windows are in this local time
    fleet_share: 0.05            # share of the simulated fleet registered here (0–1)

A child market inherits its parent's time zone; a market with none anywhere uses UTC, explicitly
(``time_zone_declared`` is False and ``evplatform check`` warns).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from evplatform.errors import WorkspaceError
from evplatform.workspace.sources import number

if TYPE_CHECKING:
    from evplatform.workspace.model import Market
    from evplatform.workspace.sources import LineDict

#: The clock of a market whose file (and parents) declare none.
DEFAULT_TIME_ZONE = "UTC"


def market_time_zone(data: LineDict, parent: Market | None, path: Path) -> tuple[str, bool]:
    """(IANA zone, declared) of a market: its own, else its parent's, else UTC (not declared)."""
    if "time_zone" not in data:
        if parent is not None:
            return parent.time_zone, parent.time_zone_declared
        return DEFAULT_TIME_ZONE, False
    value = data["time_zone"]
    line = data.line_of("time_zone")
    if not isinstance(value, str) or not value.strip():
        raise WorkspaceError(f"time_zone must be an IANA time zone name such as Europe/Berlin, not {value!r}",
                             path, line)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise WorkspaceError(f"time_zone: unknown time zone {value!r} (use an IANA name such as Europe/Berlin)",
                             path, line) from None
    return value, True


def market_fleet_share(data: LineDict, path: Path) -> float | None:
    """The market's share of the simulated fleet (0–1), or None when the file does not say."""
    if "fleet_share" not in data:
        return None
    value: Any = data["fleet_share"]
    line = data.line_of("fleet_share")
    share = number(value, path, line, "fleet_share")
    if share > 1.0:
        raise WorkspaceError(f"fleet_share must be between 0 and 1, not {value!r}", path, line)
    return share
