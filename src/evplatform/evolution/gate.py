"""The CI gate: does a change break something the platform promised?

A change fails the gate when it (1) introduces dead features, (2) makes a configured trim × market
invalid, (3) breaks a confirmed regulation in force on the date in a market where the trim is
sold (either mode: new types or all registrations), (4) raises a trim's unit cost in the base
market by more than the allowed share, or (5) removes valid configurations of the feature model
while only generalisations and refactorings are allowed (criterion 5 needs the semantic
comparison; without it the result lists it under ``skipped``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evplatform.evolution.revisions import Side
from evplatform.variability.analysis import dead_features
from evplatform.variability.cnf import encode


@dataclass(frozen=True)
class GateResult:
    failures: list[dict[str, str]] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "failures": self.failures, "checked": self.checked, "skipped": self.skipped}


def _dead(side: Side) -> set[str]:
    return set(dead_features(encode(side.workspace.feature_model)))


def _new_dead(report: dict[str, Any], before: Side, after: Side) -> list[str] | None:
    """Features dead after the change and not before: from the diff's analyses when it made them, else
    computed here (the semantic comparison failed); ``None`` when its time limit stopped them."""
    edit = report["feature_model"]
    if edit.get("semantic") and edit.get("analyses"):
        return list(edit["analyses"]["dead"]["appeared"])
    if edit.get("analyses_note"):
        return None
    return sorted(_dead(after) - _dead(before))


def gate(report: dict[str, Any], before: Side, after: Side, *, max_cost_increase: float = 0.01,
         allow_specialisation: bool = False) -> GateResult:
    """Apply every criterion to an impact report (``compare_sides``) of ``before`` → ``after``."""
    result = GateResult()
    fail = result.failures
    dead = _new_dead(report, before, after)
    if dead is None:
        result.skipped.append(f"dead features: {report['feature_model']['analyses_note']}")
    else:
        result.checked.append("dead features")
    for feature in dead or ():
        fail.append({"rule": "dead-feature", "subject": feature,
                     "message": f"feature {feature} can no longer be selected in any configuration"})
    result.checked.append("trims valid")
    result.checked.append("confirmed regulations in force on " + report["date"])
    result.checked.append(f"unit cost increase ≤ {max_cost_increase:.2%}")
    base = after.workspace.platform.base_market
    for row in report["trims"]:
        _row_failures(row, base, max_cost_increase, fail)
    edit = report["feature_model"]
    if allow_specialisation:
        result.checked.append("configurations removed (allowed: --allow-specialisation)")
    elif not edit.get("semantic") or edit.get("lost_exists") is None:
        result.skipped.append("configurations removed: the semantic feature-model comparison did not settle "
                              f"({edit.get('semantic_error') or edit.get('edit_class_note') or 'time limit'})")
    else:
        result.checked.append("no configurations removed (generalisations and refactorings only)")
        if edit.get("lost_exists"):
            witness = edit.get("witness_lost")
            lost = edit.get("lost_count")
            lost = f"{int(lost):,}" if lost is not None else None
            fail.append({"rule": "configurations-removed", "subject": str(edit.get("edit_class")),
                         "message": f"the edit is a {edit.get('edit_class')}: it removes valid configurations"
                                    + (f" (lost: {lost})" if lost is not None else "")
                                    + (f", e.g. {_witness(witness)}" if witness else "")})
    return result


def _witness(witness: Any) -> str:
    if isinstance(witness, (list, tuple, set, frozenset)):
        items = sorted(str(w) for w in witness)
        return "{" + ", ".join(items[:12]) + (", …" if len(items) > 12 else "") + "}"
    return str(witness)


def _row_failures(row: dict[str, Any], base: str, max_cost_increase: float, fail: list[dict[str, str]]) -> None:
    where = f"{row['trim']}@{row['market']}"
    if row["configured"]["after"] and not row["valid"]["after"]:
        problem = row["invalid"]["after"] or {}
        at = ":".join(str(p) for p in (problem.get("file"), problem.get("line")) if p is not None)
        fail.append({"rule": "trim-invalid", "subject": where,
                     "message": f"{where} is not a valid configuration{' (' + at + ')' if at else ''}: "
                                f"{problem.get('error', '')}"})
    if row["sold"]["after"]:
        for mode, cell in row["compliance"].items():
            if cell["after"] != "non-compliant":
                continue
            for reason in cell["reasons_gained"]:
                fail.append({"rule": "regulation-broken", "subject": where,
                             "message": f"{where} breaks {reason['regulation']} ({mode.replace('_', ' ')}, in force "
                                        f"from {reason['applies_from']}): missing {', '.join(reason['missing']) or '–'}"
                                        f"; violating {', '.join(reason['violating']) or '–'}"})
    cost = row["unit_cost"]
    if row["market"] == base and cost["before"] and cost["delta"] is not None:
        share = cost["delta"] / cost["before"]
        if share > max_cost_increase:
            fail.append({"rule": "unit-cost", "subject": row["trim"],
                         "message": f"{row['trim']} unit cost +{cost['delta']:,.2f} ({share:+.2%}) in {base}, "
                                    f"above the allowed {max_cost_increase:+.2%}"})
