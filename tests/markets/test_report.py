"""The `comply` JSON payload keeps DESIGN.md's shape (keys may be added, never renamed)."""

from __future__ import annotations

import json
from datetime import date

from evplatform.markets import compliance_matrix, compliance_report
from evplatform.workspace import Workspace


def test_comply_shape(demo: Workspace) -> None:
    report = compliance_report(demo, "ES", date(2027, 3, 1), "all")
    assert json.loads(json.dumps(report)) == report  # plain JSON values only
    assert {"market", "date", "verdicts"} <= report.keys()
    assert report["market"] == "ES" and report["date"] == "2027-03-01" and report["mode"] == "all"
    assert len(report["verdicts"]) == len(demo.trims())
    for verdict in report["verdicts"]:
        assert {"model", "trim", "status", "reasons"} <= verdict.keys()
        assert verdict["status"] in ("compliant", "non-compliant", "not-applicable")
        for reason in verdict["reasons"] + verdict["warnings"]:
            assert {"regulation", "missing", "violating", "title", "source", "status", "applies_from"} <= reason.keys()
    counts = report["summary"]
    assert sum(counts.values()) == len(report["verdicts"])
    assert counts["non-compliant"] == sum(v["status"] == "non-compliant" for v in report["verdicts"])


def test_spain_adds_its_own_rule_as_a_warning(demo: Workspace) -> None:
    report = compliance_report(demo, "ES", date(2026, 1, 1), "all")
    assert "ES-V16-BEACON" in report["regulations_in_force"]
    assert "ES-V16-BEACON" in {w["regulation"] for w in report["warnings"]}
    de = compliance_report(demo, "DE", date(2026, 1, 1), "all")
    assert "ES-V16-BEACON" not in de["regulations_in_force"]


def test_in_force_dates_are_written_as_such(demo: Workspace) -> None:
    report = compliance_report(demo, "EU", date(2027, 3, 1))
    yu7_max = next(v for v in report["verdicts"] if (v["model"], v["trim"]) == ("yu7", "max"))
    r79 = next(r for r in yu7_max["reasons"] if r["regulation"] == "UN-R79")
    assert r79["applies_new_types"] == "in force" and r79["applies_from"] == "in force"


def test_matrix_has_every_market_in_both_modes(demo: Workspace) -> None:
    matrix = compliance_matrix(demo, date(2027, 3, 1))
    assert [m["market"] for m in matrix["markets"]] == list(demo.markets)
    assert all(set(m["modes"]) == {"new_types", "all"} for m in matrix["markets"])


def test_notes_are_split_from_the_source(demo: Workspace) -> None:
    report = compliance_report(demo, "EU", date(2027, 3, 1))
    su7 = next(v for v in report["verdicts"] if (v["model"], v["trim"]) == ("su7", "standard"))
    ng = next(r for r in su7["warnings"] if r["regulation"] == "EU-NG-ECALL")
    assert ng["source"].startswith("Del.Reg (EU) 2024/1180") and "note:" not in ng["source"]
    assert "verify against the OJ text" in ng["notes"]
