"""How roadmap lines and reasons are grouped and ordered (markets.grouping), and the lookups (markets.lookup)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from evplatform.errors import MarketsError, NotFoundError
from evplatform.markets import compliance_matrix, compliance_report
from evplatform.markets.grouping import (
    MATRIX_COLUMNS,
    change_groups,
    collapse_members,
    matrix_rows,
    reasons_by_change,
    roadmap_columns,
    roadmap_lines,
    roadmap_rows,
    stop_dates,
)
from evplatform.markets.lookup import market_view, regulation_view
from evplatform.markets.roadmap import roadmap_report
from evplatform.workspace import Workspace

AS_OF = date(2026, 12, 3)


@pytest.fixture(scope="module")
def plan(demo: Workspace) -> dict[str, Any]:
    return roadmap_report(demo, as_of=AS_OF)


def test_member_states_are_folded_into_their_market(demo: Workspace) -> None:
    assert collapse_members(demo, ["CN", "EU", "DE", "FR"]) == (["CN", "EU"], ["DE", "FR"])
    assert collapse_members(demo, ["DE", "FR"]) == (["DE", "FR"], [])  # no EU on the line: each names itself


def test_roadmap_lines_are_grouped_and_in_date_order_from_as_of(demo: Workspace, plan: dict[str, Any]) -> None:
    lines = roadmap_lines(demo, plan)
    dates = [line["date"] for line in lines]
    assert dates == sorted(dates) and dates[0] == AS_OF.isoformat()
    eu = [line for line in lines if "EU" in line["markets"]]
    assert eu and all(line["markets"] == ["EU"] and line["members"] == ["DE", "FR", "ES", "IT"] for line in eu)
    assert not [line for line in lines if "DE" in line["markets"]]
    first = lines[0]
    assert first["already"] and first["mode"] == "new_types"  # type approval before registration on a day
    same_day = [(line["mode"], line["model"]) for line in lines if line["date"] == first["date"]]
    assert same_day == sorted(same_day, key=lambda k: (("new_types", "all").index(k[0]), k[1]))


def test_roadmap_lines_keep_the_costs_cumulative(demo: Workspace, plan: dict[str, Any]) -> None:
    lines = [line for line in roadmap_lines(demo, plan, ["EU"]) if line["model"] == "su7"
             and line["mode"] == "all"]
    assert [line["date"] for line in lines] == ["2026-12-03", "2027-02-18", "2027-11-29"]
    costs = [line["cumulative_cost_per_vehicle_min"] for line in lines]
    assert costs == sorted(costs) and costs[0] is not None and costs[0] > 0  # each adds to the previous
    entry = next(e for e in plan["roadmap"] if e["market"] == "EU" and e["model"] == "su7" and e["mode"] == "all")
    assert [line["cumulative_cost_per_year"] for line in lines] == [e["cost_per_year"] for e in entry["events"]]


def test_only_the_chosen_markets(demo: Workspace, plan: dict[str, Any]) -> None:
    lines = roadmap_lines(demo, plan, ["DE", "CN"])
    assert {tuple(line["markets"]) for line in lines} == {("DE",), ("CN",)}


def test_change_groups_share_a_row_per_change() -> None:
    rows = [
        {"trim": "a", "failing": ["R1"], "added_since_previous": ["X"], "removed_since_previous": []},
        {"trim": "b", "failing": ["R1"], "added_since_previous": ["X"], "removed_since_previous": []},
        {"trim": "c", "failing": [], "added_since_previous": [], "removed_since_previous": []},
        {"trim": "d", "failing": ["R1"], "error": "void", "added_since_previous": [], "removed_since_previous": []},
    ]
    groups = change_groups(rows)
    assert [(g["kind"], g["trims"], g["added"]) for g in groups] == [
        ("fix", ["a", "b"], ["X"]), ("compliant", ["c"], []), ("no-fix", ["d"], [])]
    assert groups[2]["error"] == "void"


def test_stop_dates_per_model_market_and_mode(demo: Workspace, plan: dict[str, Any]) -> None:
    stops = stop_dates(roadmap_lines(demo, plan))
    cn = next(s for s in stops if s["model"] == "su7" and s["markets"] == ["CN"] and s["mode"] == "all")
    assert cn["first"] == "2029-01-01" and not cn["already"]
    assert cn["events"] == [{"date": "2029-01-01", "new_regulations": ["CN-DOOR-HANDLE"]}]


def test_reasons_by_change_name_a_model_when_all_its_trims_share_it(demo: Workspace) -> None:
    report = compliance_report(demo, "EU", AS_OF, "new_types")
    items = reasons_by_change(report)
    addw = next(i for i in items if i["reason"]["regulation"] == "EU-GSR2-ADDW")
    assert addw["trims_text"] == "su7, yu7" and not addw["warning"]
    warnings = [i for i in items if i["warning"]]
    assert warnings and items.index(warnings[0]) > items.index(addw)  # failures before warnings


def test_matrix_rows_and_roadmap_rows_for_csv(demo: Workspace, plan: dict[str, Any]) -> None:
    matrix = compliance_matrix(demo, AS_OF, ["CN"])
    rows = matrix_rows(matrix)
    assert len(rows) == 2 * len(demo.trims()) and tuple(rows[0]) == MATRIX_COLUMNS
    assert [r["mode"] for r in matrix_rows(matrix, ["all"])] == ["all"] * len(demo.trims())
    lines = [line for line in roadmap_lines(demo, plan) if line["markets"] == ["EU"]]
    out = roadmap_rows(lines, "CNY")
    assert tuple(out[0]) == roadmap_columns("CNY") and out[0]["member_markets"] == "DE FR ES IT"
    assert out[0]["cumulative_cost_per_year_CNY"] == f"{lines[0]['cumulative_cost_per_year']:.2f}"


def test_regulation_view(demo: Workspace) -> None:
    view = regulation_view(demo, "CN-DOOR-HANDLE", AS_OF)
    assert view["applies_from"] == {"new_types": "2028-01-01", "all": "2029-01-01"}
    assert [row["markets"] for row in view["markets"]] == [["CN"]]
    assert view["markets"][0]["binding_on_date"] == {"new_types": False, "all": False}
    assert {t["missing"][0] for t in view["markets"][0]["breaking_trims"]} == {"MechanicalDoorRelease"}
    eu = regulation_view(demo, "EU-GSR2-ADDW", AS_OF)["markets"]
    assert eu[0]["markets"] == ["EU"] and eu[0]["members"] == ["DE", "FR", "ES", "IT"]
    assert regulation_view(demo, "EU-ECALL", AS_OF)["warning"]
    with pytest.raises(NotFoundError):
        regulation_view(demo, "NOPE", AS_OF)


def test_market_view(demo: Workspace) -> None:
    view = market_view(demo, "CN", AS_OF)
    firsts = [min(d for d in r["applies_from"].values() if d) for r in view["regulations"]]
    assert firsts == sorted(firsts)  # by the first day each binds
    door = next(r for r in view["regulations"] if r["regulation"] == "CN-DOOR-HANDLE")
    assert len(door["breaking_trims"]) == len([t for t in demo.trims() if t.model_id in demo.markets["CN"].models])
    report = compliance_report(demo, "CN", AS_OF, "new_types")
    assert view["summary"]["new_types"] == report["summary"]
    assert view["roadmap"][0]["date"] == AS_OF.isoformat()
    assert {line["markets"][0] for line in view["roadmap"]} == {"CN"}
    with pytest.raises(MarketsError):
        market_view(demo, "XX", AS_OF)
