"""Issue 22 core: landed cost and customer price by hand, each incentive rule at its boundaries,
bad input that names the file and field."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from evplatform.europe import (
    EuData,
    EuropeDataError,
    EuropeInputError,
    Origin,
    customer_price,
    eligibility,
    exchange_rate,
    landed_cost,
    load_eu_data,
    packaged_folder,
    parse_duty,
)
from evplatform.europe.data import IncentiveRule

ON = date(2027, 1, 1)
CHINA = Origin("CN", "CN", None)


@pytest.fixture(scope="module")
def data() -> EuData:
    return load_eu_data()


def _rule(data: EuData, country: str, scheme_start: str) -> IncentiveRule:
    [rule] = [r for r in data.incentives if r.country == country and r.scheme.startswith(scheme_start)]
    return rule


def test_landed_cost_and_customer_price_by_hand(data: EuData) -> None:
    # 200,000 CNY × 0.125 = 25,000 EUR; + 1,500 logistics = 26,500 CIF; MFN 10 % = 2,650;
    # CVD 35.3 % = 9,354.50; landed = 38,504.50 EUR.
    rate = exchange_rate("CNY", 0.125, "2026-12-01")
    landed = landed_cost(200_000, rate, 1500, parse_duty("35.3", data), data)
    assert landed.unit_cost.value == pytest.approx(25_000)
    assert landed.mfn.value == pytest.approx(2_650)
    assert landed.cvd.value == pytest.approx(9_354.50)
    assert landed.total == pytest.approx(38_504.50)
    assert landed.cvd.low_confidence and not landed.mfn.low_confidence  # Xiaomi's CVD is an inference
    # Germany: net = 38,504.50 × 1.15 = 44,280.175; VAT 19 % = 8,413.23325; gross 52,693.40825;
    # registration tax 0 (low confidence); E-Auto-Förderprogramm 3,000 → 49,693.40825 EUR.
    price = customer_price(landed.total, data.country("DE"), 0.15, CHINA, ON, data)
    assert price.net.value == pytest.approx(44_280.175)
    assert price.vat.value == pytest.approx(8_413.23325)
    assert price.gross == pytest.approx(52_693.40825)
    assert price.registration_tax.low_confidence
    assert price.best is not None and price.best.rule.amount.value == 3000
    assert price.after_incentives == pytest.approx(49_693.40825)
    assert any("income" in a for a in price.best.assumptions)  # a buyer condition is an assumption, said so


def test_duty_scenarios_by_hand(data: EuData) -> None:
    rate = exchange_rate("CNY", 0.125, "2026-12-01")
    cooperating = landed_cost(200_000, rate, 1500, parse_duty("20.7", data), data)
    assert cooperating.total == pytest.approx(26_500 * 1.307)
    # undertaking: customs value raised to the minimum import price 30,000; MFN on it, no CVD.
    undertaking = landed_cost(200_000, rate, 1500, parse_duty("undertaking:30000", data), data)
    assert undertaking.customs_value == 30_000 and undertaking.cvd.value == 0
    assert undertaking.total == pytest.approx(26_500 + 3_000)
    above = landed_cost(200_000, rate, 1500, parse_duty("undertaking:20000", data), data)
    assert above.customs_value == pytest.approx(26_500)  # a CIF above the minimum is declared as is


@pytest.mark.parametrize(("net", "eligible"), [(34_999.99, True), (35_000.00, True), (35_000.01, False)])
def test_net_price_cap_below_at_above(data: EuData, net: float, eligible: bool) -> None:
    rule = _rule(data, "ES", "Programa Auto+ 2026 - BEV <= 35,000")
    verdict = eligibility(rule, net, net * 1.21, CHINA, ON)
    assert verdict.eligible is eligible
    assert [r["rule"] for r in verdict.reasons] == ([] if eligible else ["price_cap"])


@pytest.mark.parametrize(("gross", "eligible"), [(46_999.99, True), (47_000.00, True), (47_000.01, False)])
def test_gross_price_cap_below_at_above(data: EuData, gross: float, eligible: bool) -> None:
    rule = _rule(data, "FR", "Coup de pouce")
    verdict = eligibility(rule, gross / 1.2, gross, Origin("FR", "FR", 75), ON)
    assert verdict.eligible is eligible
    assert [r["rule"] for r in verdict.reasons] == ([] if eligible else ["price_cap"])


@pytest.mark.parametrize(("net", "eligible"), [(35_000.00, False), (35_000.01, True), (45_000.00, True)])
def test_price_band_floor_is_exclusive(data: EuData, net: float, eligible: bool) -> None:
    rule = _rule(data, "ES", "Programa Auto+ 2026 - BEV 35,000-45,000")
    verdict = eligibility(rule, net, net * 1.21, CHINA, ON)
    assert verdict.eligible is eligible
    assert [r["rule"] for r in verdict.reasons] == ([] if eligible else ["price_floor"])


@pytest.mark.parametrize(("assembly", "battery", "failing"), [
    ("CN", "CN", 2), ("ES", "CN", 1), ("CN", "PL", 1), ("ES", "PL", 0)])
def test_origin_rules(data: EuData, assembly: str, battery: str, failing: int) -> None:
    rule = _rule(data, "ES", "Programa Auto+ 2026 - maximum")
    verdict = eligibility(rule, 30_000, 36_300, Origin(assembly, battery), ON)
    assert [r["rule"] for r in verdict.reasons] == ["origin"] * failing
    assert verdict.eligible is (failing == 0)
    if failing:
        assert any(assembly in r["message"] or battery in r["message"] for r in verdict.reasons)


@pytest.mark.parametrize(("score", "eligible"), [(59.9, False), (60.0, True), (80.0, True)])
def test_france_environmental_score(data: EuData, score: float, eligible: bool) -> None:
    rule = _rule(data, "FR", "Coup de pouce")
    verdict = eligibility(rule, 30_000, 36_000, Origin("CN", "CN", score), ON)
    assert verdict.eligible is eligible
    assert [r["rule"] for r in verdict.reasons] == ([] if eligible else ["eco_score"])


def test_unknown_environmental_score_is_an_assumption_said_so(data: EuData) -> None:
    verdict = eligibility(_rule(data, "FR", "Coup de pouce"), 30_000, 36_000, CHINA, ON)
    assert not verdict.eligible
    assert "unknown" in verdict.reasons[0]["message"] and verdict.assumptions


@pytest.mark.parametrize(("on", "eligible"), [(date(2026, 6, 30), True), (date(2026, 7, 1), False),
                                              (date(2025, 10, 21), False)])
def test_scheme_validity_dates(data: EuData, on: date, eligible: bool) -> None:
    rule = _rule(data, "IT", "Incentivi")
    verdict = eligibility(rule, 30_000, 36_600, CHINA, on)
    assert verdict.eligible is eligible


def test_best_scheme_is_taken_and_origin_changes_it(data: EuData) -> None:
    spain = data.country("ES")
    china = customer_price(30_000 / 1.15, spain, 0.15, CHINA, ON, data)
    europe = customer_price(30_000 / 1.15, spain, 0.15, Origin("ES", "ES"), ON, data)
    assert china.best is not None and china.best.rule.amount.value == 3375
    assert europe.best is not None and europe.best.rule.amount.value == 4500


def test_missing_country_names_the_file_and_field(data: EuData) -> None:
    with pytest.raises(EuropeDataError) as raised:
        data.country("XX")
    assert "countries.csv" in str(raised.value) and "'country'" in str(raised.value)


def test_missing_rate_is_an_error_naming_the_inputs() -> None:
    with pytest.raises(EuropeInputError, match="--eur-per-cny"):
        exchange_rate("CNY", None, None)
    with pytest.raises(EuropeInputError, match="--rate-date"):
        exchange_rate("CNY", 0.125, None)
    with pytest.raises(EuropeInputError, match="--rate-date"):
        exchange_rate("CNY", 0.125, "yesterday")
    assert exchange_rate("EUR", None, None) is None  # a workspace in EUR needs no rate


def test_bad_duty_scenario_names_the_file(data: EuData) -> None:
    with pytest.raises(EuropeInputError, match=r"duties\.csv"):
        parse_duty("12.5", data)
    with pytest.raises(EuropeInputError, match="minimum import price"):
        parse_duty("undertaking:cheap", data)


def test_malformed_data_file_names_file_line_and_field(tmp_path: Path) -> None:
    folder = tmp_path / "eu"
    shutil.copytree(packaged_folder(), folder)
    path = folder / "incentives.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(",3100,", ",lots,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(EuropeDataError) as raised:
        load_eu_data(folder)
    assert str(raised.value).startswith(f"{path}:3:") and "'amount_eur'" in str(raised.value)


def test_rule_without_a_subsidy_is_never_eligible(data: EuData) -> None:
    rule = replace(_rule(data, "DE", "E-Auto"), amount=replace(_rule(data, "DE", "E-Auto").amount, value=0.0))
    assert not eligibility(rule, 30_000, 35_700, CHINA, ON).eligible
