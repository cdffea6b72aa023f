"""KPIs of every commit that touched a workspace: the platform's trajectory over its git history.

Each commit is exported (never checked out) and loaded leniently, like a side of a diff; a commit
whose workspace does not load gets a row with its error instead of numbers. Results are cached in
memory by the workspace folder's git tree id and the date, so unchanged trees cost nothing twice.
"""

from __future__ import annotations

import io
import logging
from datetime import date
from pathlib import Path
from typing import Any

from evplatform.errors import EvplatformError
from evplatform.evolution.errors import EvolutionError, SideError
from evplatform.evolution.revisions import Side, git, open_side, repository_of, revisions
from evplatform.markets.rules import MODES
from evplatform.markets.verdict import COMPLIANT, market_verdicts
from evplatform.platform import kpi_report
from evplatform.variability.cnf import encode
from evplatform.variability.counting import count_configurations
from evplatform.vehicle.simulate import simulate_trims

log = logging.getLogger(__name__)

MAX_COMMITS = 200
#: Rows kept by (tree id, date); the oldest go first beyond this.
CACHE_ROWS = 512
_CACHE: dict[tuple[str, str], dict[str, Any]] = {}
COLUMNS = ("revision", "date", "subject", "features", "constraints", "configurations", "reuse_part_share",
           "reuse_spend_share", "dci", "tcci", "ci", "ci_c", "compliant", "compliant_all", "sold", "invalid_trims",
           "mean_unit_cost", "mean_range_km")


def kpis_of(side: Side, on: date) -> dict[str, Any]:
    """The history row of one loaded version (without the commit fields)."""
    ws = side.workspace
    report = kpi_report(ws)
    by_model = report.by_model.to_dict()
    unit = {c.trim.key: round(c.unit_cost, 2) for c in report.trims}
    ranges = {row["vehicle"]: row["range_km"] for row in simulate_trims(ws).results}
    compliant = dict.fromkeys(MODES, 0)
    sold = 0
    for market in ws.markets:
        for mode in MODES:
            for v in market_verdicts(ws, market, on, mode):
                if v.trim.model_id in ws.markets[market].models:
                    sold += mode == MODES[0]
                    compliant[mode] += v.status == COMPLIANT
    return {
        "features": len(ws.feature_model),
        "constraints": len(ws.feature_model.constraints),
        "configurations": str(count_configurations(encode(ws.feature_model))),
        "reuse_part_share": by_model["part_share"], "reuse_spend_share": by_model["spend_share"],
        **{k: by_model[k] for k in ("dci", "tcci", "ci", "ci_c")},
        "compliant": compliant["new_types"], "compliant_all": compliant["all"], "sold": sold,
        "invalid_trims": len(side.invalid),
        "unit_cost": unit, "range_km": ranges,
        "mean_unit_cost": sum(unit.values()) / len(unit) if unit else 0.0,
        "mean_range_km": sum(ranges.values()) / len(ranges) if ranges else 0.0,
    }


def workspace_history(folder: Path, *, since: str | None = None, on: date,
                      limit: int = MAX_COMMITS) -> dict[str, Any]:
    """One row per commit that touched ``folder`` (oldest first); SideError when it is not in git."""
    found = repository_of(folder)
    if found is None:
        raise SideError("history", f"{folder} is not inside a git repository: there is no history to read")
    repo, prefix = found
    try:
        commits = revisions(folder, since, limit)
    except SideError:
        raise
    except EvolutionError as error:
        raise SideError("history", str(error)) from None
    rows = []
    for commit in commits:
        row: dict[str, Any] = commit.to_dict()
        tree = git(["rev-parse", f"{commit.revision}:{prefix}" if prefix else f"{commit.revision}^{{tree}}"],
                   repo).decode().strip()
        key = (tree, on.isoformat())
        if key not in _CACHE:
            try:
                with open_side(commit.revision, folder, commit.revision[:10]) as side:
                    _CACHE[key] = kpis_of(side, on)
            except EvplatformError as error:
                _CACHE[key] = {"error": str(error)}
            while len(_CACHE) > CACHE_ROWS:
                del _CACHE[next(iter(_CACHE))]
        row.update(_CACHE[key])
        rows.append(row)
    return {"workspace": str(folder), "repository": str(repo), "path": prefix or ".", "date": on.isoformat(),
            "rows": rows}


def csv_rows(data: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The history as a spreadsheet: fixed columns, then unit cost and range per trim."""
    trims = sorted({t for r in data["rows"] for t in r.get("unit_cost", {})})
    header = [*COLUMNS, "error", *(f"unit_cost {t}" for t in trims), *(f"range_km {t}" for t in trims)]
    out = []
    for r in data["rows"]:
        out.append([str(r.get(c, "")) for c in COLUMNS] + [r.get("error", "")]
                   + [str(r.get("unit_cost", {}).get(t, "")) for t in trims]
                   + [str(r.get("range_km", {}).get(t, "")) for t in trims])
    return header, out


def history_chart(data: dict[str, Any], fmt: str = "png") -> bytes:
    """Four panels over the commits: unit cost per trim, range per trim, commonality, features."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in data["rows"] if "error" not in r]
    labels = [r["short"][:7] for r in rows]
    x = list(range(len(rows)))
    fig, axes = plt.subplots(2, 2, figsize=(12, 7), sharex=True)
    trims = sorted({t for r in rows for t in r["unit_cost"]})
    for t in trims:
        axes[0][0].plot(x, [r["unit_cost"].get(t) for r in rows], marker="o", label=t)
        axes[0][1].plot(x, [r["range_km"].get(t) for r in rows], marker="o", label=t)
    axes[0][0].set_title(f"unit cost per trim ({data.get('currency', 'base currency')})")
    axes[0][1].set_title("range per trim (km, base market cycle)")
    for key in ("reuse_part_share", "dci", "tcci", "ci"):
        axes[1][0].plot(x, [r[key] for r in rows], marker="o", label=key)
    axes[1][0].set_title("reuse and commonality (across models)")
    axes[1][1].plot(x, [r["features"] for r in rows], marker="o", label="features")
    axes[1][1].plot(x, [r["compliant"] for r in rows], marker="s", label="compliant trim × markets")
    axes[1][1].set_title("features and compliance")
    for ax in (a for pair in axes for a in pair):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
        ax.set_xticks(x, labels, rotation=45, fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=100)
    plt.close(fig)
    return buffer.getvalue()
