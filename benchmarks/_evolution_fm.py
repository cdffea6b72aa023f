"""The feature-model part of ``benchmarks/evolution.py``: Automotive02 v1 → v4 with ``compare_models``.

Targets (issue 17 §1): syntactic diff ≤ 1 s, edit class with witnesses ≤ 10 s, exact lost/gained
counts ≤ 60 s, peak memory ≤ 1.5 GB (this process plus the d4 child, by ``getrusage``). The edit
class is also decided the straightforward way in the same run (one SAT call per requirement of the
other version, as FeatureIDE checks an edit) and the two times are given as a ratio, on v1 → v4 and
on v4 → v4 (a refactoring, where the straightforward way must check every requirement).
"""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any

from evplatform.variability._edit_sat import DifferenceFinder, clause_by_clause, union_encoding, witness
from evplatform.variability._edit_syntax import syntax_diff
from evplatform.variability.edits import compare_models
from evplatform.variability.formats import load_model

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "feature-models" / "automotive02"
BASELINE_LIMIT_S = 600.0


def _peak_mb() -> dict[str, float]:
    return {who: round(resource.getrusage(which).ru_maxrss / 1024, 1)
            for who, which in (("self", resource.RUSAGE_SELF), ("d4_child", resource.RUSAGE_CHILDREN))}


def _edit_class_times(a_path: Path, b_path: Path) -> dict[str, Any]:
    """Ours (one SAT call per direction; then with witness shrinking) against one SAT call per requirement.

    Each timing includes encoding both versions over the union (~1 s here), as the comparison must.
    """
    a, b = load_model(a_path), load_model(b_path)
    started = time.perf_counter()
    union = union_encoding(a, b)
    lost = witness(union, union.a, union.b, time.perf_counter() + 30)
    gained = witness(union, union.b, union.a, time.perf_counter() + 30)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    union = union_encoding(a, b)
    for x, y in ((union.a, union.b), (union.b, union.a)):
        with DifferenceFinder(union, x, y) as finder:
            finder.find()
    ours_exists = time.perf_counter() - started
    started = time.perf_counter()
    deadline = started + BASELINE_LIMIT_S
    union = union_encoding(a, b)
    naive_lost = clause_by_clause(union, union.a, union.b, deadline)
    naive_gained = clause_by_clause(union, union.b, union.a, deadline)
    naive = time.perf_counter() - started
    settled = naive_lost is not None and naive_gained is not None
    if settled and (naive_lost, naive_gained) != (lost is not None, gained is not None):
        raise SystemExit(f"edit class disagrees: ours {lost is not None, gained is not None}, "
                         f"clause by clause {naive_lost, naive_gained}")
    return {"pair": f"{a_path.name} → {b_path.name}", "ours_s": round(ours, 3), "ours_exists_s": round(ours_exists, 3),
            "clause_by_clause_s": round(naive, 3) if settled else None,
            "clause_by_clause_note": None if settled else f"> {BASELINE_LIMIT_S:.0f} s",
            "ratio": round(naive / ours_exists, 1),
            "requirements": len(union.b.requirements) + len(union.a.requirements)}


