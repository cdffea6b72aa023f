"""Variability engine against flamapy 2.6.0 on industrial feature models (issue 3's targets).

Command: ``.venv/bin/python benchmarks/variability.py [--anchor-timeout S] [--rows NAME,...]``;
results in ``benchmarks/results/variability.json``, a Markdown table on stdout.

Each figure is one fresh process (``_variability_ours.py`` in the project's environment,
``_variability_flamapy_runner.py`` in flamapy's own virtualenv), so load, encoding and peak memory
are each operation's own. flamapy runs under a wall-clock limit (default 120 s, below the issue's
600 s to keep ``make bench`` bounded: a "> 120 s" is a lower bound on its time) and an 8 GiB
address-space cap. Where both finish, the results are compared like with like (same file, same
semantics) and a disagreement fails the benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _variability_flamapy import AnchorRun, ensure_flamapy, run_flamapy  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data" / "feature-models"
OURS = HERE / "_variability_ours.py"


@dataclass(frozen=True)
class Row:
    """One line of the issue's target table."""

    name: str
    label: str
    file: str
    op: str
    target_s: float
    anchor_op: str | None
    exclude_load: bool = False
    metric: str = "seconds"
    max_configs: int | None = None  # a sample row also needs this size and full coverage to meet its target


ROWS = (
    Row("load", "load (UVL)", "automotive02/automotive02_v4.uvl", "load", 1.0, "load"),
    Row("core-dead", "core + dead, incl. load", "automotive02/automotive02_v4.uvl", "core+dead", 2.0, "core+dead"),
    Row("false-optional", "false-optional (after load)", "automotive02/automotive02_v4.uvl", "false-optional", 3.0,
        "false-optional", exclude_load=True),
    Row("propagation", "one propagation step, median of 20 (complete answer)", "automotive02/automotive02_v4.uvl",
        "propagation", 0.1, None, metric="full_median_ms"),
    Row("completion", "min-cost completion (solve)", "automotive02/automotive02_v4.uvl", "completion", 3.0, None,
        metric="solve_seconds"),
    Row("linux", "core, dead, false-optional, incl. load", "linux/linux-2.6.33.3.featureide.xml",
        "core+dead+false-optional", 10.0, "core+dead+false-optional"),
    Row("count-a01", "exact count", "automotive01/automotive01.featureide.xml", "count", 1.0, "count"),
    Row("count-a02", "exact count", "automotive02/automotive02_v4.uvl", "count", 10.0, "count"),
    Row("pairwise", "pairwise sample", "automotive01/automotive01.featureide.xml", "pairwise", 60.0, "pairwise",
        max_configs=60),
)


