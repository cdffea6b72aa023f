"""The UVL reader on hand-written models: tree, groups, attributes, constraints, errors."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evplatform.errors import ParseError
from evplatform.variability.expression import parse_expression
from evplatform.variability.model import GroupKind, Implies, Var
from evplatform.variability.uvl import parse_uvl, read_uvl
from reference_data import shared_data_path

CAR = """namespace Car
features
    Car {abstract}
        mandatory
            Engine
                alternative
                    Electric {power_kw 150, chemistry 'LFP'}
                    "Fuel cell" {power_kw 120.5}
        optional
            Radio
        [1..2]
            Seat
            Roof
constraints
    Radio => Electric
    "Fuel cell" <=> !Radio
"""


def test_tree_groups_and_attributes() -> None:
    model = parse_uvl(CAR, "car.uvl")
    assert model.root == "Car"
    assert model.features["Car"].abstract
    kinds = [g.kind for g in model.features["Car"].groups]
    assert kinds == [GroupKind.MANDATORY, GroupKind.OPTIONAL, GroupKind.CARDINALITY]
    assert model.features["Car"].groups[2].bounds() == (1, 2)
    assert model.features["Electric"].attributes == {"power_kw": 150, "chemistry": "LFP"}
    assert model.features["Fuel cell"].attributes["power_kw"] == pytest.approx(120.5)
    assert model.features["Fuel cell"].parent == "Engine"
    assert model.constraints[0].expr == Implies(Var("Radio"), Var("Electric"))
    assert model.constraints[0].line == 15


def test_configuration_errors_name_the_rule() -> None:
    model = parse_uvl(CAR, "car.uvl")
    valid = {"Car", "Engine", "Electric", "Seat", "Radio"}
    assert model.configuration_errors(valid) == []
    errors = model.configuration_errors({"Car", "Engine", "Fuel cell", "Radio", "Seat"})
    assert any("line 15" in e and "Radio => Electric" in e for e in errors)
    assert any("line 16" in e for e in errors)


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("features\n    A\n        mandatory\n            B\nconstraints\n    B => (A &\n", 6, None, "expected"),
        ("features\n    A\n        sometimes\n            B\n", 3, 9, "group keyword"),
        ("features\n    A\n        optional\n            B\nconstraints\n    B => C\n", 6, None, "unknown feature 'C'"),
        ("features\n    A\n        optional\n", 3, None, "empty optional group"),
        ("", 1, None, "empty file"),
        ("feature\n    A\n", 1, None, "section keyword"),
    ],
)
def test_errors_name_line_and_cause(text: str, line: int, column: int | None, fragment: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_uvl(text, "m.uvl")
    assert info.value.line == line
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"m.uvl:{line}:")
    if column is not None:
        assert info.value.column == column


def test_expression_precedence() -> None:
    expr = parse_expression("!A & B | C => D <=> E")
    assert str(expr) == "(((!A & B) | C) => D) <=> E"
    for selected, expected in [(set(), False), ({"E"}, True), ({"C", "D", "E"}, True)]:
        assert expr.evaluate(selected) is expected


def test_expression_error_column() -> None:
    with pytest.raises(ParseError) as info:
        parse_expression("A & & B", "parts.csv", 7)
    assert (info.value.line, info.value.column) == (7, 5)


def test_imports_and_cycles(tmp_path: Path) -> None:
    (tmp_path / "sub.uvl").write_text("features\n    Sub\n        optional\n            Extra\n")
    (tmp_path / "main.uvl").write_text(
        "imports\n    sub as s\nfeatures\n    Main\n        optional\n            s.Sub\n"
        "constraints\n    Extra => Main\n"
    )
    model = read_uvl(tmp_path / "main.uvl")
    assert model.features["Sub"].parent == "Main"
    assert "Extra" in model.features
    (tmp_path / "a.uvl").write_text("imports\n    b\nfeatures\n    A\n")
    (tmp_path / "b.uvl").write_text("imports\n    a\nfeatures\n    B\n")
    with pytest.raises(ParseError, match="import cycle"):
        read_uvl(tmp_path / "a.uvl")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"AB \t\n{}[].*=>!&|()\"'0,", "features\n", "constraints\n", "    ",
                                 "mandatory", "or", "alternative", "imports\n", "[1..2]"]), max_size=80).map("".join))
def test_fuzz_only_parse_errors_escape(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_uvl(text, "fuzz.uvl")


def test_reads_industrial_model_sizes() -> None:
    path = shared_data_path("feature-models", "automotive01", "automotive01.uvl")
    model = read_uvl(path)
    assert len(model) == 2513
    assert len(model.constraints) == 2833
