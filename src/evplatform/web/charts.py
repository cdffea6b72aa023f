"""Small SVG charts drawn on the server: bars and lines, no JavaScript library and no CDN.

The dashboard has no internet, so charts are plain SVG elements in the page (or served as
``image/svg+xml`` for the live campaign chart). Each function returns one ``<svg>`` string whose
text is escaped; colours come from the stylesheet's palette.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#2f6db5", "#3a9a5b", "#c8453c", "#8a5bb0", "#c69a24", "#3b9bb8")


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5, 5 × 10^k)."""
    if value <= 0:
        return 1.0
    power = 10 ** len(str(int(value))) / 10 if value >= 1 else 1.0
    while power > value:
        power /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _fmt(value: float, digits: int | None = None) -> str:
    """A value label: ``digits`` decimals when given (with thousands separators), else a short form."""
    if digits is not None:
        return f"{value:,.{digits}f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.0f}"
    return f"{value:.2g}" if value else "0"


#: Tick steps are these times a power of ten: axis labels a reader can add up at a glance.
NICE_STEPS = (1.0, 2.0, 2.5, 5.0)


def nice_step(span: float, intervals: int = 4) -> float:
    """The smallest round step (1, 2, 2.5 or 5 × 10^k) that covers ``span`` in at most ``intervals`` steps."""
    if span <= 0:
        return 1.0
    raw = span / intervals
    power = 10.0 ** math.floor(math.log10(raw))
    for mantissa in (*NICE_STEPS, 10.0):
        if mantissa * power >= raw * (1 - 1e-9):
            return mantissa * power
    return 10.0 * power  # pragma: no cover - the loop always returns at 10


def nice_ticks(low: float, high: float, intervals: int = 4, *, include_zero: bool = True) -> list[float]:
    """Round tick values from a multiple of the step at or below ``low`` to one at or above ``high``.

    Why: ticks at a quarter of an arbitrary maximum (25 % → 6.25, 12.5, 18.75) read as noise; a
    margin axis should say 0, 5, 10, 15, 20, 25. The axis always includes 0 when the data do not
    cross it, so bars and lines are read against zero (``include_zero=False`` for a narrow band such
    as a state of charge from 90 % to 88 %).
    """
    if include_zero:
        low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1.0
    step = nice_step(high - low, intervals)
    while True:
        first = math.floor(low / step + 1e-9) * step
        last = math.ceil(high / step - 1e-9) * step
        count = round((last - first) / step)
        if count <= intervals + 1:
            break
        step = nice_step(step * (intervals + 1), intervals)
    return [_clean(first + i * step) for i in range(count + 1)]


def _clean(value: float) -> float:
    """``0.30000000000000004`` → ``0.3``: ticks are sums of a round step, so round off the float noise."""
    return 0.0 if abs(value) < 1e-12 else float(f"{value:.12g}")


#: Time-axis steps in seconds, from a minute to a week: an axis reads in the unit of its step.
_TIME_STEPS = (60, 120, 300, 600, 900, 1200, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400,
               2 * 86400, 7 * 86400)


def time_ticks(span_seconds: float, *, count: int = 6) -> tuple[list[tuple[float, str]], str]:
    """Ticks (seconds from the start, label) for a span, and the axis label naming the unit.

    A 20-minute campaign reads "0, 5, 10, 15, 20 min", a day "0, 6, 12, 18, 24 h", a month in days.
    """
    span = max(span_seconds, 60.0)
    step = next((s for s in _TIME_STEPS if span / s <= count),
                _TIME_STEPS[-1] * math.ceil(span / count / _TIME_STEPS[-1]))
    unit, per = ("min", 60) if step < 3600 else ("h", 3600) if step < 86400 else ("d", 86400)
    n = math.ceil(span / step - 1e-9)
    ticks = [(float(i * step), f"{i * step / per:g}") for i in range(n + 1)]
    name = {"min": "minutes", "h": "hours", "d": "days"}[unit]
    return ticks, f"{name} since start"


