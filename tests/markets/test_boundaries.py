"""Every dated rule of the demo: not in force the day before, in force on the day and the day after.

Parametrised over the demo's regulations × modes, so a new dated row is tested by being added.
Where a trim breaks the rule, its reason (or warning, for unverified rules) appears exactly from
that day.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from evplatform.markets import compliance_report
from evplatform.markets.rules import MODES, applicable_regulations, effective_date
from evplatform.workspace import Workspace, load_workspace
from evplatform.workspace.model import IN_FORCE

DEMO = load_workspace(None)


def dated_rules() -> list[tuple[str, str, str, date]]:
    cases: list[tuple[str, str, str, date]] = []
    for regulation in DEMO.regulations.values():
        market = next(m for m in DEMO.markets if regulation in applicable_regulations(DEMO, m))
        for mode in MODES:
            day = effective_date(regulation, mode)
            if day is not None and day != IN_FORCE:
                cases.append((regulation.id, market, mode, day))
    return cases


CASES = dated_rules()


def test_the_demo_has_dated_rules_in_both_modes() -> None:
    assert len(CASES) >= 40
    assert {mode for _, _, mode, _ in CASES} == set(MODES)


def flagged(report: dict[str, object], regulation: str) -> set[str]:
    """Trims whose verdict cites the regulation, as a reason or a warning."""
    verdicts = report["verdicts"]
    assert isinstance(verdicts, list)
    return {
        f"{v['model']}/{v['trim']}"
        for v in verdicts
        if any(r["regulation"] == regulation for r in v["reasons"] + v["warnings"])
    }


@pytest.mark.parametrize(("regulation", "market", "mode", "day"), CASES,
                         ids=[f"{r}-{m}-{mode}" for r, m, mode, _ in CASES])
def test_day_before_day_of_day_after(demo: Workspace, regulation: str, market: str, mode: str, day: date) -> None:
    before, on, after = (compliance_report(demo, market, day + timedelta(days=k), mode) for k in (-1, 0, 1))
    assert regulation not in before["regulations_in_force"]
    assert regulation in on["regulations_in_force"]
    assert regulation in after["regulations_in_force"]
    rule = demo.regulations[regulation]
    breaking = {t.key for t in demo.sold_in(market) if not rule.requires.evaluate(demo.configuration(t, market))}
    assert flagged(before, regulation) == set()
    assert flagged(on, regulation) == breaking
    assert flagged(after, regulation) == breaking
