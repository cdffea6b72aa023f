"""A campaign's progress over time: cumulative successes, errors and their rates, per wave and overall.

Built from ``store.stability.report_timeline`` rows ``(time, wave, outcome, vehicles)``. Rates are
over the reports received so far (errors = failed + rolled back), the quantity the wave gate
(``fleet.gates``) watches, so it lives beside the gate; the dashboard draws it and the JSON route
returns it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

ERRORS = ("failed", "rolled_back")


def _point(at: datetime, succeeded: int, errors: int) -> dict[str, Any]:
    reports = succeeded + errors
    return {
        "at": at.isoformat(),
        "succeeded": succeeded,
        "errors": errors,
        "reports": reports,
        "success_rate": succeeded / reports if reports else None,
        "error_rate": errors / reports if reports else None,
    }


def campaign_timeline(
    rows: Sequence[tuple[datetime, int, str, int]], window: tuple[datetime, datetime] | None = None
) -> dict[str, Any]:
    """``{"overall": [points], "waves": {index: [points]}}``, one point per distinct report time.

    ``window`` (the campaign's start and the latest moment it can have heard of): report times
    outside it are drawn at its edge. Reports are refused outside a window around the server's
    clock now (``fleet.reported_time``), but a database may hold older ones: one dated 0001-01-01
    once stretched a chart's axis over 70 million hours.
    """
    if window is not None:
        rows = clamp_times(rows, *window)
    overall: list[dict[str, Any]] = []
    waves: dict[int, list[dict[str, Any]]] = {}
    totals = [0, 0]
    per_wave: dict[int, list[int]] = {}
    index = 0
    while index < len(rows):
        at = rows[index][0]
        touched: set[int] = set()
        while index < len(rows) and rows[index][0] == at:
            _, wave, outcome, n = rows[index]
            slot = 1 if outcome in ERRORS else 0
            totals[slot] += n
            per_wave.setdefault(wave, [0, 0])[slot] += n
            touched.add(wave)
            index += 1
        overall.append(_point(at, totals[0], totals[1]))
        for wave in sorted(touched):
            waves.setdefault(wave, []).append(_point(at, *per_wave[wave]))
    return {"overall": overall, "waves": {str(w): points for w, points in sorted(waves.items())}}


def clamp_times(
    rows: Sequence[tuple[datetime, int, str, int]], start: datetime, end: datetime
) -> list[tuple[datetime, int, str, int]]:
    """``rows`` with each time moved into [start, end], still in time order."""
    clamped = [(min(max(at, start), end), wave, outcome, n) for at, wave, outcome, n in rows]
    clamped.sort(key=lambda row: row[0])  # stable: rows of one time keep their order
    return clamped
