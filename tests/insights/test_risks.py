"""Risk register: the demo's matrix, links checked against the workspace, export, bad rows with file:line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from evplatform.errors import WorkspaceError
from evplatform.insights import export_csv, load_risks, risks_report
from evplatform.insights.risks import rating
from evplatform.workspace import load_workspace

HEADER = "id,title,likelihood,impact,owner,mitigation,features,markets,releases\n"


def test_demo_register_and_matrix() -> None:
    report = risks_report(None)
    risks = {r["id"]: r for r in report["risks"]}
    assert risks["R-02"]["score"] == 20 and risks["R-02"]["rating"] == "critical"
    assert [r["score"] for r in report["risks"]] == sorted((r["score"] for r in report["risks"]), reverse=True)
    m = report["matrix"]
    assert m["likelihood"] == [5, 4, 3, 2, 1] and m["impact"] == [1, 2, 3, 4, 5]
    assert m["ids"][0][3] == ["R-02"]  # likelihood 5, impact 4
    assert sum(map(sum, m["counts"])) == len(report["risks"])
    assert sum(report["by_rating"].values()) == len(report["risks"])
    assert "R-07" in report["links"]["releases"]["hub-os@1.7.0"]
    assert "R-03" in report["links"]["markets"]["EU"]


def test_rating_bands() -> None:
    assert [rating(s) for s in (1, 4, 5, 9, 10, 14, 15, 25)] == [
        "low", "low", "medium", "medium", "high", "high", "critical", "critical"]


def test_export_round_trips_with_scores() -> None:
    ws = load_workspace(None)
    _, risks = load_risks(ws)
    rows = list(csv.DictReader(io.StringIO(export_csv(risks))))
    assert len(rows) == len(risks)
    first = rows[0]
    assert first["id"] == "R-02" and first["score"] == "20" and first["rating"] == "critical"
    r01 = next(r for r in rows if r["id"] == "R-01")
    assert r01["features"].split(";")[0] == "Pack_NMC_94"


def _write(root: Path, rows: str) -> Path:
    path = root / "risks.csv"
    path.write_text(HEADER + rows)
    return path


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("R-1,Cells,3,4,Buyer,Hedge,Pack_Unobtainium,CN,\n", "features: unknown feature 'Pack_Unobtainium'"),
        ("R-1,Duties,3,4,Strategy,Plan,,EU;US,\n", "markets: unknown market 'US'"),
        ("R-1,Bad OTA,3,4,RM,Gates,,,warp-drive@1.0\n", "releases: unknown release 'warp-drive@1.0'"),
        ("R-1,Bad OTA,3,4,RM,Gates,,,hub-os@\n", "releases: unknown release 'hub-os@'"),
        ("R-1,Cells,6,4,Buyer,Hedge,,,\n", "likelihood must be a whole number 1–5, not '6'"),
        ("R-1,Cells,3,high,Buyer,Hedge,,,\n", "impact must be a whole number 1–5, not 'high'"),
        ("R-1,Cells,3,4,,Hedge,,,\n", "owner is empty"),
    ],
)
def test_bad_rows_name_file_and_line(demo_copy: Path, row: str, message: str) -> None:
    path = _write(demo_copy, "R-0,Fine,1,1,Someone,None,LidarSuite,CN,hub-os@1.6.0\n" + row)
    with pytest.raises(WorkspaceError, match=message) as error:
        risks_report(demo_copy)
    assert (error.value.file, error.value.line) == (str(path), 3)


def test_duplicate_id_and_missing_column(demo_copy: Path) -> None:
    _write(demo_copy, "R-1,A,1,1,X,,,,\nR-1,B,1,1,X,,,,\n")
    with pytest.raises(WorkspaceError, match=r"used twice \(first on line 2\)"):
        risks_report(demo_copy)
    (demo_copy / "risks.csv").write_text("id,title,likelihood,impact,owner\nR-1,A,1,1,X\n")
    with pytest.raises(WorkspaceError, match="missing column") as error:
        risks_report(demo_copy)
    assert error.value.line == 1
