"""What is missing and what is violating, for any requirement expression."""

from __future__ import annotations

from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from evplatform.markets.reasons import EXACT_LIMIT, unmet
from evplatform.variability.expression import parse_expression
from evplatform.variability.model import And, Expr, Iff, Implies, Not, Or, Var


def reasons(text: str, selected: set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return unmet(parse_expression(text), selected)


def test_a_met_requirement_has_no_reasons() -> None:
    assert reasons("A & (B | C)", {"A", "C"}) == ((), ())


def test_missing_features_of_a_conjunction() -> None:
    assert reasons("A & B & C", {"B"}) == (("A", "C"), ())


def test_an_implication_asks_to_add_rather_than_remove() -> None:
    # one flip either way; the tie goes to adding (the speed cap), not to removing ALKS
    assert reasons("ALKS => Cap130 & DSSAD", {"ALKS", "DSSAD"}) == (("Cap130",), ())


def test_a_prohibition_names_the_violating_feature() -> None:
    assert reasons("!RHD", {"RHD", "LHD"}) == ((), ("RHD",))


def test_removal_wins_when_it_is_the_smaller_change() -> None:
    assert reasons("X => A & B & C", {"X"}) == ((), ("X",))


def test_a_disjunction_needs_one_of_its_features() -> None:
    missing, violating = reasons("A | B", set())
    assert len(missing) == 1 and missing[0] in {"A", "B"} and violating == ()


def test_an_unsatisfiable_requirement_has_nothing_to_add() -> None:
    assert reasons("A & !A", {"A"}) == ((), ())


def test_large_requirements_fall_back_to_polarity() -> None:
    names = [f"F{i}" for i in range(EXACT_LIMIT + 2)]
    text = " & ".join(names) + " & !Bad"
    missing, violating = reasons(text, {"F0", "Bad"})
    assert missing == tuple(sorted(names[1:])) and violating == ("Bad",)


NAMES = ("A", "B", "C", "D")


def expressions() -> st.SearchStrategy[Expr]:
    leaves = st.sampled_from([Var(n) for n in NAMES])
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            inner.map(Not),
            st.tuples(inner, inner).map(lambda p: And(p)),
            st.tuples(inner, inner).map(lambda p: Or(p)),
            st.tuples(inner, inner).map(lambda p: Implies(*p)),
            st.tuples(inner, inner).map(lambda p: Iff(*p)),
        ),
        max_leaves=6,
    )


@settings(max_examples=150, deadline=None)
@given(expressions(), st.sets(st.sampled_from(NAMES)))
def test_the_change_satisfies_the_requirement_and_nothing_smaller_does(expr: Expr, selected: set[str]) -> None:
    missing, violating = unmet(expr, selected)
    assert not set(missing) & selected and set(violating) <= selected
    names = sorted(expr.variables())
    satisfiable = any(expr.evaluate(set(c)) for k in range(len(names) + 1) for c in combinations(names, k))
    if expr.evaluate(selected) or not satisfiable:
        assert (missing, violating) == ((), ())
        return
    assert expr.evaluate((selected | set(missing)) - set(violating))
    size = len(missing) + len(violating)
    smaller = [flips for k in range(size) for flips in combinations(names, k)
               if expr.evaluate(selected.symmetric_difference(flips))]
    assert smaller == []