def _loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def run_ours(path: Path, op: str, timeout_s: float) -> AnchorRun:
    """Our operation in a fresh process of the project's interpreter."""
    request = json.dumps({"path": str(path), "op": op, "t": 2, "seed": 7})
    try:
        done = subprocess.run([sys.executable, str(OURS)], input=request, capture_output=True, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return AnchorRun(op, None, failure=f"> {timeout_s:.0f} s (timed out)")
    if done.returncode != 0:
        return AnchorRun(op, None, failure=(done.stderr.strip().splitlines() or ["error"])[-1][:160])
    answer = json.loads(done.stdout)
    return AnchorRun(op, float(answer["seconds"]), result=answer, peak_mb=answer.get("peak_mb"))


def _seconds(run: AnchorRun, row: Row) -> float | None:
    if run.failure is not None or run.seconds is None:
        return None
    answer = run.result if isinstance(run.result, dict) and "seconds" in run.result else None
    if row.metric == "full_median_ms" and answer is not None:
        return float(answer["result"]["full_median_ms"]) / 1000
    if row.metric != "seconds" and answer is not None:
        return float(answer[row.metric])
    if row.exclude_load and answer is not None:
        return run.seconds - float(answer.get("load_seconds", 0.0))
    return run.seconds


def _met(row: Row, ours: AnchorRun, seconds: float | None) -> bool:
    """Time and memory within the target; a sample also its size and 100 % coverage."""
    if seconds is None or seconds > row.target_s or (ours.peak_mb or 0) > 1024:
        return False
    if row.max_configs is None:
        return True
    result = ours.result["result"] if isinstance(ours.result, dict) else {}
    return bool(result["coverage"] == 1.0 and result["configurations"] <= row.max_configs)


def _anchor_seconds(run: AnchorRun, row: Row, load_s: float | None) -> float | None:
    if run.failure is not None or run.seconds is None:
        return None
    if row.exclude_load and load_s is not None:
        return run.seconds - load_s
    return run.seconds


def _normalise(result: Any) -> Any:
    if isinstance(result, dict):
        return {k: _normalise(v) for k, v in sorted(result.items())}
    if isinstance(result, list):
        return sorted((_normalise(v) for v in result), key=json.dumps)
    return result


def _agreement(row: Row, ours: AnchorRun, anchor: AnchorRun) -> str:
    """'same' / 'differs: …' / '—' where only one side has a result to compare."""
    if ours.failure or anchor.failure or row.op in ("load", "pairwise", "propagation", "completion"):
        return "—"
    mine = ours.result["result"] if isinstance(ours.result, dict) else ours.result
    return "same" if _normalise(mine) == _normalise(anchor.result) else "DIFFERS"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--anchor-timeout", type=float, default=120.0)
    parser.add_argument("--ours-timeout", type=float, default=600.0)
    parser.add_argument("--rows", default="", help="comma-separated row names (default: all)")
    args = parser.parse_args(argv)
    if not DATA.exists():
        print(f"skipped: {DATA} is absent (the shared reference data)")
        return 0
    python, anchor_note = ensure_flamapy()
    print(f"anchor: {anchor_note}; load average {_loadavg()}", flush=True)
    wanted = {n for n in args.rows.split(",") if n}
    records: list[dict[str, Any]] = []
    anchor_loads: dict[str, float] = {}
    for row in ROWS:
        if wanted and row.name not in wanted:
            continue
        path = DATA / row.file
        ours = run_ours(path, row.op, args.ours_timeout)
        anchor = AnchorRun(row.op, None, failure="not measured (no flamapy equivalent)")
        if python is not None and row.anchor_op is not None:
            anchor = run_flamapy(python, path, row.anchor_op, args.anchor_timeout)
            if row.op == "load" and anchor.seconds is not None:
                anchor_loads[row.file] = anchor.seconds
        elif python is None:
            anchor = AnchorRun(row.op, None, failure=anchor_note)
        mine_s = _seconds(ours, row)
        theirs_s = _anchor_seconds(anchor, row, anchor_loads.get(row.file))
        records.append({
            "row": row.name, "operation": row.label, "model": row.file, "ours_seconds": mine_s,
            "ours_failure": ours.failure, "ours_peak_mb": ours.peak_mb, "target_seconds": row.target_s,
            "met": _met(row, ours, mine_s),
            "flamapy_seconds": theirs_s, "flamapy": anchor.describe(), "flamapy_peak_mb": anchor.peak_mb,
            "ratio": (theirs_s / mine_s) if mine_s and theirs_s else None,
            "agreement": _agreement(row, ours, anchor),
            "details": ours.result.get("result") if isinstance(ours.result, dict) and row.op in (
                "propagation", "pairwise", "completion") else None,
            "loadavg": _loadavg(),
        })
        print(json.dumps(records[-1], default=str), flush=True)
    _print_table(records)
    out = HERE / "results" / "variability.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                               "cores": os.cpu_count(), "anchor": anchor_note, "rows": records}, indent=2,
                              default=str) + "\n")
    return 1 if any(r["agreement"] == "DIFFERS" for r in records) else 0


def _fmt(seconds: float | None, failure: str | None) -> str:
    return failure or "—" if seconds is None else (f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s")


def _print_table(records: list[dict[str, Any]]) -> None:
    print("\n| operation | model | evplatform | peak MB | target | met | flamapy 2.6 | ratio | results |")
    print("|---|---|---|---:|---|---|---|---:|---|")
    for r in records:
        ratio = f"{r['ratio']:.0f}×" if r["ratio"] else ("> " + f"{120 / r['ours_seconds']:.0f}×" if r[
            "ours_seconds"] and "timed out" in str(r["flamapy"]) else "—")
        print(f"| {r['operation']} | {Path(r['model']).name} | {_fmt(r['ours_seconds'], r['ours_failure'])} | "
              f"{r['ours_peak_mb'] or 0:.0f} | ≤ {_fmt(r['target_seconds'], None)} | {'yes' if r['met'] else 'NO'} | "
              f"{_fmt(r['flamapy_seconds'], r['flamapy'])} | {ratio} | {_results(r)} |")


def _results(record: dict[str, Any]) -> str:
    """The agreement, or for a sample its size against the lower bound and its coverage."""
    details = record.get("details") or {}
    if "lower_bound" in details:
        return (f"{details['configurations']} configurations (any full sample needs ≥ {details['lower_bound']}), "
                f"{100 * details['coverage']:.1f} % of {details['valid_pairs']:,} valid pairs")
    return str(record["agreement"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
