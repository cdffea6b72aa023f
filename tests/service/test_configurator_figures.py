"""Issue 15 section 2: live figures of a configurator session and the closest compliant configuration.

Expected numbers come from the engines the page claims to show: ``platform.kpi.trim_costs`` and
``platform.bom_of`` for cost, the batch simulator through ``vehicle.simulate_trims`` for range,
``markets.configuration`` for the verdict.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from evplatform.errors import ConflictError, NotFoundError
from evplatform.markets.configuration import configuration_verdict, in_market
from evplatform.markets.verdict import COMPLIANT, NON_COMPLIANT, regulations_in_force
from evplatform.platform import bom_of
from evplatform.platform.kpi import trim_costs
from evplatform.service.configurator import ConfiguratorSession, start_from
from evplatform.service.configurator_figures import configuration_so_far, session_closest, session_figures
from evplatform.variability.closest import closest_to_decisions
from evplatform.variability.cnf import CNF, encode
from evplatform.vehicle import simulate_trims
from evplatform.workspace import Workspace, load_workspace

TRIM, DEAR = "yu7/standard", "yu7/pro"
ON = date(2028, 6, 1)  # EU GSR2 phase 2, the battery passport and Euro 7 in force; CN's door-handle rule too


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return load_workspace(None)


@pytest.fixture(scope="module")
def cnf(ws: Workspace) -> CNF:
    return encode(ws.feature_model)


def _session(ws: Workspace, cnf: CNF, trim: str | None, market: str | None) -> ConfiguratorSession:
    return ConfiguratorSession("s", "ann", ws.feature_model, cnf, "features.uvl", start_from(ws, trim, market),
                               datetime(2026, 12, 3, tzinfo=UTC))


@pytest.fixture
def session(ws: Workspace, cnf: CNF) -> Iterator[ConfiguratorSession]:
    opened = _session(ws, cnf, TRIM, "CN")
    yield opened
    opened.close()


def test_the_unit_cost_delta_is_the_kpis_difference_between_two_trims(ws: Workspace,
                                                                      session: ConfiguratorSession) -> None:
    costs = {c.trim.key: c for c in trim_costs(ws)}  # the KPI's unit cost, base market CN
    own = session_figures(ws, session, ["CN"], ON)
    assert own["basis"] == "cheapest completion" and own["added_by_completion"] == []  # the trim: open = off
    assert own["cost"]["unit_delta"] == 0.0
    assert own["cost"]["unit"] == pytest.approx(costs[TRIM].unit_cost, abs=0.01)
    against = session_figures(ws, session, ["CN"], ON, base=DEAR)
    expected = costs[TRIM].unit_cost - costs[DEAR].unit_cost
    assert against["cost"]["unit_delta"] == pytest.approx(expected, abs=0.01) and expected < 0


def test_selecting_a_feature_with_parts_raises_the_cost_by_their_bom(ws: Workspace,
                                                                     session: ConfiguratorSession) -> None:
    before = session_figures(ws, session, ["CN"], ON)
    state = session.apply(select=["ALKS"])
    configuration = set(state["selected"]) | {r["feature"] for r in state["forced"]}
    after = session_figures(ws, session, ["CN"], ON)
    bom = bom_of(ws.parts, configuration).cost
    assert after["cost"]["bom"] == pytest.approx(bom, abs=0.01) and bom > before["cost"]["bom"]
    assert after["cost"]["unit_delta"] == pytest.approx(bom - before["cost"]["bom"], abs=0.01)
    assert after["markets"][0]["mass_kg"] > before["markets"][0]["mass_kg"]


@pytest.mark.parametrize("market", ["CN", "EU"])
def test_range_is_the_batch_simulators_for_the_trim_on_the_markets_cycle(ws: Workspace, cnf: CNF,
                                                                         market: str) -> None:
    opened = _session(ws, cnf, TRIM, market)
    try:
        row = session_figures(ws, opened, [market], ON)["markets"][0]
    finally:
        opened.close()
    simulated = {r["vehicle"]: r for r in simulate_trims(ws, "yu7", market=market).results}[TRIM]
    assert row["cycle"] == {"CN": "cltc", "EU": "wltc"}[market] == simulated["cycle"]
    assert row["range_km"] == simulated["range_km"]
    assert row["consumption_kwh_per_100km"] == simulated["consumption_kwh_per_100km"]["battery"]


def test_a_partial_configuration_is_figured_on_its_cheapest_completion(ws: Workspace, cnf: CNF) -> None:
    scratch = _session(ws, cnf, None, None)
    try:
        figures = session_figures(ws, scratch, [], ON)
    finally:
        scratch.close()
    assert figures["basis"] == "cheapest completion" and not figures["complete"]
    assert figures["added_by_completion"] and "cheapest completion" in figures["note"]
    assert figures["markets"][0]["range_km"] is not None and figures["cost"]["unit"] is None  # no base trim


def test_verdict_lists_the_missing_features_of_each_market(ws: Workspace, session: ConfiguratorSession) -> None:
    rows = {r["market"]: r for r in session_figures(ws, session, ["CN", "EU"], ON)["markets"]}
    assert rows["EU"]["verdict"]["status"] == NON_COMPLIANT and "BatteryPassport" in rows["EU"]["verdict"]["missing"]
    assert rows["EU"]["cycle"] == "wltc" and rows["CN"]["cycle"] == "cltc"
    with pytest.raises(NotFoundError):
        session_figures(ws, session, ["XX"], ON)


def test_closest_complies_is_valid_and_changes_no_more_than_the_naive_fix(ws: Workspace,
                                                                        session: ConfiguratorSession) -> None:
    session.apply(deselect=["ADDW"])  # the EU requires ADDW from 2026-07-07
    state = session.state()
    found = session_closest(ws, session, "EU", ON, apply=False)
    assert found["before"]["status"] == NON_COMPLIANT and found["after"]["status"] == COMPLIANT
    assert found["changes"] == 1 and found["overturned"][0]["feature"] == "ADDW"
    assert "EU-GSR2-ADDW" in found["overturned"][0]["why"]
    named = {n for r in regulations_in_force(ws, "EU", ON, "new_types") for n in r.requires.variables()}
    naive = [n for n in state["selected"] + state["deselected"] if n in named]  # drop every decision a rule names
    assert found["changes"] <= len(naive)
    assert session.state()["deselected"] == state["deselected"]  # not applied

    session_closest(ws, session, "EU", ON, apply=True)
    after = session.state()
    assert not after["open"] and after["market"] == "EU" and "ADDW" not in after["deselected"]
    configuration = frozenset(after["selected"]) | {r["feature"] for r in after["forced"]}
    assert ws.feature_model.configuration_errors(configuration) == []
    assert configuration_verdict(ws, in_market(ws, configuration, "EU"), "EU", ON).status == COMPLIANT
    assert session_figures(ws, session, ["EU"], ON)["markets"][0]["verdict"]["status"] == COMPLIANT


def test_a_unit_only_step_answers_first_and_settles_on_the_next_read(session: ConfiguratorSession) -> None:
    quick = session.apply(select=["ALKS"], unit_only=True)
    assert quick["pending"] and not quick["complete"]
    full = session.state()
    assert not full["pending"] and full["complete"] and "DSSAD" in {r["feature"] for r in full["forced"]}


def test_a_contradiction_only_the_complete_answer_sees_restores_the_decisions(ws: Workspace, cnf: CNF) -> None:
    scratch = _session(ws, cnf, None, None)
    try:
        # Inlet_GBT and Inlet_CCS2 are alternatives; deselecting both leaves no inlet. Unit propagation
        # may or may not see it; either way the session must end with its old decisions.
        try:
            scratch.apply(deselect=["Inlet_GBT", "Inlet_CCS2"], unit_only=True)
            with pytest.raises(ConflictError):
                scratch.state()
        except ConflictError:
            pass
        assert scratch.state()["deselected"] == []
    finally:
        scratch.close()


def test_the_closure_shortcut_is_the_solvers_cheapest_completion(session: ConfiguratorSession) -> None:
    """A trim's session skips the solver (its tree closure is valid and costs are not negative): same set."""
    session.apply(select=["ALKS"])
    state = session.state()
    assert state["open"]  # partial: the completion is needed
    shortcut, basis, _ = configuration_so_far(session)
    solved = closest_to_decisions(session.model, state["selected"], state["deselected"]).selected
    assert basis == "cheapest completion" and shortcut == solved
