"""scenarios.yaml: the demo's scenarios side by side, and every bad file naming file:line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from evplatform.errors import InsightsError, WorkspaceError
from evplatform.insights import scenarios_report
from evplatform.insights.errors import InsightsSourceError
from evplatform.insights.scenarios import load_scenarios
from evplatform.workspace import load_workspace


@pytest.fixture(scope="module")
def report() -> dict:
    return scenarios_report(None, draws=4_000, seed=5, sobol_samples=128)


def test_demo_compares_the_three_named_scenarios_with_the_plan(report: dict) -> None:
    names = [s["name"] for s in report["scenarios"]]
    assert names == ["plan", "max-range", "ai-autonomous", "connected-services"]
    assert [c["name"] for c in report["comparison"]] == names
    for scenario in report["scenarios"]:
        npv = scenario["npv"]
        assert npv["draws"] == 4_000
        assert npv["platform"]["p5"] < npv["platform"]["p50"] < npv["platform"]["p95"]
        assert 0 <= npv["probability_loss"] <= 1 and 0 <= npv["probability_platform_worse"] <= 1
        assert scenario["tornado"]["platform"]["bars"] and scenario["sobol"]["platform"]
        assert 0 <= scenario["feasibility"] <= 1
    plan, ai = report["scenarios"][0], report["scenarios"][2]
    assert plan["impact"]["mean_npv_change"] == 0.0
    assert ai["impact"]["expected_npv_change"] == pytest.approx(ai["impact"]["mean_npv_change"] * 0.5)
    assert "extra_development" in ai["overrides"] and ai["inputs"]["extra_development"]["dist"] == "lognormal"
    assert report["currency"] == "CNY"


def test_report_is_reproducible_and_selects_by_name() -> None:
    a = scenarios_report(None, draws=2_000, seed=1, names=["connected-services"], sobol_samples=64)
    b = scenarios_report(None, draws=2_000, seed=1, names=["connected-services"], sobol_samples=64)
    assert a == b
    assert [s["name"] for s in a["scenarios"]] == ["connected-services"]


def test_unknown_scenario_names_the_file() -> None:
    with pytest.raises(InsightsError, match=r"unknown scenario.*'moonshot'.*known: plan") as error:
        scenarios_report(None, draws=10, names=["moonshot"])
    assert isinstance(error.value, InsightsSourceError)
    assert error.value.file is not None and error.value.file.endswith("scenarios.yaml")


def _break(root: Path, old: str, new: str) -> int:
    path = root / "scenarios.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return text[: text.index(old)].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("volume_factor: {dist: pert, min: 0.55, mode: 0.95, max: 1.25}",
         "volume_factor: {dist: pert, min: 1.55, mode: 0.95, max: 1.25}", "volume_factor: min 1.55 > max 1.25"),
        ("bom_cost_factor: {dist: triangular, min: 0.92, mode: 1.0, max: 1.10}",
         "bom_cost_factor: {dist: triangular, min: 0.92, max: 1.10}", "bom_cost_factor: triangular needs 'mode'"),
        ("discount_rate: {dist: pert,", "discount_rat: {dist: pert,", "unknown input 'discount_rat'"),
        ("development_factor: {dist: lognormal, median: 1.10, sigma: 0.20}",
         "development_factor: {dist: lognormal, median: -1.10, sigma: 0.20}",
         r"development_factor: .*median must be > 0"),
        ("scale_elasticity: {dist: triangular, min: 0.04, mode: 0.08, max: 0.14}",
         "scale_elasticity: {dist: lognormal, median: 0.08, sigma: 0.3}", "scale_elasticity: values must lie within"),
        ("net_price_share: 0.885", "net_price_share: high", "net_price_share: expected a number"),
    ],
)
def test_bad_figures_name_file_line_and_field(demo_copy: Path, old: str, new: str, message: str) -> None:
    line = _break(demo_copy, old, new)
    with pytest.raises(WorkspaceError, match=message) as error:
        load_scenarios(load_workspace(demo_copy))
    assert error.value.file == str(demo_copy / "scenarios.yaml")
    assert error.value.line == line


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("feasibility: 0.8 ", "feasibility: 1.8 ", "feasibility must be a probability"),
        ("features: [Pack_NMC_101_7, HV800]", "features: [Pack_NMC_200, HV800]", "unknown feature 'Pack_NMC_200'"),
        ("    title: Max range", "    titel: Max range", "unknown key.*titel"),
        ("horizon_years: 6 ", "horizon_years: 6.5 ", "horizon_years must be a whole number"),
    ],
)
def test_bad_scenarios_name_file_and_line(demo_copy: Path, old: str, new: str, message: str) -> None:
    line = _break(demo_copy, old, new)
    with pytest.raises(WorkspaceError, match=message) as error:
        load_scenarios(load_workspace(demo_copy))
    assert error.value.file == str(demo_copy / "scenarios.yaml")
    assert error.value.line is not None and abs(error.value.line - line) <= 2


def test_missing_file_and_empty_scenarios(demo_copy: Path) -> None:
    (demo_copy / "scenarios.yaml").write_text("horizon_years: 3\nscenarios: {}\n")
    with pytest.raises(WorkspaceError, match="at least one"):
        load_scenarios(load_workspace(demo_copy))
    (demo_copy / "scenarios.yaml").unlink()
    with pytest.raises(WorkspaceError, match=r"missing scenarios\.yaml"):
        load_scenarios(load_workspace(demo_copy))
