"""UVL ``include``: the language levels the reader implements are accepted, the others refused."""

from __future__ import annotations

import pytest

from evplatform.errors import ParseError
from evplatform.variability.uvl import parse_uvl
from evplatform.variability.uvl_levels import MINOR_LEVELS, SUPPORTED_LEVELS, level_problem

MODEL = """features
    Car
        optional
            Radio
        [1..2]
            Seat
            Roof
constraints
    Radio => Seat
"""


@pytest.mark.parametrize(
    "include",
    [
        "include\n    Boolean\n",
        "include\n    Boolean.*\n",
        "include\n    Boolean\n    Boolean.group-cardinality\n",
        "include Boolean.group-cardinality\n",
    ],
)
def test_supported_levels_read_the_same_model(include: str) -> None:
    plain = parse_uvl(MODEL, "car.uvl")
    declared = parse_uvl(include + MODEL, "car.uvl")
    assert declared.features.keys() == plain.features.keys()
    assert declared.features["Car"].groups[1].bounds() == (1, 2)
    assert [c.expr for c in declared.constraints] == [c.expr for c in plain.constraints]


@pytest.mark.parametrize(
    ("include", "line", "column", "fragment"),
    [
        ("include\n    Arithmetic\n", 2, 5, "language level Arithmetic is not supported"),
        ("include\n    Boolean\n    Arithmetic.feature-cardinality\n", 3, 5, "Arithmetic.feature-cardinality"),
        ("include\n    Arithmetic.aggregate-function\n", 2, 5, "not supported"),
        ("include\n  Type.*\n", 2, 3, "language level Type.* is not supported"),
        ("include\n    Type.string-constraints\n", 2, 5, "not supported"),
        ("include Boolean Type\n", 1, 17, "language level Type is not supported"),
        ("include\n    Boolean.feature-cardinality\n", 2, 5, "minor levels of Boolean are group-cardinality"),
        ("include\n    SAT-level\n", 2, 5, "unknown language level 'SAT-level'"),
        ("include\n    Boolean.\n", 2, 5, "unknown language level"),
    ],
)
def test_other_levels_are_refused_at_file_line_column(include: str, line: int, column: int, fragment: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_uvl(include + MODEL, "car.uvl")
    message = str(info.value)
    assert message.startswith(f"car.uvl:{line}:{column}:")
    assert fragment in message
    if "not supported" in message:
        assert "supported: Boolean, Boolean.*, Boolean.group-cardinality" in message


def test_feature_cardinality_is_refused_not_dropped() -> None:
    text = MODEL.replace("            Radio\n", "            Radio cardinality [1..3]\n")
    with pytest.raises(ParseError) as info:
        parse_uvl(text, "car.uvl")
    assert str(info.value).startswith("car.uvl:4:19:")
    assert "Arithmetic.feature-cardinality" in str(info.value)


def test_every_level_of_the_grammar_gets_an_answer() -> None:
    written = [
        major + suffix for major, minors in MINOR_LEVELS.items() for suffix in ("", ".*", *("." + m for m in minors))
    ]
    accepted = [level for level in written if level_problem(level) is None]
    assert accepted == list(SUPPORTED_LEVELS)
    assert all("not supported" in (level_problem(level) or "") for level in written if level not in accepted)
