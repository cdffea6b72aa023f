"""Feature expressions: nesting is bounded, so a hostile file cannot exhaust the stack."""

from __future__ import annotations

import pytest

from evplatform.errors import ParseError
from evplatform.variability.expression import MAX_DEPTH, parse_expression
from evplatform.variability.model import Not, Var


@pytest.mark.parametrize(
    "text",
    [
        "!" * 100_000 + "A",
        "(" * 5_000 + "A" + ")" * 5_000,
        " => ".join(["A"] * 5_000),
        " <=> ".join(["A"] * 5_000),
    ],
    ids=["100k-not", "5k-parentheses", "5k-implies", "5k-iff"],
)
def test_deep_nesting_is_a_clear_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(ParseError, match=f"nested deeper than {MAX_DEPTH} levels") as info:
        parse_expression(text, "regulations.csv", 7)
    assert str(info.value).startswith("regulations.csv:7:")


def test_nesting_up_to_the_bound_parses() -> None:
    expr = parse_expression("!" * MAX_DEPTH + "A")
    for _ in range(MAX_DEPTH):
        assert isinstance(expr, Not)
        expr = expr.operand
    assert expr == Var("A")
    assert parse_expression("(" * MAX_DEPTH + "A" + ")" * MAX_DEPTH) == Var("A")
    with pytest.raises(ParseError):
        parse_expression("(" * (MAX_DEPTH + 1) + "A" + ")" * (MAX_DEPTH + 1))


def test_depth_is_counted_per_branch_not_per_expression() -> None:
    wide = " & ".join("(" * 50 + f"F{i}" + ")" * 50 for i in range(200))
    assert len(parse_expression(wide).operands) == 200  # type: ignore[attr-defined]
