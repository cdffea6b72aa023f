"""PNG plot of campaign waves: cumulative successes and error rates per wave over time, halts marked.

Drawn with matplotlib's object API (``Figure``), so no global pyplot state and no display.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from evplatform.store import Store
from evplatform.store.stability import report_timeline

MIN_REPORTS = 20  # an error rate over fewer reports is noise, not worth a line
COLOURS = ("#4c72b0", "#55a868", "#c44e52", "#8172b2", "#ccb974", "#64b5cd")


def plot_waves(store: Store, campaigns: Sequence[dict[str, Any]], path: Path) -> Path:
    """One panel per campaign (dicts from ``campaigns.progress``); returns the PNG's path."""
    figure = Figure(figsize=(10, 3.6 * max(1, len(campaigns))), layout="constrained")
    axes = figure.subplots(max(1, len(campaigns)), 1, squeeze=False)[:, 0]
    for ax, campaign in zip(axes, campaigns, strict=False):
        errors_ax = ax.twinx()
        timeline = report_timeline(store, campaign["id"])
        start = campaign["started_at"]
        for wave in campaign["waves"]:
            rows = [(at, outcome, n) for at, w, outcome, n in timeline if w == wave["index"]]
            if not rows:
                continue
            hours = np.array([(at - start).total_seconds() / 3600 for at, _, _ in rows])
            ok = np.cumsum([n if o == "succeeded" else 0 for _, o, n in rows])
            bad = np.cumsum([n if o != "succeeded" else 0 for _, o, n in rows])
            colour = COLOURS[wave["index"] % len(COLOURS)]
            ax.step(hours, 100 * ok / max(1, wave["size"]), where="post", color=colour,
                    label=f"wave {wave['index'] + 1}: {wave['size']:,} vehicles")
            reports = ok + bad
            rate = np.where(reports >= MIN_REPORTS, 100 * bad / np.maximum(1, reports), np.nan)
            errors_ax.step(hours, rate, where="post", color=colour, linestyle=":")
        errors_ax.set_ylabel("error rate of reports, % (dotted)")
        errors_ax.set_ylim(0, 10)
        if campaign["state"] == "halted" and campaign["finished_at"] is not None:
            halted = (campaign["finished_at"] - start).total_seconds() / 3600
            ax.axvline(halted, color="black", linewidth=1)
            ax.annotate("halted", (halted, 50), rotation=90, va="center", ha="right", fontsize=8)
        ax.set_title(f"campaign {campaign['id']}: {campaign['release']} — {campaign['state']}", loc="left", fontsize=10)
        ax.set_xlabel("hours since start")
        ax.set_ylabel("succeeded, % of wave (solid)")
        ax.set_ylim(0, 105)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="center right")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path
