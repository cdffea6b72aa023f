"""Business figures: the demo file, the shared reference file read in place, growth by hand, bad CSVs."""

from __future__ import annotations

from pathlib import Path

import pytest

from evplatform.errors import InsightsError, SourceError
from evplatform.insights import business_report, load_business
from evplatform.insights.business import classify_basis, demo_business_path

HEADER = "entity,period,metric,value,unit,basis,source,notes\n"


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "figures.csv"
    path.write_text(header + body)
    return path


def test_demo_business_figures_and_growth() -> None:
    report = business_report(None)
    assert report["entity"] == "Xiaomi"
    assert report["file"] == str(demo_business_path())
    deliveries = {q["period"]: q for q in report["series"]["deliveries"]["quarters"]}
    # Q3-2025 108,796 vs Q2-2025 81,302 (QoQ) and Q3-2024 39,790 (YoY), all reported
    assert deliveries["2025Q3"]["qoq"]["growth"] == pytest.approx(108_796 / 81_302 - 1)
    assert deliveries["2025Q3"]["yoy"]["growth"] == pytest.approx(108_796 / 39_790 - 1)
    assert deliveries["2025Q3"]["basis"] == "reported"
    # Q4-2024 is derived (FY − Q2 − Q3), so its growth is at best derived
    assert deliveries["2024Q4"]["basis"] == "derived"
    assert deliveries["2025Q4"]["yoy"]["basis"] == "derived"
    margin = {q["period"]: q for q in report["series"]["gross_margin"]["quarters"]}
    assert report["series"]["gross_margin"]["metric"] == "segment_gross_margin"
    assert margin["2025Q2"]["yoy"]["change_pp"] == pytest.approx(26.4 - 15.4)
    assert report["margin_trend"]["slope_pp_per_quarter"] > 0
    asp = {a["period"]: a for a in report["implied_asp"]}
    assert asp["2025Q3"]["value"] == pytest.approx(28.3e9 / 108_796)
    assert asp["2025Q3"]["basis"] == "derived"
    assert {p["entity"] for p in report["peers"]} >= {"Xiaomi", "NIO", "XPeng", "Li Auto", "Tesla", "BYD"}
    assert any(f["metric"] == "europe_entry" and f["value"] == "2027" for f in report["facts"])
    assert any(f["metric"] == "price" and f["subject"].startswith("SU7 Max") for f in report["facts"])


def test_shared_reference_file_in_place(shared_data: Path) -> None:
    path = shared_data / "business" / "business.csv"
    if not path.exists():
        pytest.skip(f"reference data not found: {path}")
    data = load_business(path)
    demo = load_business(None)
    assert [(f.entity, f.period, f.metric, f.value, f.basis) for f in data.figures] == [
        (f.entity, f.period, f.metric, f.value, f.basis) for f in demo.figures
    ]
    rows = {(f.entity, f.period, f.metric): f for f in data.figures}
    # rows the data README marks "memory – verify" are estimates, never reported
    assert rows[("NIO", "2024Q1", "gross_margin")].basis == "estimate"
    assert rows[("Xiaomi", "2025Q1", "asp")].basis == "derived"
    report = business_report(path, "NIO")
    assert report["series"]["deliveries"]["quarters"][-1]["value"] == 124_807


def test_basis_classification() -> None:
    assert classify_basis("reported") == "reported"
    assert classify_basis("reported (rounded '26.01万')") == "reported"
    assert classify_basis("derived = FY 32.1 - 6.2 - 9.5") == "derived"
    assert classify_basis("memory – verify") == "estimate"
    assert classify_basis("VM reported; GM derived (Q4-25 17.8% = -2.5pp YoY)") == "derived"
    assert classify_basis("launch price") is None


def test_peer_comparison_by_hand(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "A,2024Q1,deliveries,100,vehicles,reported,s1,\n"
        "A,2025Q1,deliveries,150,vehicles,reported,s1,\n"
        "A,2024Q4,gross_margin,10,%,reported,s1,\n"
        "A,2025Q1,gross_margin,13,%,estimate,s1,\n"
        "B,2025Q1,vehicle_margin,9,%,derived,s2,\n"
        "B,2025Q1,gross_margin,8,%,reported,s2,\n"
    ))
    report = business_report(path)
    a, b = report["peers"]
    assert a["deliveries"]["yoy"]["growth"] == pytest.approx(0.5)
    assert a["gross_margin_trend"]["slope_pp_per_quarter"] == pytest.approx(3.0)
    assert a["gross_margin_trend"]["basis"] == "estimate"
    assert a["gross_margin"]["basis"] == "estimate"
    assert b["deliveries"] is None and b["vehicle_margin"]["value"] == 9
    assert report["by_basis"] == {"reported": 4, "derived": 1, "estimate": 1}


def test_missing_column_names_the_header_line(tmp_path: Path) -> None:
    header = "entity,period,metric,value,unit,source,notes\n"
    path = write(tmp_path, "A,2025Q1,deliveries,1,vehicles,s,\n", header=header)
    with pytest.raises(InsightsError, match=r"missing column.*basis") as error:
        load_business(path)
    assert isinstance(error.value, SourceError)
    assert (error.value.file, error.value.line) == (str(path), 1)


def test_non_numeric_figure_names_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "A,2025Q1,deliveries,100,vehicles,reported,s,\n"
                           "A,2025Q2,deliveries,lots,vehicles,reported,s,\n")
    with pytest.raises(InsightsError, match="field 'value' of A 2025Q2 deliveries must be a number, not 'lots'") as e:
        load_business(path)
    assert isinstance(e.value, SourceError)
    assert (e.value.file, e.value.line) == (str(path), 3)
    assert str(e.value).startswith(f"{path}:3: ")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("A,2025Q1,deliveries,1,vehicles,guessed,s,\n", "field 'basis' must say reported, derived or estimate"),
        ("A,2025Q1,deliveries,1,vehicles,reported,,\n", "field 'source' is empty"),
        (",2025Q1,deliveries,1,vehicles,reported,s,\n", "field 'entity' is empty"),
        ("A,2025Q1,deliveries,1,vehicles,reported,s,\nA,2025Q1,deliveries,2,vehicles,reported,s,\n",
         "given twice \\(first on line 2\\)"),
        ("A,2025Q1,deliveries,1,vehicles\n", "expected 8 fields"),
    ],
)
def test_bad_rows(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(InsightsError, match=message) as error:
        load_business(write(tmp_path, body))
    assert isinstance(error.value, SourceError)
    assert error.value.line is not None and error.value.line >= 2


def test_text_rows_that_are_not_period_figures_are_facts(tmp_path: Path) -> None:
    path = write(tmp_path, "A,2025Q1,deliveries,1,vehicles,reported,s,\nA,Model X mix,variant_share,a / b,%,press,s,\n")
    data = load_business(path)
    assert len(data.figures) == 1 and data.facts[0].value == "a / b"


def test_unknown_entity_and_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "A,2025Q1,deliveries,1,vehicles,reported,s,\n")
    with pytest.raises(InsightsError, match="unknown entity 'Z'"):
        business_report(path, "Z")
    with pytest.raises(InsightsError, match="no period figures"):
        business_report(write(tmp_path, "A,guidance,plan,x,,reported,s,\n"))
    with pytest.raises(InsightsError, match="missing business figures CSV"):
        load_business(tmp_path / "absent.csv")
