"""A server-side SVG timeline: one row per model and market, compliant until the first breaking date.

Like ``web.charts``, plain SVG with escaped text and no script. Each row is green from the chart's
start to its first date and red after it ("non-compliant unless something changes"), with a
marker and a tooltip at every date on which one more rule breaks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

GREEN = "#3a9a5b"
RED = "#c8453c"


@dataclass(frozen=True, slots=True)
class TimelineRow:
    label: str
    dates: Sequence[tuple[date, str]]  # (day, what breaks on it), ascending


def timeline_chart(rows: Sequence[TimelineRow], *, start: date, end: date, title: str, width: int = 760,
                   label_width: int = 190) -> str:
    """Rows over [start, end]; year ticks; nothing drawn before ``start`` (the as-of date)."""
    row_height, top, bottom = 24, 30, 54
    height = top + row_height * len(rows) + bottom
    plot = width - label_width - 16
    span = max((end - start).days, 1)

    def px(day: date) -> float:
        return label_width + plot * min(max((day - start).days, 0), span) / span

    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
             f'<text class="chart-title" x="0" y="16">{escape(title)}</text>']
    for year in range(start.year + 1, end.year + 1):
        x = px(date(year, 1, 1))
        parts.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - bottom}"/>'
                     f'<text class="chart-label" x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                     f'{year}</text>')
    parts.append(f'<text class="chart-label" x="{label_width}" y="{height - bottom + 30}" text-anchor="middle">'
                 f'{escape(start.isoformat())}</text>')
    legend = "green: compliant · red: not compliant unless something changes · ◆ one more rule breaks"
    parts.append(f'<text class="chart-label" x="{label_width}" y="{height - 6}">{escape(legend)}</text>')
    for i, row in enumerate(rows):
        y = top + i * row_height
        parts.append(f'<text class="chart-label" x="{label_width - 10}" y="{y + 15}" text-anchor="end">'
                     f'{escape(row.label)}</text>')
        first = row.dates[0][0] if row.dates else end
        parts.append(f'<rect x="{label_width}" y="{y + 5}" width="{px(first) - label_width:.1f}" height="12" '
                     f'fill="{GREEN}" opacity="0.55"><title>{escape(row.label)}: compliant until '
                     f'{escape(first.isoformat())}</title></rect>')
        if row.dates:
            parts.append(f'<rect x="{px(first):.1f}" y="{y + 5}" width="{label_width + plot - px(first):.1f}" '
                         f'height="12" fill="{RED}" opacity="0.55"><title>{escape(row.label)}: not compliant from '
                         f'{escape(first.isoformat())} unless something changes</title></rect>')
        for day, what in row.dates:
            x = px(day)
            parts.append(f'<path d="M{x:.1f} {y + 3} l5 8 l-5 8 l-5 -8 z" fill="{RED}" stroke="#fff">'
                         f'<title>{escape(row.label)} {escape(day.isoformat())}: {escape(what)}</title></path>')
    parts.append("</svg>")
    return "".join(parts)
