"""What is missing and what is violating, for any requirement expression."""

from __future__ import annotations

from evplatform.markets.reasons import EXACT_LIMIT, unmet
from evplatform.variability.expression import parse_expression


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