def run(time_limit_s: float = 120.0) -> dict[str, Any]:
    """All figures for the fm part; raises ``SystemExit`` when the data is absent."""
    v1, v4 = DATA / "automotive02_v1.featureide.xml", DATA / "automotive02_v4.featureide.xml"
    if not v1.exists():
        raise SystemExit(f"reference data not found: {v1}")
    started = time.perf_counter()
    a, b = load_model(v1), load_model(v4)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    syntax = syntax_diff(a, b)
    syntax_s = time.perf_counter() - started
    started = time.perf_counter()
    result = compare_models(a, b, time_limit_s=time_limit_s)
    total_s = time.perf_counter() - started
    payload = result.to_dict()
    full_count_s = sum(v for k, v in result.seconds.items() if k.startswith("count_full"))
    return {
        "pair": "Automotive02 v1 → v4 (FeatureIDE XML)",
        "features": [len(a), len(b)],
        "load_s": round(load_s, 3),
        "syntactic_diff_s": round(syntax_s, 3),
        "edits": {k: payload[k] for k in ("features_added", "features_removed", "features_moved",
                                          "constraints_added", "constraints_removed")}
        | {"group_changes": len(syntax.groups), "attribute_changes": len(syntax.attributes)},
        "edit_class": payload["edit_class"],
        "edit_class_with_witnesses_s": round(result.seconds["edit_class"], 3),
        "projected_edit_class": payload["projected"]["edit_class"],
        "projected_edit_class_s": round(result.seconds["projected_class"], 3),
        "full_counts_s": round(full_count_s, 3),
        "counts": {k: payload[k] for k in ("count_a", "count_b", "lost_count", "gained_count")},
        "projected_counts": {k: payload["projected"][k] for k in ("count_a", "count_b", "lost_count",
                                                                  "gained_count", "count_note")},
        "seconds": payload["seconds"],
        "compare_models_s": round(total_s, 3),
        "peak_mb": _peak_mb(),
        "baseline": [_edit_class_times(v1, v4), _edit_class_times(v4, v4)],
    }


def magnitude(value: str | None) -> str:
    return "—" if value is None else f"{value[0]}.{value[1:3]}e{len(value) - 1} ({len(value)} digits)"


def table(r: dict[str, Any]) -> str:
    """The Markdown rows for BENCHMARKS.md."""
    counts = r["counts"]
    proj = r["projected_counts"]
    rows = [
        "| figure | measured | target | met |",
        "|---|---:|---|---|",
        f"| load both XML files | {r['load_s']:.2f} s | — | — |",
        f"| syntactic diff | {r['syntactic_diff_s']:.2f} s | ≤ 1 s | {_met(r['syntactic_diff_s'] <= 1)} |",
        f"| edit class with minimal witnesses ({r['edit_class']}) | {r['edit_class_with_witnesses_s']:.2f} s "
        f"| ≤ 10 s | {_met(r['edit_class_with_witnesses_s'] <= 10)} |",
        f"| projected edit class ({r['projected_edit_class']}) | {r['projected_edit_class_s']:.2f} s | — | — |",
        f"| exact lost/gained counts, full semantics (d4: #A, #B) | {r['full_counts_s']:.2f} s | ≤ 60 s | "
        f"{_met(r['full_counts_s'] <= 60)} |",
        f"| whole `compare_models` (counts of both semantics, analyses) | {r['compare_models_s']:.1f} s | — | — |",
        f"| peak memory: process / d4 child | {r['peak_mb']['self']:,.0f} MB / {r['peak_mb']['d4_child']:,.0f} MB "
        f"| ≤ 1.5 GB | {_met(max(r['peak_mb'].values()) <= 1536)} |",
    ]
    for b in r["baseline"]:
        naive = b["clause_by_clause_note"] if b["clause_by_clause_s"] is None else f"{b['clause_by_clause_s']:.2f} s"
        rows.append(f"| edit class (lost/gained exist), ours vs one SAT call per requirement "
                    f"({b['requirements']:,}), {b['pair']} | {b['ours_exists_s']:.2f} s vs {naive} ({b['ratio']}×); "
                    f"with witnesses {b['ours_s']:.2f} s | — | — |")
    rows.append(f"\nfull: lost {magnitude(counts['lost_count'])}, gained {magnitude(counts['gained_count'])}; "
                f"projected: A {magnitude(proj['count_a'])}, B {magnitude(proj['count_b'])}, "
                f"lost {magnitude(proj['lost_count'])}, gained {magnitude(proj['gained_count'])}"
                + (f" ({proj['count_note']})" if proj["count_note"] else ""))
    return "\n".join(rows)


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"
