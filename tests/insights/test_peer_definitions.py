"""The peer table says which metric each number is, what it covers, and whether its quarter is the newest."""

from __future__ import annotations

from typing import Any

from evplatform.insights import business_report
from evplatform.insights.business import METRIC_DEFINITIONS


def _peer(entity: str) -> dict[str, Any]:
    return next(p for p in business_report(None)["peers"] if p["entity"] == entity)


def test_each_peer_figure_names_its_definition_and_unit() -> None:
    tesla = _peer("Tesla")["gross_margin"]
    assert tesla["metric"] == "gross_margin_total_gaap"
    assert "GAAP" in tesla["definition"] and "not an automotive segment margin" in tesla["definition"]
    assert tesla["unit"] == "%"
    xiaomi = _peer("Xiaomi")["gross_margin"]
    assert xiaomi["metric"] == "segment_gross_margin" and "segment" in xiaomi["definition"]
    assert _peer("NIO")["deliveries"]["unit"] == "vehicles"
    for peer in business_report(None)["peers"]:
        for key in ("deliveries", "gross_margin", "vehicle_margin"):
            if peer[key]:
                assert peer[key]["definition"] == METRIC_DEFINITIONS[peer[key]["metric"]]


def test_a_third_quarter_figure_is_not_flagged_as_the_latest_quarter() -> None:
    byd = _peer("BYD")
    assert byd["gross_margin"]["period"] == "2025Q3" and byd["gross_margin"]["latest_quarter"] is False
    nio = _peer("NIO")
    assert nio["gross_margin"]["period"] == "2025Q4" and nio["gross_margin"]["latest_quarter"] is True
    assert _peer("Xiaomi")["deliveries"]["basis"] == "derived"
