"""Every kind of broken workspace gives a WorkspaceError naming the file and the line.

Each test copies the demo workspace, breaks one thing, and checks the error points at it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evplatform.errors import EvplatformError, SourceError
from evplatform.workspace import load_workspace
from tiny_workspace import replace_first as edit


def append(path: Path, line: str) -> int:
    text = path.read_text()
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text + line + "\n")
    return text.count("\n") + 1


def load_error(ws_dir: Path) -> SourceError:
    with pytest.raises(SourceError) as info:
        load_workspace(ws_dir)
    return info.value


def test_demo_loads() -> None:
    ws = load_workspace(None)
    assert len(ws.trims()) == 7
    assert set(ws.models) == {"su7", "su7-ultra", "yu7"}
    assert 150 <= len(ws.parts) <= 300


def test_malformed_yaml(ws_dir: Path) -> None:
    line = edit(ws_dir / "models" / "su7.yaml", "name: SU7\n", "name: [SU7\n")
    error = load_error(ws_dir)
    assert error.file is not None and error.file.endswith("su7.yaml")
    assert error.line is not None and error.line >= line
    assert "malformed YAML" in str(error)


def test_malformed_uvl(ws_dir: Path) -> None:
    line = append(ws_dir / "features.uvl", "    Drive_RWD => (Motor_V6_220 &")
    error = load_error(ws_dir)
    assert error.file is not None and error.file.endswith("features.uvl")
    assert error.line == line


def test_malformed_csv_row(ws_dir: Path) -> None:
    line = append(ws_dir / "parts.csv", "MD-X-1,Broken row,Body,12.0")
    error = load_error(ws_dir)
    assert error.file is not None and error.file.endswith("parts.csv")
    assert error.line == line
    assert "expected 8 fields" in str(error)


def test_unknown_feature_in_expression(ws_dir: Path) -> None:
    line = append(ws_dir / "parts.csv", "MD-X-1,Widget,Body,12.0,1,Acme,1,SedanBody & NoSuchFeature")
    error = load_error(ws_dir)
    assert error.line == line
    assert "unknown feature 'NoSuchFeature'" in str(error)


def test_unknown_feature_in_trim_selection(ws_dir: Path) -> None:
    line = edit(ws_dir / "models" / "su7-ultra.yaml", "Pack_Ultra_93, Drive_AWD_Tri", "Pack_Ultra_93, Warp_Drive")
    error = load_error(ws_dir)
    assert error.file is not None and error.file.endswith("su7-ultra.yaml")
    assert error.line == line
    assert "Warp_Drive" in str(error)


def test_trim_violating_a_constraint_names_it(ws_dir: Path) -> None:
    # The Standard's LFP pack is a 400 V pack: putting it on the 800 V architecture breaks a constraint.
    edit(ws_dir / "models" / "su7.yaml", "Motor_V6_220, HV400, Tyre_19, SteelSprings, EPS, VisionOnly",
         "Motor_V6_220, HV800, Tyre_19, SteelSprings, EPS, VisionOnly")
    error = load_error(ws_dir)
    assert error.file is not None and error.file.endswith("su7.yaml")
    message = str(error)
    assert "su7/standard" in message
    assert "Pack_LFP_73 | Pack_NMC_94 => HV400" in message or "HV400" in message
    assert "constraint" in message or "group" in message


def test_negative_cost(ws_dir: Path) -> None:
    line = append(ws_dir / "parts.csv", "MD-X-1,Rebate,Body,-12.0,1,Acme,1,SedanBody")
    error = load_error(ws_dir)
    assert error.line == line
    assert "unit_cost" in str(error) and "-12.0" in str(error)


def test_non_numeric_cost(ws_dir: Path) -> None:
    line = append(ws_dir / "parts.csv", "MD-X-1,Widget,Body,cheap,1,Acme,1,SedanBody")
    error = load_error(ws_dir)
    assert error.line == line
    assert "unit_cost must be a number" in str(error)


def test_duplicate_part_number(ws_dir: Path) -> None:
    first = (ws_dir / "parts.csv").read_text().splitlines()
    first_data = next(i for i, row in enumerate(first, 1) if row.startswith("MD-"))
    part_no = first[first_data - 1].split(",")[0]
    line = append(ws_dir / "parts.csv", f"{part_no},Twin,Body,1,1,Acme,1,SedanBody")
    error = load_error(ws_dir)
    assert error.line == line
    assert f"duplicate part number '{part_no}'" in str(error)
    assert f"line {first_data}" in str(error)


def test_missing_file(ws_dir: Path) -> None:
    (ws_dir / "software.yaml").unlink()
    error = load_error(ws_dir)
    assert error.file is not None and error.file.endswith("software.yaml")
    assert "missing" in str(error)


def test_missing_model_file(ws_dir: Path) -> None:
    (ws_dir / "models" / "yu7.yaml").unlink()
    error = load_error(ws_dir)
    assert error.file is not None and error.file.endswith("yu7.yaml")


def test_missing_csv_column(ws_dir: Path) -> None:
    path = ws_dir / "parts.csv"
    line = edit(path, "part_no,name,module,unit_cost,mass_kg,supplier,qty,when",
                "part_no,name,module,cost,mass_kg,supplier,qty,when")
    error = load_error(ws_dir)
    assert error.line == line
    assert "unit_cost" in str(error)


def test_unknown_market_in_regulation(ws_dir: Path) -> None:
    line = append(ws_dir / "regulations.csv", "X-1,Made up,Atlantis,ISA,2025-01-01,,nowhere,confirmed")
    error = load_error(ws_dir)
    assert error.line == line
    assert "unknown market 'Atlantis'" in str(error)


def test_bad_date(ws_dir: Path) -> None:
    line = append(ws_dir / "regulations.csv", "X-1,Made up,EU,ISA,2025-13-45,,nowhere,confirmed")
    error = load_error(ws_dir)
    assert error.line == line
    assert "applies_new_types must be a date" in str(error)


def test_market_inheritance_cycle(ws_dir: Path) -> None:
    append(ws_dir / "markets" / "EU.yaml", "parent: DE")
    error = load_error(ws_dir)
    assert "inheritance cycle" in str(error)
    assert error.file is not None and error.file.endswith(".yaml")


def test_empty_workspace_folder(tmp_path: Path) -> None:
    with pytest.raises(EvplatformError) as info:
        load_workspace(tmp_path)
    assert "platform.yaml" in str(info.value)


def test_broken_workspace_leaves_files_untouched(ws_dir: Path) -> None:
    append(ws_dir / "parts.csv", "MD-X-1,Widget,Body,-1,1,Acme,1,SedanBody")
    before = {p: p.read_bytes() for p in ws_dir.rglob("*") if p.is_file()}
    load_error(ws_dir)
    after = {p: p.read_bytes() for p in ws_dir.rglob("*") if p.is_file()}
    assert before == after
