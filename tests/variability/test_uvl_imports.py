"""UVL imports: nested sub-models with aliases, constraints through aliases, cycles and clashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from evplatform.errors import ParseError
from evplatform.variability.uvl import read_uvl
from evplatform.variability.uvl_writer import format_uvl
from variability.fm_strategies import brute_force


def test_nested_imports_with_aliases(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "leaf.uvl").write_text("features\n    Leaf\n        optional\n            L1\n")
    (tmp_path / "mid.uvl").write_text("imports\n    sub.leaf as lf\nfeatures\n    Mid\n        mandatory\n"
                                      "            lf.Leaf\nconstraints\n    lf.L1 => Mid\n")
    (tmp_path / "top.uvl").write_text("imports\n    mid as m\nfeatures\n    Top\n        optional\n"
                                      "            m.Mid\nconstraints\n    m.Mid => L1\n")
    model = read_uvl(tmp_path / "top.uvl")
    assert {n: f.parent for n, f in model.features.items()} == {"Top": None, "Mid": "Top", "Leaf": "Mid",
                                                                 "L1": "Leaf"}
    assert brute_force(model) == {frozenset({"Top"}), frozenset({"Top", "Mid", "Leaf", "L1"})}
    (tmp_path / "flat.uvl").write_text(format_uvl(model))
    assert brute_force(read_uvl(tmp_path / "flat.uvl")) == brute_force(model)  # written flat, same meaning


def test_longer_cycle_names_the_chain(tmp_path: Path) -> None:
    (tmp_path / "a.uvl").write_text("imports\n    b\nfeatures\n    A\n")
    (tmp_path / "b.uvl").write_text("imports\n    c\nfeatures\n    B\n")
    (tmp_path / "c.uvl").write_text("imports\n    a\nfeatures\n    C\n")
    with pytest.raises(ParseError, match=r"import cycle: a\.uvl → b\.uvl → c\.uvl → a\.uvl"):
        read_uvl(tmp_path / "a.uvl")


def test_missing_import_and_clash(tmp_path: Path) -> None:
    (tmp_path / "a.uvl").write_text("imports\n    nowhere\nfeatures\n    A\n")
    with pytest.raises(ParseError, match=r"a\.uvl:2:1: imported model not found"):
        read_uvl(tmp_path / "a.uvl")
    (tmp_path / "s.uvl").write_text("features\n    S\n        optional\n            A\n")
    (tmp_path / "m.uvl").write_text("imports\n    s\nfeatures\n    A\n        optional\n            s.S\n")
    with pytest.raises(ParseError, match="imported feature 'A' clashes"):
        read_uvl(tmp_path / "m.uvl")
