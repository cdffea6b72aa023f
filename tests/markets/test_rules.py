"""Which regulations bind which market from which day, in each mode."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from evplatform.errors import MarketsError
from evplatform.markets.rules import applicable_regulations, effective_date, in_force, parse_date, parse_mode
from evplatform.workspace import Workspace, load_workspace
from evplatform.workspace.model import IN_FORCE


def ids(ws: Workspace, market: str) -> set[str]:
    return {r.id for r in applicable_regulations(ws, market)}


def test_member_states_inherit_the_eu_and_the_unece_rules(demo: Workspace) -> None:
    eu = ids(demo, "EU")
    assert {"EU-GSR2-ADDW", "EU-BATT-PASSPORT", "UN-R155", "UN-R156", "UN-R79"} <= eu
    for member in ("DE", "FR", "IT"):
        assert ids(demo, member) == eu
    assert ids(demo, "ES") == eu | {"ES-V16-BEACON"}  # Spain adds its own rule
    assert demo.lineage("ES") == ["ES", "EU"]


def test_china_gets_its_gb_standards_and_no_unece_rules(demo: Workspace) -> None:
    cn = ids(demo, "CN")
    assert {"CN-GB44495", "CN-GB44496", "CN-GB38031-2025"} <= cn
    assert not any(r.startswith(("UN-", "EU-", "ES-")) for r in cn)


def test_a_market_can_adopt_a_regulation_by_id(ws_dir: Path) -> None:
    path = ws_dir / "markets" / "CN.yaml"
    path.write_text(path.read_text() + "regulations: [UN-R157]\n")
    ws = load_workspace(ws_dir)
    assert "UN-R157" in ids(ws, "CN") and "UN-R155" not in ids(ws, "CN")


def test_effective_dates_per_mode(demo: Workspace) -> None:
    addw = demo.regulations["EU-GSR2-ADDW"]
    assert effective_date(addw, "new_types") == date(2024, 7, 7)
    assert effective_date(addw, "all") == date(2026, 7, 7)
    ecall = demo.regulations["EU-ECALL"]  # approved types only: never binds registrations of older types
    assert effective_date(ecall, "new_types") == date(2018, 3, 31) and effective_date(ecall, "all") is None
    r79 = demo.regulations["UN-R79"]
    assert effective_date(r79, "new_types") == IN_FORCE and in_force(r79, date(1990, 1, 1), "all")


def test_a_rule_dated_only_for_registrations_binds_new_types_from_that_day(demo: Workspace) -> None:
    from dataclasses import replace

    only_all = replace(demo.regulations["EU-GSR2-ADDW"], applies_new_types=None)
    assert effective_date(only_all, "new_types") == date(2026, 7, 7)


@pytest.mark.parametrize("text", ["new_types", "new-types", "NEW-TYPES", "all"])
def test_parse_mode_accepts_both_spellings(text: str) -> None:
    assert parse_mode(text) in ("new_types", "all")


@pytest.mark.parametrize("text", ["registration", "", "both"])
def test_parse_mode_rejects_anything_else(text: str) -> None:
    with pytest.raises(MarketsError, match="mode must be new-types or all"):
        parse_mode(text)


@pytest.mark.parametrize("text", ["2027-02-30", "tomorrow", "18.02.2027", ""])
def test_parse_date_rejects_what_is_not_a_date(text: str) -> None:
    with pytest.raises(MarketsError, match="date must be YYYY-MM-DD"):
        parse_date(text)


def test_parse_date() -> None:
    assert parse_date(" 2027-02-18 ") == date(2027, 2, 18)
