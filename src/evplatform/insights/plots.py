"""Charts of the insights payloads, as PNG or SVG bytes (matplotlib, Agg backend), and an HTML index.

Each function takes the JSON payload of ``business_report`` / ``scenarios_report`` /
``risks_report`` so the CLI and the dashboard draw exactly what the API returns.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.colors import ListedColormap

from evplatform.errors import InsightsError

FORMATS = ("png", "svg")
BASIS_HATCH = {"reported": "", "derived": "//", "estimate": "xx"}
RATING_COLOURS = {"low": "#9ccc65", "medium": "#ffee58", "high": "#ffa726", "critical": "#ef5350"}


def _bytes(fig: Any, fmt: str) -> bytes:
    if fmt not in FORMATS:
        plt.close(fig)
        raise InsightsError(f"unknown image format {fmt!r}; known: {', '.join(FORMATS)}")
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format=fmt, dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def business_plot(report: dict[str, Any], fmt: str = "png") -> bytes:
    """Deliveries per quarter (hatched when derived or estimated) and gross margins beside the peers'."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    deliveries = report["series"].get("deliveries", {}).get("quarters", [])
    left.bar([q["period"] for q in deliveries], [q["value"] for q in deliveries], color="#42a5f5",
             edgecolor="#0d47a1")
    for patch, q in zip(left.patches, deliveries, strict=True):
        patch.set_hatch(BASIS_HATCH[q["basis"]])
    left.set_title(f"{report['entity']} deliveries per quarter (hatched: derived / estimate)")
    left.tick_params(axis="x", rotation=45)
    periods = sorted({m["period"] for ms in report.get("peer_margins", {}).values() for m in ms})
    position = {p: i for i, p in enumerate(periods)}
    for peer in report["peers"]:
        trend = peer["gross_margin_trend"]
        if trend is None:
            continue
        rows = _margin_rows(report, peer["entity"])
        right.plot([position[r[0]] for r in rows], [r[1] for r in rows], marker="o",
                   linewidth=2.5 if peer["entity"] == report["entity"] else 1.0,
                   label=f"{peer['entity']} ({trend['metric']})")
    right.set_xticks(range(len(periods)), periods)
    right.set_title("gross margin (%)")
    right.tick_params(axis="x", rotation=45)
    right.legend(fontsize=7)
    return _bytes(fig, fmt)


def _margin_rows(report: dict[str, Any], entity: str) -> list[tuple[str, float]]:
    margins = report.get("peer_margins", {}).get(entity, [])
    return [(m["period"], m["value"]) for m in margins]


def scenario_comparison_plot(report: dict[str, Any], fmt: str = "png") -> bytes:
    """P5–P95 range and P50 of each scenario's platform NPV and of its advantage over separate products."""
    rows = report["comparison"]
    scale = 1e9
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.7 * len(rows) + 1.8))
    for ax, key, title in ((axes[0], "platform", "platform NPV"), (axes[1], "advantage", "platform − separate NPV")):
        for i, scenario in enumerate(report["scenarios"]):
            npv = scenario["npv"][key]
            ax.plot([npv["p5"] / scale, npv["p95"] / scale], [i, i], color="#90a4ae", linewidth=6)
            ax.plot([npv["p50"] / scale], [i], "o", color="#1565c0")
        ax.axvline(0, color="#c62828", linewidth=1)
        ax.set_yticks(range(len(rows)), [r["title"] for r in rows])
        ax.invert_yaxis()
        ax.set_xlabel(f"bn {report['currency']} (bar P5–P95, dot P50)")
        ax.set_title(title)
    return _bytes(fig, fmt)


def tornado_plot(scenario: dict[str, Any], currency: str, output: str = "platform", fmt: str = "png") -> bytes:
    """One-at-a-time P10/P90 swings of one scenario, largest on top."""
    data = scenario["tornado"][output]
    bars = [b for b in data["bars"] if b["swing"] > 0][:10]
    base = data["base"] / 1e9
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(bars) + 1.6))
    for i, bar in enumerate(bars):
        low, high = bar["npv_at_low"] / 1e9, bar["npv_at_high"] / 1e9
        ax.barh(i, low - base, left=base, color="#ef9a9a")
        ax.barh(i, high - base, left=base, color="#90caf9")
    ax.axvline(base, color="black", linewidth=1)
    ax.set_yticks(range(len(bars)), [b["input"] for b in bars])
    ax.invert_yaxis()
    ax.set_xlabel(f"{'platform NPV' if output == 'platform' else 'platform − separate NPV'} (bn {currency}); "
                  "red: input at P10, blue: at P90")
    ax.set_title(f"tornado: {scenario['title']}")
    return _bytes(fig, fmt)


def sobol_plot(scenario: dict[str, Any], output: str = "platform", fmt: str = "png") -> bytes:
    """First- and total-order Sobol indices of one scenario's output."""
    indices = scenario["sobol"][output]
    names = sorted(indices, key=lambda n: -indices[n]["ST"])
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(names) + 1.6))
    y = range(len(names))
    ax.barh([i - 0.2 for i in y], [indices[n]["S1"] for n in names], height=0.4, label="first order S1")
    ax.barh([i + 0.2 for i in y], [indices[n]["ST"] for n in names], height=0.4, label="total order ST")
    ax.set_yticks(list(y), names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title(f"Sobol indices of the {'platform NPV' if output == 'platform' else 'platform advantage'}: "
                 f"{scenario['title']}")
    return _bytes(fig, fmt)


def risk_matrix_plot(report: dict[str, Any], fmt: str = "png") -> bytes:
    """The uncertainty matrix: likelihood × impact cells coloured by rating, with the risk ids."""
    m = report["matrix"]
    order = ["low", "medium", "high", "critical"]
    codes = [[order.index(r) for r in row] for row in m["ratings"]]
    fig, ax = plt.subplots(figsize=(7.5, 6))
    ax.imshow(codes, cmap=ListedColormap([RATING_COLOURS[k] for k in order]), vmin=0, vmax=3)
    for i, row in enumerate(m["ids"]):
        for j, ids in enumerate(row):
            if ids:
                ax.text(j, i, "\n".join(ids), ha="center", va="center", fontsize=8)
    ax.set_xticks(range(5), [str(v) for v in m["impact"]])
    ax.set_yticks(range(5), [str(v) for v in m["likelihood"]])
    ax.set_xlabel("impact")
    ax.set_ylabel("likelihood")
    ax.set_title("uncertainty matrix (likelihood × impact)")
    return _bytes(fig, fmt)


def write_images(out: Path, images: dict[str, bytes]) -> list[Path]:
    """Write ``name → bytes`` into ``out`` (created)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InsightsError(f"{out}: cannot create the output folder ({error.strerror})") from None
    written = []
    for name, data in images.items():
        path = out / name
        path.write_bytes(data)
        written.append(path)
    return written


def write_index(out: Path, title: str, sections: Sequence[tuple[str, str, Sequence[str]]]) -> Path:
    """``index.html`` with one section per (heading, HTML table, image names); returns its path."""
    body = []
    for heading, table, images in sections:
        body.append(f"<h2>{html.escape(heading)}</h2>\n{table}")
        body.extend(f'<p><img src="{html.escape(n)}" alt="{html.escape(n)}"></p>' for n in images)
    page = out / "index.html"
    page.write_text(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif}}"
        "td,th{padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n" + "\n".join(body) + "\n</body></html>\n",
        encoding="utf-8",
    )
    return page


def html_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    lines = ["<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows]
    return f"<table><tr>{head}</tr>\n" + "\n".join(lines) + "\n</table>"
