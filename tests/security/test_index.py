"""The security suite's index (README.md here) names, for every item of issue 14, tests that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
INDEX = Path(__file__).with_name("README.md")
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")


def _rows() -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in INDEX.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("item", "---"):
            rows[cells[0]] = cells[2]
    return rows


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_item_of_issue_14_has_a_row() -> None:
    assert set(_rows()) >= {str(n) for n in range(1, 21)}


def test_every_reference_is_an_existing_test() -> None:
    missing: list[str] = []
    for item, cell in _rows().items():
        references = REFERENCE.findall(cell)
        assert references, f"item {item} names no test"
        for file, name in references:
            path = ROOT / file
            if not path.is_file() or (name and name not in _test_names(path)):
                missing.append(f"item {item}: {file}::{name}")
            elif not name and not any(n.startswith("test_") for n in _test_names(path)):
                missing.append(f"item {item}: {file} holds no test")
    assert not missing, missing
