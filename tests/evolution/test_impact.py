"""The impact of known edits of the demo, each asserted (two folders, no git)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from evolution_support import copy_demo, edited_demo
from evplatform.evolution import ImpactOptions, compare_sides, gate, open_side
from evplatform.evolution.markdown import render_diff, render_gate
from evplatform.workspace import demo_path

ON = date(2027, 6, 1)


@pytest.fixture(scope="module")
def after_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return edited_demo(tmp_path_factory.mktemp("evo") / "after")


@pytest.fixture(scope="module")
def report(after_folder: Path) -> Iterator[dict[str, Any]]:
    with (open_side(str(demo_path()), demo_path(), "before") as a,
          open_side(str(after_folder), demo_path(), "after") as b):
        yield compare_sides(a, b, ImpactOptions(on=ON, draws=400, seed=3))


def row(report: dict[str, Any], trim: str, market: str) -> dict[str, Any]:
    [found] = [r for r in report["trims"] if r["trim"] == trim and r["market"] == market]
    return dict(found)


def test_a_part_price_change_moves_the_bom_and_unit_cost_of_the_trims_that_use_it(report: dict[str, Any]) -> None:
    pro = row(report, "su7/pro", "CN")
    assert pro["bom_cost"]["delta"] == 1000.0 and pro["unit_cost"]["delta"] == pytest.approx(1000.0, abs=1)
    assert pro["parts_added"] == [] and pro["parts_removed"] == [] and pro["valid"] == {"before": True, "after": True}
    yu7 = row(report, "yu7/standard", "CN")  # the SUV has no sedan body
    assert yu7["bom_cost"]["delta"] == 0.0 and yu7["mass_kg"]["delta"] == 0.0


def test_a_new_feature_is_listed(report: dict[str, Any]) -> None:
    fm = report["feature_model"]
    assert fm["names"]["features_added"] == ["DashCam"] and fm["names"]["features_removed"] == []
    assert fm["names"]["constraints_added"] == ["Pack_LFP_73 => Telematics5G"]
    assert fm["features_b"] == fm["features_a"] + 1 and fm["features_added"] == 1
    # the semantic comparison: DashCam gains configurations, the telematics rule loses some
    assert fm["semantic"] is True and fm["edit_class"] == "arbitrary"
    assert fm["lost_exists"] is True and set(fm["witness_lost"]) >= {"Pack_LFP_73", "Telematics4G"}
    assert int(fm["lost_count"]) > 0 and int(fm["gained_count"]) > 0


def test_a_constraint_that_makes_a_trim_invalid_names_file_line_and_the_closest_valid_configuration(
    report: dict[str, Any],
) -> None:
    std = row(report, "su7/standard", "CN")
    assert std["valid"] == {"before": True, "after": False}
    problem = std["invalid"]["after"]
    assert problem["file"].endswith("models/su7.yaml") and problem["line"] == 8
    assert "Pack_LFP_73 => Telematics5G" in problem["error"]
    assert problem["closest"]["added"] == ["Telematics5G"] and problem["closest"]["removed"] == ["Telematics4G"]
    assert problem["closest"]["cost_delta"] == 570.0  # 1,250 − 680
    assert "su7/standard@CN" in report["summary"]["became_invalid"]
    # costed in its closest valid configuration: the 5G module replaces the 4G one (with its supplier)
    assert [p["part_no"] for p in std["parts_added"]] == ["MD-CON-0020"] and std["parts_added"][0]["supplier"]
    assert std["software"]["incompatible_ecus"] == ["telematics"]
    eu, cn = row(report, "su7/standard", "EU")["software"], row(report, "su7/standard", "CN")["software"]
    assert eu["rxswin_must_change"] is True and eu["software_id"] == "R156"
    assert cn["rxswin_must_change"] is True and cn["software_id"] == "CN-GB44496"  # GB 44496's SWIN
    assert row(report, "su7/pro", "CN")["software"]["rxswin_must_change"] is False  # same software
    lost = {c["component"]: c for c in report["software_selection"]}
    assert "su7/standard@CN" in lost["tbox-4g"]["lost"]


def test_removing_a_regulation_relevant_feature_breaks_the_regulation_with_the_reason(report: dict[str, Any]) -> None:
    pro = row(report, "su7/pro", "EU")
    for mode in ("new_types", "all"):
        gained = pro["compliance"][mode]["reasons_gained"]
        assert [r["regulation"] for r in gained] == ["EU-GSR2-ISA"] and gained[0]["missing"] == ["ISA"]
        assert pro["compliance"][mode]["changed"] is True
    assert [p["part_no"] for p in pro["parts_removed"]] == ["MD-SOF-0030"]
    assert pro["parts_removed"][0]["supplier"] == "Xiaomi EV (in-house)"
    assert row(report, "su7/pro", "CN")["compliance"]["new_types"]["reasons_gained"] == []


def test_roadmap_events_that_move_are_listed(report: dict[str, Any]) -> None:
    """ISA no longer selected in the EU: every roadmap event of the EU models from the date on now also fails
    EU-GSR2-ISA for each trim (and in the member-state markets that inherit the EU's selections); CN's do not move."""
    moves = report["roadmap_moves"]
    assert "EU" in {m["market"] for m in moves} and "CN" not in {m["market"] for m in moves}
    first = next(m for m in moves if (m["model"], m["mode"], m["date"]) == ("su7", "new_types", "2027-06-01"))
    assert {t["trim"]: (t["breaks"], t["no_longer_breaks"]) for t in first["trims"]} == {
        trim: (["EU-GSR2-ISA"], []) for trim in ("standard", "pro", "max")}
    assert "EU-GSR2-ISA" not in first["before"]["pro"] and "EU-GSR2-ISA" in first["after"]["pro"]
    text = render_diff(report)
    assert "### Compliance roadmap" in text and "su7 in EU, new types, 2027-06-01: standard +EU-GSR2-ISA" in text


def test_simulation_runs_on_the_markets_homologation_cycle(report: dict[str, Any]) -> None:
    eu, cn = row(report, "su7/pro", "EU")["simulation"], row(report, "su7/pro", "CN")["simulation"]
    assert eu["cycle"] == "wltc" and cn["cycle"] == "cltc"
    assert eu["range_km"]["before"] > 500 and cn["range_km"]["before"] > eu["range_km"]["before"]
    for key in ("consumption_kwh_per_100km", "accel_0_100_s", "charge_10_80_min"):
        assert eu[key]["before"] is not None and eu[key]["after"] is not None


def test_platform_kpis_and_npv_before_and_after(report: dict[str, Any]) -> None:
    p = report["platform"]
    assert set(p) >= {"reuse_part_share", "dci", "tcci", "ci", "ci_c", "platform_saving"}
    assert all(p[k]["before"] is not None and p[k]["after"] is not None for k in p)
    npv = report["npv_p50"]
    assert npv["draws"] == 400 and npv["seed"] == 3
    assert npv["before"]["platform"] != npv["after"]["platform"]  # the body costs more on every sedan


def test_markdown_is_a_pr_comment(report: dict[str, Any]) -> None:
    text = render_diff(report)
    assert text.startswith("## Platform impact") and "| su7/standard | CN | ✅ → ❌ |" in text
    assert "EU-GSR2-ISA" in text and "400 Monte Carlo draws, seed 3" in text and "MD-SOF-0030" in text


def test_gate_lists_each_failure(report: dict[str, Any], after_folder: Path) -> None:
    with (open_side(str(demo_path()), demo_path(), "before") as a,
          open_side(str(after_folder), demo_path(), "after") as b):
        strict = gate(report, a, b, max_cost_increase=0.001)
        loose = gate(report, a, b, max_cost_increase=0.5, allow_specialisation=True)
    rules = {f["rule"] for f in strict.failures}
    assert rules == {"trim-invalid", "regulation-broken", "unit-cost", "configurations-removed"}
    assert {f["rule"] for f in loose.failures} == {"trim-invalid", "regulation-broken"}
    assert "❌ Platform gate failed" in render_gate(report, strict)


def test_gate_says_which_criteria_the_time_limit_left_unchecked(report: dict[str, Any], after_folder: Path) -> None:
    """Feature-model checks stopped by their time limit: the criteria that need them are listed as not
    checked, with the reason, never passed silently; the other criteria still fail."""
    note = "not decided in 0.1 s"
    fm = {**report["feature_model"], "edit_class": None, "lost_exists": None, "gained_exists": None,
          "edit_class_note": note, "analyses": {}, "analyses_note": note}
    undecided = {**report, "feature_model": fm}
    with (open_side(str(demo_path()), demo_path(), "before") as a,
          open_side(str(after_folder), demo_path(), "after") as b):
        result = gate(undecided, a, b, max_cost_increase=0.5)
    assert f"dead features: {note}" in result.skipped and "dead features" not in result.checked
    assert any(s.startswith("configurations removed") and note in s for s in result.skipped)
    assert {f["rule"] for f in result.failures} == {"trim-invalid", "regulation-broken"}
    text = render_gate(undecided, result)
    assert f"not checked: dead features: {note}" in text and f"edit class: unknown ({note})" in text


def test_an_unchanged_workspace_passes_the_gate(tmp_path: Path) -> None:
    same = copy_demo(tmp_path / "same")
    with open_side(str(demo_path()), demo_path(), "before") as a, open_side(str(same), demo_path(), "after") as b:
        report = compare_sides(a, b, ImpactOptions(on=ON, economics=False, simulate=False))
        result = gate(report, a, b)
    assert result.passed and report["summary"]["changed"] == 0


def test_software_identification_follows_the_fleet_registrys_rule() -> None:
    from evplatform.evolution.impact import software_id_key
    from evplatform.fleet.registry import software_id_keys
    from evplatform.workspace import load_workspace

    ws = load_workspace()
    assert {m: software_id_key(ws, m) for m in ws.markets} == software_id_keys(ws)
