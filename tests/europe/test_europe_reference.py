"""The packaged EU inputs agree with the reference data they were copied from (../shared, skipped when absent)."""

from __future__ import annotations

import csv
from pathlib import Path

from evplatform.europe import load_eu_data


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_vat_rates_match_the_reference(shared_data: Path) -> None:
    costs = _rows(shared_data / "markets" / "eu" / "eu_country_costs.csv")
    reference = {r["country"]: float(r["value"]) for r in costs if r["item"] == "vat_standard_rate"}
    data = load_eu_data()
    for code, country in data.countries.items():
        assert country.vat.value == reference[code], code


def test_duty_rates_match_the_reference(shared_data: Path) -> None:
    duties = _rows(shared_data / "markets" / "eu" / "eu_import_duties.csv")
    definitive = {float(r["rate_percent"]) for r in duties
                  if r["duty_type"].startswith(("MFN", "definitive")) and r["rate_percent"]}
    data = load_eu_data()
    for scenario, duty in data.duties.items():
        if scenario != "undertaking":
            assert duty.rate.value in definitive, scenario
    xiaomi = [r for r in duties if r["exporter"].startswith("Xiaomi")]
    assert xiaomi and xiaomi[0]["confidence"] == data.duties["35.3"].rate.confidence == "low"


def test_incentive_amounts_and_caps_match_the_reference(shared_data: Path) -> None:
    incentives = _rows(shared_data / "markets" / "eu" / "eu_ev_incentives.csv")
    for rule in load_eu_data().incentives:
        rows = [r for r in incentives if r["country"] == rule.country]
        amount = f"{rule.amount.value:g}"
        assert any(amount in r["amount_eur"].replace(" ", "") for r in rows), (rule.scheme, amount)
        if rule.price_cap_eur is not None:
            cap = f"{rule.price_cap_eur:g}"
            assert any(cap in r["price_cap_eur"] or cap in r["scheme"].replace(",", "") for r in rows), rule.scheme
