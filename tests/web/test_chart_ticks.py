"""Round axis ticks (``web.charts.nice_ticks``): a margin axis reads 0, 10, 20, 30, never 6.25 or 19."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest

from evplatform.web.charts import Series, bar_chart, line_chart, nice_step, nice_ticks, tick_labels

ROUND_MANTISSAS = (1.0, 2.0, 2.5, 5.0)


def _is_round_step(step: float) -> bool:
    mantissa = float(f"{step:.6e}".split("e")[0])
    return any(abs(mantissa - m) < 1e-9 for m in ROUND_MANTISSAS)


@pytest.mark.parametrize(("low", "high", "expected"), [
    (4.9, 25.5, [0.0, 10.0, 20.0, 30.0]),  # the peers' gross margins in %: once 6.4, 12.8, 19.1, 25.5
    (0.0, 25.0, [0.0, 10.0, 20.0, 30.0]),
    (0.0, 100.0, [0.0, 25.0, 50.0, 75.0, 100.0]),
    (0.0, 144_033.0, [0.0, 50_000.0, 100_000.0, 150_000.0]),
    (-56.85, 55.87, [-100.0, -50.0, 0.0, 50.0, 100.0]),  # battery power: discharge and regeneration
    (0.0, 0.3, [0.0, 0.1, 0.2, 0.3]),
])
def test_ticks_are_round_and_cover_the_data(low: float, high: float, expected: list[float]) -> None:
    ticks = nice_ticks(low, high)
    assert ticks == expected
    assert ticks[0] <= min(low, 0.0) and ticks[-1] >= high


@pytest.mark.parametrize("high", [0.07, 1.0, 3.3, 7.3, 12.5, 26.4, 99.0, 101.0, 999.0, 12_345.0])
def test_every_step_is_one_two_two_and_a_half_or_five_times_a_power_of_ten(high: float) -> None:
    ticks = nice_ticks(0.0, high)
    steps = {round(b - a, 9) for a, b in pairwise(ticks)}
    assert len(steps) == 1 and _is_round_step(steps.pop())
    assert 3 <= len(ticks) <= 6
    assert _is_round_step(nice_step(high))


def test_a_narrow_band_without_zero() -> None:
    assert nice_ticks(88.3, 90.0, include_zero=False) == [88.0, 88.5, 89.0, 89.5, 90.0]
    assert nice_ticks(10.32, 10.48, include_zero=False)[0] <= 10.32


def test_labels_carry_the_decimals_the_ticks_need() -> None:
    assert tick_labels([0.0, 2.5, 5.0, 7.5, 10.0]) == ["0.0", "2.5", "5.0", "7.5", "10.0"]
    assert tick_labels([0.0, 12.5, 25.0]) == ["0.0", "12.5", "25.0"]  # never "12" for 12.5
    assert tick_labels([0.0, 50_000.0, 100_000.0]) == ["0", "50,000", "100,000"]


def test_a_margin_chart_draws_round_y_ticks() -> None:
    svg = line_chart([Series("NIO", [0, 1, 2], [4.9, 13.9, 17.5]), Series("Xiaomi", [0, 1, 2], [15.4, 20.4, 25.5])],
                     title="Gross margin", y_label="%", x_label="quarter")
    labels = re.findall(r'class="chart-label y-tick"[^>]*>([^<]+)<', svg)
    assert labels == ["0", "10", "20", "30"]


def test_bar_values_can_keep_two_decimals() -> None:
    svg = bar_chart(["a", "b"], [10.32, 10.48], title="Consumption", unit="kWh/100 km", digits=2)
    assert "10.32 kWh/100 km" in svg and "10.48 kWh/100 km" in svg
    assert "10.32" not in bar_chart(["a"], [10.32], title="Consumption", unit="kWh/100 km")  # the old rounding
