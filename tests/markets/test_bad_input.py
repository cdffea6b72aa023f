"""Broken regulations and markets fail at load, naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from evplatform.errors import SourceError
from evplatform.workspace import load_workspace
from evplatform.workspace.model import IN_FORCE

ROW = "X-1,Made up,{markets},{requires},{new},{all},nowhere,confirmed"


def append(path: Path, line: str) -> int:
    text = path.read_text()
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text + line + "\n")
    return text.count("\n") + 1


def error_of(ws_dir: Path) -> SourceError:
    with pytest.raises(SourceError) as info:
        load_workspace(ws_dir)
    return info.value


def add_rule(ws_dir: Path, markets: str = "EU", requires: str = "ISA", new: str = "2025-01-01",
             all_: str = "") -> int:
    return append(ws_dir / "regulations.csv", ROW.format(markets=markets, requires=requires, new=new, all=all_))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"requires": "WarpDrive"}, "requires: unknown feature 'WarpDrive'"),
        ({"requires": "ISA & => ADDW"}, "requires: expected a feature name"),
        ({"requires": ""}, "requires is empty"),
        ({"markets": "EU Atlantis"}, "unknown market 'Atlantis'"),
        ({"markets": ""}, "markets is empty"),
        ({"new": "2025-02-30"}, "applies_new_types must be a date"),
        ({"all_": "soon"}, "applies_all must be a date YYYY-MM-DD, 'in force' or empty, not 'soon'"),
    ],
)
def test_bad_regulation_row(ws_dir: Path, fields: dict[str, str], message: str) -> None:
    line = add_rule(ws_dir, **fields)
    error = error_of(ws_dir)
    assert error.file is not None and error.file.endswith("regulations.csv")
    assert error.line == line
    assert message in error.message


def test_bad_status_and_duplicate_id(ws_dir: Path) -> None:
    path = ws_dir / "regulations.csv"
    line = append(path, "X-1,Made up,EU,ISA,2025-01-01,,nowhere,maybe")
    assert error_of(ws_dir).line == line and "status must be one of" in error_of(ws_dir).message
    path.write_text(path.read_text().replace(",maybe", ",confirmed"))
    line = append(path, "X-1,Again,EU,ISA,2025-01-01,,nowhere,confirmed")
    assert error_of(ws_dir).line == line and "duplicate regulation id 'X-1'" in error_of(ws_dir).message


def test_in_force_is_a_date(ws_dir: Path) -> None:
    add_rule(ws_dir, new="in force", all_="In Force")
    rule = load_workspace(ws_dir).regulations["X-1"]
    assert rule.applies_new_types == IN_FORCE and rule.applies_all == IN_FORCE


def test_inheritance_cycle_names_file_and_line(ws_dir: Path) -> None:
    line = append(ws_dir / "markets" / "EU.yaml", "parent: DE")
    error = error_of(ws_dir)
    assert error.file is not None and error.file.endswith("EU.yaml")
    assert error.line == line
    assert "market inheritance cycle: EU → DE → EU" in error.message


def test_unknown_regulation_in_a_market_names_its_line(ws_dir: Path) -> None:
    line = append(ws_dir / "markets" / "FR.yaml", "regulations:\n  - UN-R157\n  - FR-NOPE")
    error = error_of(ws_dir)
    assert error.file is not None and error.file.endswith("FR.yaml")
    assert error.line == line + 2
    assert "unknown regulation 'FR-NOPE'" in error.message


def test_unece_must_be_a_boolean(ws_dir: Path) -> None:
    path = ws_dir / "markets" / "CN.yaml"
    line = append(path, "unece: maybe")
    path.write_text(path.read_text().replace("unece: false\n", "", 1))
    error = error_of(ws_dir)
    assert error.file is not None and error.file.endswith("CN.yaml")
    assert error.line == line - 1 and "unece must be true or false" in error.message