def tick_labels(ticks: Sequence[float]) -> list[str]:
    """Labels with as many decimals as the ticks need, the same for all (2.5, 5.0, 7.5; never 12 for 12.5)."""
    for digits in range(4):
        if all(abs(t - round(t, digits)) < 1e-9 for t in ticks):
            return [f"{t:,.{digits}f}" for t in ticks]
    return [f"{t:.3g}" for t in ticks]


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, unit: str = "",
              width: int = 640, colour: str = PALETTE[0], label_width: int = 150, digits: int | None = None) -> str:
    """Horizontal bars, one per label, the value written at the end of each bar (``digits`` decimals
    when given: 10.32 and 10.48 kWh/100 km must not both read "10")."""
    row = 22
    top = 28
    height = top + row * len(labels) + 10
    plot = width - label_width - 90
    top_value = _nice_max(max((v for v in values), default=0.0))
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
             f'<text class="chart-title" x="0" y="16">{escape(title)}</text>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        length = max(0.0, plot * value / top_value)
        parts.append(f'<text class="chart-label" x="{label_width - 6}" y="{y + 14}" text-anchor="end">'
                     f'{escape(label)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 7}" fill="{colour}">'
                     f'<title>{escape(label)}: {escape(_fmt(value, digits))} {escape(unit)}</title></rect>')
        parts.append(f'<text class="chart-value" x="{label_width + length + 5:.1f}" y="{y + 14}">'
                     f'{escape(_fmt(value, digits))} {escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    x: Sequence[float]
    y: Sequence[float | None]
    colour: str = PALETTE[0]
    dashed: bool = False


# complexity: axes, ticks, series and legend of one SVG chart
def line_chart(series: Sequence[Series], *, title: str, y_label: str, x_label: str, y_max: float | None = None,  # noqa: C901
               x_ticks: Sequence[tuple[float, str]] = (), width: int = 720, height: int = 280,
               markers: Sequence[tuple[float, str]] = (), include_zero: bool = True, y_unit: str = "",
               x_range: tuple[float, float] | None = None) -> str:
    """Lines over a shared x axis; ``None`` values break a line; ``markers`` draw labelled verticals.

    The y axis runs between round ticks (``nice_ticks``) around the data, from zero unless
    ``include_zero`` is false; ``y_max`` fixes the top (a percentage's 100). ``y_unit`` follows each
    y tick label ("20 %"); ``x_range`` fixes the x axis' ends (ticks past the last point still fit)."""
    left, right, top, bottom = 66, 16, 30, 62
    xs = [x for s in series for x in s.x]
    ys = [y for s in series for y in s.y if y is not None]
    x0, x1 = x_range if x_range is not None else ((min(xs), max(xs)) if xs else (0.0, 1.0))
    if x1 == x0:
        x1 = x0 + 1.0
    ticks = nice_ticks(min(ys, default=0.0), y_max if y_max is not None else max(ys, default=0.0),
                       include_zero=include_zero)
    bottom_value, top_value = ticks[0], ticks[-1]
    pw, ph = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + pw * (x - x0) / (x1 - x0)

    def py(y: float) -> float:
        clipped = max(bottom_value, min(y, top_value))
        return top + ph * (1 - (clipped - bottom_value) / (top_value - bottom_value))

    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
             f'<text class="chart-title" x="0" y="16">{escape(title)}</text>']
    for value, text in zip(ticks, tick_labels(ticks), strict=True):
        y = py(value)
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="chart-label y-tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{escape(text + (" " + y_unit if y_unit else ""))}</text>')
    for x, text in x_ticks:
        parts.append(f'<text class="chart-label" x="{px(x):.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                     f'{escape(text)}</text>')
    parts.append(f'<text class="chart-label" x="{width - right}" y="{height - bottom + 30}" text-anchor="end">'
                 f'{escape(x_label)}</text>')
    parts.append(f'<text class="chart-label" transform="translate(12 {top + ph / 2:.1f}) rotate(-90)" '
                 f'text-anchor="middle">{escape(y_label)}</text>')
    for n, (x, text) in enumerate(markers):
        right_side = px(x) > left + 0.85 * pw
        anchor, dx = ("end", -3) if right_side else ("start", 3)
        parts.append(f'<line class="marker" x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{top}" y2="{top + ph}"/>'
                     f'<text class="chart-label" x="{px(x) + dx:.1f}" y="{top + 22 + 12 * (n % 2)}" '
                     f'text-anchor="{anchor}">{escape(text)}</text>')
    legend_x = float(left)
    for s in series:
        segments: list[list[str]] = [[]]
        for x, point in zip(s.x, s.y, strict=True):
            if point is None:
                segments.append([])
            else:
                segments[-1].append(f"{px(x):.1f},{py(point):.1f}")
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        for points in segments:
            if len(points) == 1:
                cx, cy = points[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{s.colour}"/>')
            elif points:
                parts.append(f'<polyline fill="none" stroke="{s.colour}" stroke-width="2"{dash} '
                             f'points="{" ".join(points)}"/>')
        lx = legend_x
        legend_x += 30 + 6.5 * len(s.name)
        parts.append(f'<rect x="{lx:.0f}" y="{height - 14}" width="12" height="3" fill="{s.colour}"/>'
                     f'<text class="chart-label" x="{lx + 16:.0f}" y="{height - 9}">{escape(s.name)}</text>')
    parts.append(f'<rect class="frame" x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none"/></svg>')
    return "".join(parts)
