"""KPIs on a tiny workspace whose figures are computed by hand in the comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from evplatform.platform import kpi_report, platform_vs_separate
from evplatform.workspace import load_workspace
from tiny_workspace import write_tiny_workspace


@pytest.fixture
def tiny(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_workspace(write_tiny_workspace(tmp_path))


def test_bom_and_unit_cost(tiny) -> None:  # type: ignore[no-untyped-def]
    report = kpi_report(tiny)
    costs = {c.trim.key: c for c in report.trims}
    # alpha: motor 1000 + small shell 400 + 4 wheels × 50 = 1600; beta adds the radio: 1000+600+200+20
    assert costs["alpha/base"].bom_cost == pytest.approx(1600)
    assert costs["beta/base"].bom_cost == pytest.approx(1820)
    # platform 1.2 M over (1000 + 500) × 2 years = 400 per vehicle; alpha's own 200 k over 2000 = 100
    assert costs["alpha/base"].development_per_unit == pytest.approx(500)
    assert costs["alpha/base"].unit_cost == pytest.approx(2100)
    assert costs["beta/base"].unit_cost == pytest.approx(2220)
    assert costs["beta/base"].margin == pytest.approx(4000 - 2220)


def test_reuse_and_commonality(tiny) -> None:  # type: ignore[no-untyped-def]
    report = kpi_report(tiny)
    # parts used: P-1..P-5 (P-6 never); shared by both models: P-1 and P-4
    assert report.parts_used == 5
    assert report.by_model.part_share == pytest.approx(2 / 5)
    # spend/yr: P-1 1500×1000, P-4 1500×4×50, P-2 1000×400, P-3 500×600, P-5 500×20
    shared = 1_500_000 + 300_000
    total = shared + 400_000 + 300_000 + 10_000
    assert report.by_model.spend_share == pytest.approx(shared / total)
    assert report.by_model.dci == pytest.approx(7 / 5)  # ΣΦ = 2+2+1+1+1
    assert report.by_model.tcci == pytest.approx(1 - 4 / 6)
    assert report.by_model.ci == pytest.approx(1 - (5 - 4) / (3 + 4 - 4))
    data = report.to_dict()
    assert set(data["commonality"]) == {"dci", "tcci", "ci", "ci_c"}
    assert [m["id"] for m in data["models"]] == ["alpha", "beta"]


def test_platform_vs_separate_without_scale_effect(tiny) -> None:  # type: ignore[no-untyped-def]
    comparison = platform_vs_separate(tiny)
    # with elasticity 0 parts cost the same; the only saving is development:
    # platform 1.2 M + 0.2 M vs 2 × (0.5 × 1.2 M) + 0.2 M  → equal here: 1.4 M each
    assert comparison.platform_development == pytest.approx(1_400_000)
    assert comparison.separate_development == pytest.approx(1_400_000)
    assert comparison.saving == pytest.approx(0, abs=1e-6)


def test_demo_kpis_are_consistent() -> None:
    ws = load_workspace(None)
    report = kpi_report(ws)
    assert len(report.trims) == 7
    for cost in report.trims:
        assert cost.bom_cost == pytest.approx(sum(line.cost for line in cost.bom.lines))
        assert cost.unit_cost > cost.bom_cost
    assert 0 < report.by_model.part_share < 1
    assert report.by_model.dci >= 1
    assert platform_vs_separate(ws, report.trims).saving > 0
