"""The roadmap: when each model stops complying, and the cheapest fix from the variability engine."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from evplatform.errors import MarketsError
from evplatform.markets.roadmap import group_markets, roadmap_report
from evplatform.markets.rules import applicable_regulations, in_force
from evplatform.workspace import Workspace, load_workspace
from tiny_workspace import write_tiny_workspace


@pytest.fixture(scope="module")
def su7_eu(demo: Workspace) -> dict[str, Any]:
    report = roadmap_report(demo, ["EU"], modes=("new_types",))
    return next(e for e in report["roadmap"] if e["model"] == "su7")


def test_su7_eu_type_approval_events(su7_eu: dict[str, Any]) -> None:
    assert [e["date"] for e in su7_eu["events"]] == ["2022-07-06", "2024-07-07", "2026-11-29", "2027-02-18"]
    assert [e["new_regulations"] for e in su7_eu["events"]] == [
        ["UN-R155", "UN-R156"], ["EU-GSR2-ADDW"], ["EU-EURO7-BATTERY"], ["EU-BATT-PASSPORT"]]


def test_the_fix_is_the_cheapest_and_it_works(demo: Workspace, su7_eu: dict[str, Any]) -> None:
    fm = demo.feature_model
    last = su7_eu["events"][-1]
    rules = [r for r in applicable_regulations(demo, "EU")
             if r.status == "confirmed" and in_force(r, date(2027, 2, 18), "new_types")]
    for row in last["trims"]:
        trim = demo.trim(f"su7/{row['trim']}")
        before = demo.configuration(trim, "EU")
        after = (before - set(row["removed"])) | set(row["added"])
        assert fm.configuration_errors(after) == []
        assert all(r.requires.evaluate(after) for r in rules)
        assert set(demo.markets["EU"].select) <= after
        # every rule names single features here, so the cheapest fix is exactly what they name
        assert set(row["added"]) == {"ADDW", "BatteryPassport", "BatteryDurabilityMonitor", "RXSWIN",
                                     "SecurityMonitoring"} and row["removed"] == []
        cost = fm.attribute_sum(row["added"], "cost") - fm.attribute_sum(row["removed"], "cost")
        assert row["cost_per_vehicle"] == pytest.approx(cost)
        assert row["cost_per_year"] == pytest.approx(cost * trim.volume_per_year)
    assert last["cost_per_year"] == pytest.approx(sum(r["cost_per_year"] for r in last["trims"]))


def test_fixes_accumulate_and_name_what_is_new(su7_eu: dict[str, Any]) -> None:
    for earlier, later in zip(su7_eu["events"], su7_eu["events"][1:], strict=False):
        for a, b in zip(earlier["trims"], later["trims"], strict=True):
            assert set(a["added"]) <= set(b["added"])
            assert set(b["added_since_previous"]) == set(b["added"]) - set(a["added"])
    assert su7_eu["events"][-1]["trims"][0]["added_since_previous"] == ["BatteryPassport"]


def test_unverified_rules_are_at_risk_unless_counted(demo: Workspace, su7_eu: dict[str, Any]) -> None:
    assert "EU-NG-ECALL" in {r["regulation"] for r in su7_eu["at_risk"]}
    counted = roadmap_report(demo, ["EU"], include_unverified=True, modes=("new_types",))
    entry = next(e for e in counted["roadmap"] if e["model"] == "su7")
    assert entry["at_risk"] == []
    assert "NGECall" in entry["events"][-1]["trims"][0]["added"]
    assert "2026-01-01" in [e["date"] for e in entry["events"]]


def test_as_of_folds_the_past_into_one_event(demo: Workspace) -> None:
    report = roadmap_report(demo, ["EU"], modes=("new_types",), as_of=date(2026, 12, 1))
    entry = next(e for e in report["roadmap"] if e["model"] == "su7")
    assert [e["date"] for e in entry["events"]] == ["2026-12-01", "2027-02-18"]
    assert entry["events"][0]["new_regulations"] == ["EU-GSR2-ADDW", "EU-EURO7-BATTERY", "UN-R155", "UN-R156"]


def test_member_states_that_add_nothing_share_the_eu_roadmap(demo: Workspace) -> None:
    report = roadmap_report(demo, modes=("all",), as_of=date(2026, 12, 1))
    groups = {(g["entry"]["model"], tuple(g["markets"])) for g in group_markets(report)}
    assert ("su7", ("EU", "DE", "FR", "ES", "IT")) in groups and ("su7", ("CN",)) in groups
    risks = {(g["entry"]["model"], tuple(g["markets"])) for g in group_markets(report, on="at_risk")}
    assert ("su7", ("ES",)) in risks  # Spain's own unverified rule sets it apart


def tiny(tmp_path: Path, rows: str) -> Workspace:
    root = write_tiny_workspace(tmp_path)
    (root / "regulations.csv").write_text(
        "id,title,markets,requires,applies_new_types,applies_all,source,status\n" + rows)
    return load_workspace(root)


def test_a_fix_may_remove_features_and_save_money(tmp_path: Path) -> None:
    ws = tiny(tmp_path, "NO-RADIO,No radio,HOME,!Radio,2025-01-01,,made up,confirmed\n")
    entry = next(e for e in roadmap_report(ws, modes=("new_types",))["roadmap"] if e["model"] == "beta")
    (row,) = entry["events"][0]["trims"]
    # Big => Radio: taking the radio out means the small body instead of the big one
    assert row["removed"] == ["Big", "Radio"] and row["added"] == ["Small"]
    assert row["cost_per_vehicle"] == pytest.approx(100 - 150 - 20)


def test_no_possible_fix_is_reported_not_raised(tmp_path: Path) -> None:
    ws = tiny(tmp_path, "BOTH,Both bodies,HOME,Small & Big,2025-01-01,,made up,confirmed\n")
    entry = next(e for e in roadmap_report(ws, modes=("new_types",))["roadmap"] if e["model"] == "alpha")
    (row,) = entry["events"][0]["trims"]
    assert row["cost_per_vehicle"] is None and row["error"]


def test_an_unknown_market_is_a_markets_error(demo: Workspace) -> None:
    with pytest.raises(MarketsError, match="unknown market 'UK'"):
        roadmap_report(demo, ["UK"])
