"""SVG charts of a scenario's sensitivity: the tornado (one input at a time) and the Sobol indices.

Same conventions as ``web.charts`` (plain SVG, escaped text, the stylesheet's palette, round axis
ticks from ``nice_ticks``); drawn from the ``insights scenarios --json`` payload, so a chart shows
exactly the numbers the CLI prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from evplatform.web.charts import PALETTE, nice_ticks, tick_labels

LABEL_WIDTH = 200
ROW = 24


def _frame(title: str, width: int, height: int) -> list[str]:
    return [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
            f'<text class="chart-title" x="0" y="16">{escape(title)}</text>']


def _axis(ticks: Sequence[float], labels: Sequence[str], px: Any, top: int, bottom: int) -> list[str]:
    parts = []
    for value, text in zip(ticks, labels, strict=True):
        x = px(value)
        parts.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}"/>'
                     f'<text class="chart-label x-tick" x="{x:.1f}" y="{bottom + 14}" text-anchor="middle">'
                     f'{escape(text)}</text>')
    return parts


def tornado_chart(tornado: dict[str, Any], *, title: str, unit: str, scale: float = 1e9, width: int = 620,
                  limit: int = 8) -> str:
    """Bars from the output at an input's P10 to the output at its P90, the others at their medians;
    the vertical line is the output with every input at its median. ``scale`` divides the values
    (1e9: billions)."""
    bars = tornado["bars"][:limit]
    base = tornado["base"] / scale
    values = [v / scale for b in bars for v in (b["npv_at_low"], b["npv_at_high"])] + [base]
    ticks = nice_ticks(min(values), max(values))
    low, high = ticks[0], ticks[-1]
    top, plot = 28, width - LABEL_WIDTH - 20
    bottom = top + ROW * len(bars)
    height = bottom + 44

    def px(value: float) -> float:
        return LABEL_WIDTH + plot * (value - low) / (high - low)

    parts = _frame(title, width, height)
    parts += _axis(ticks, tick_labels(ticks), px, top, bottom)
    for i, bar in enumerate(bars):
        y = top + i * ROW
        at_low, at_high = bar["npv_at_low"] / scale, bar["npv_at_high"] / scale
        parts.append(f'<text class="chart-label" x="{LABEL_WIDTH - 6}" y="{y + 16}" text-anchor="end">'
                     f'{escape(bar["input"])}</text>')
        for value, colour, side in ((at_low, PALETTE[2], "P10"), (at_high, PALETTE[0], "P90")):
            start, end = sorted((px(base), px(value)))
            length = max(end - start, 1.0)
            parts.append(f'<rect class="bar-{side.lower()}" x="{start:.1f}" y="{y + 4}" width="{length:.1f}" '
                         f'height="{ROW - 8}" fill="{colour}"><title>{escape(bar["input"])} at its {side} '
                         f'({bar["low_value" if side == "P10" else "high_value"]:.4g}): {value:,.2f} {escape(unit)}'
                         f'</title></rect>')
    parts.append(f'<line class="marker" x1="{px(base):.1f}" x2="{px(base):.1f}" y1="{top - 4}" y2="{bottom}"/>')
    parts.append(f'<text class="chart-label" x="{width - 4}" y="{bottom + 28}" text-anchor="end">{escape(unit)} · '
                 f'line: every input at its median ({base:,.2f})</text>')
    parts.append(f'<rect x="{LABEL_WIDTH}" y="{height - 12}" width="12" height="6" fill="{PALETTE[2]}"/>'
                 f'<text class="chart-label" x="{LABEL_WIDTH + 16}" y="{height - 5}">input at P10</text>'
                 f'<rect x="{LABEL_WIDTH + 110}" y="{height - 12}" width="12" height="6" fill="{PALETTE[0]}"/>'
                 f'<text class="chart-label" x="{LABEL_WIDTH + 126}" y="{height - 5}">input at P90</text></svg>')
    return "".join(parts)


def sobol_chart(indices: dict[str, dict[str, float]], *, title: str, width: int = 620, limit: int = 8) -> str:
    """First-order (S1) and total-order (ST) Sobol index of each input, largest ST first, on 0–1.

    Negative S1 estimates (sampling noise around zero) are drawn as zero and written as they are."""
    rows = sorted(indices.items(), key=lambda item: -item[1]["ST"])[:limit]
    ticks = nice_ticks(0.0, max([1.0, *(v[k] for _, v in rows for k in ("S1", "ST"))]))
    top, plot = 28, width - LABEL_WIDTH - 20
    bottom = top + ROW * len(rows)
    height = bottom + 44

    def px(value: float) -> float:
        return LABEL_WIDTH + plot * max(0.0, value) / ticks[-1]

    parts = _frame(title, width, height)
    parts += _axis(ticks, tick_labels(ticks), px, top, bottom)
    half = (ROW - 6) / 2
    for i, (name, index) in enumerate(rows):
        y = top + i * ROW
        parts.append(f'<text class="chart-label" x="{LABEL_WIDTH - 6}" y="{y + 16}" text-anchor="end">'
                     f'{escape(name)}</text>')
        for j, (key, colour) in enumerate((("S1", PALETTE[1]), ("ST", PALETTE[3]))):
            parts.append(f'<rect class="bar-{key.lower()}" x="{LABEL_WIDTH}" y="{y + 3 + j * half:.1f}" '
                         f'width="{px(index[key]) - LABEL_WIDTH:.1f}" height="{half:.1f}" fill="{colour}">'
                         f'<title>{escape(name)} {key} = {index[key]:.3f}</title></rect>')
    parts.append(f'<rect x="{LABEL_WIDTH}" y="{height - 12}" width="12" height="6" fill="{PALETTE[1]}"/>'
                 f'<text class="chart-label" x="{LABEL_WIDTH + 16}" y="{height - 5}">S1 first order</text>'
                 f'<rect x="{LABEL_WIDTH + 130}" y="{height - 12}" width="12" height="6" fill="{PALETTE[3]}"/>'
                 f'<text class="chart-label" x="{LABEL_WIDTH + 146}" y="{height - 5}">ST total order</text></svg>')
    return "".join(parts)
