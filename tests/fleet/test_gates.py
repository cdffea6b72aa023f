"""The campaign gate rules, with plain numbers (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evplatform.errors import FleetError
from evplatform.fleet.gates import (
    DEFAULT_WAVES,
    Counts,
    MaintenanceWindow,
    WavePolicy,
    allowed_from,
    check_waves,
    decide,
    missing_approvals,
    open_timezones,
    wave_sizes,
    wilson_lower,
)


def test_default_waves_are_canary_ten_fifty_hundred() -> None:
    assert [w.fraction for w in DEFAULT_WAVES] == [0.01, 0.10, 0.50, 1.0]
    assert wave_sizes(1000, DEFAULT_WAVES) == [10, 90, 400, 500]


def test_tiny_fleet_still_has_a_canary_of_one() -> None:
    assert wave_sizes(7, DEFAULT_WAVES) == [1, 0, 3, 3]
    assert wave_sizes(0, DEFAULT_WAVES) == [0, 0, 0, 0]


@given(st.integers(min_value=0, max_value=2_000_000))
def test_wave_sizes_cover_every_target_once(targets: int) -> None:
    sizes = wave_sizes(targets, DEFAULT_WAVES)
    assert sum(sizes) == targets and min(sizes) >= 0


@pytest.mark.parametrize(
    ("waves", "message"),
    [
        ((), "at least one wave"),
        ((WavePolicy(0.5), WavePolicy(0.2), WavePolicy(1.0)), "must increase"),
        ((WavePolicy(0.1), WavePolicy(0.5)), "must reach 100 %"),
    ],
)
def test_bad_wave_plans_are_refused(waves: tuple[WavePolicy, ...], message: str) -> None:
    with pytest.raises(FleetError, match=message):
        check_waves(waves)


def test_thresholds_outside_zero_one_are_refused() -> None:
    with pytest.raises(FleetError, match="error_threshold"):
        WavePolicy(0.5, error_threshold=1.5)


def test_wilson_lower_bound_known_values() -> None:
    # p = 0.05, n = 100, z = 1.645: lower bound ≈ 0.0245 (hand computed)
    assert wilson_lower(5, 100) == pytest.approx(0.0245, abs=5e-4)
    assert wilson_lower(0, 100) == 0.0
    assert wilson_lower(0, 0) == 0.0
    assert wilson_lower(100, 100) < 1.0


POLICY = WavePolicy(0.1, success_threshold=0.9, error_threshold=0.02)


def test_advance_when_enough_succeeded_and_errors_low() -> None:
    wave = Counts(size=1000, succeeded=950, failed=5, rolled_back=2)
    assert decide(POLICY, wave, {}, index=1, last=False).action == "advance"
    assert decide(POLICY, wave, {}, index=3, last=True).action == "complete"


def test_wait_while_below_the_success_threshold() -> None:
    assert decide(POLICY, Counts(size=1000, succeeded=500, failed=2), {}, index=0, last=False).action == "wait"


def test_halt_on_the_wave_error_rate_with_confidence() -> None:
    decision = decide(POLICY, Counts(size=1000, succeeded=400, failed=40), {}, index=1, last=False)
    assert decision.action == "halt"
    assert "wave 2: error rate 9.1% (40 of 440 reports)" in decision.reason


def test_one_early_failure_is_not_enough_evidence() -> None:
    # 1 error in 31 reports is 3.2 %, above the 2 % threshold, but its 95 % lower bound (~0.6 %) is not.
    assert decide(POLICY, Counts(size=1000, succeeded=30, failed=1), {}, index=0, last=False).action == "wait"


def test_halt_on_a_bad_cohort_hidden_in_a_good_wave() -> None:
    wave = Counts(size=2000, succeeded=1900, failed=10, rolled_back=10)  # 1 % overall: fine
    cohorts = {"su7/max": Counts(size=200, succeeded=180, rolled_back=12), "yu7/pro": Counts(size=1800)}
    decision = decide(POLICY, wave, cohorts, index=2, last=False)
    assert decision.action == "halt" and "cohort su7/max" in decision.reason


def test_small_cohorts_are_ignored() -> None:
    cohorts = {"su7-ultra/ultra": Counts(size=10, succeeded=8, failed=2)}
    wave = Counts(size=1000, succeeded=990, failed=2)
    assert decide(POLICY, wave, cohorts, index=0, last=False).action == "advance"


def test_window_inside_a_day_and_across_midnight() -> None:
    night = MaintenanceWindow.parse("22:00", "04:00")
    assert night.is_open(time(23, 30)) and night.is_open(time(3, 59))
    assert not night.is_open(time(4, 0)) and not night.is_open(time(12, 0))
    early = MaintenanceWindow.parse("01:00", "05:00")
    assert early.is_open(time(1, 0)) and not early.is_open(time(5, 0))


def test_open_timezones_use_local_time() -> None:
    window = MaintenanceWindow.parse("02:00", "05:00")
    now = datetime(2026, 11, 24, 19, 30, tzinfo=UTC)  # 03:30 in Shanghai, 20:30 in Berlin
    assert open_timezones(window, ["Asia/Shanghai", "Europe/Berlin"], now) == ["Asia/Shanghai"]
    assert open_timezones(None, ["Asia/Shanghai"], now) is None


def test_bad_window_and_zone_are_refused() -> None:
    with pytest.raises(FleetError, match="not HH:MM"):
        MaintenanceWindow.parse("2am", "05:00")
    with pytest.raises(FleetError, match="unknown time zone"):
        open_timezones(MaintenanceWindow.parse("01:00", "02:00"), ["Mars/Olympus"], datetime.now(UTC))


def test_missing_approvals_follow_market_parents() -> None:
    required = {"CN": True, "DE": True, "FR": True, "XX": False}
    parents = {"DE": "EU", "FR": "EU", "EU": None, "CN": None, "XX": None}
    assert missing_approvals(["CN", "DE", "FR", "XX"], required, parents, ["EU"]) == ["CN"]
    assert missing_approvals(["CN", "DE"], required, parents, ["CN", "DE"]) == []
    assert missing_approvals(["DE"], required, parents, []) == ["DE"]


def test_operator_actions_by_state() -> None:
    assert allowed_from("resume") == ("paused", "acknowledged")  # a halt is acknowledged before it resumes
    with pytest.raises(FleetError, match="unknown campaign action"):
        allowed_from("explode")


@given(
    size=st.integers(min_value=1, max_value=5000),
    parts=st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)),
    threshold=st.floats(0.005, 0.5),
)
def test_decide_never_advances_past_a_confident_error_rate(
    size: int, parts: tuple[float, float, float], threshold: float
) -> None:
    succeeded = int(parts[0] * size)
    failed = int(parts[1] * (size - succeeded))
    rolled_back = int(parts[2] * (size - succeeded - failed))
    wave = Counts(size, succeeded, failed, rolled_back)
    policy = WavePolicy(0.5, success_threshold=0.9, error_threshold=threshold)
    decision = decide(policy, wave, {"all": wave}, index=0, last=False)
    confident = wilson_lower(wave.errors, wave.reports) > threshold
    assert (decision.action == "halt") == confident
    if decision.action == "advance":
        assert wave.success_rate >= 0.9


def test_a_soaking_wave_waits_before_the_next_opens() -> None:
    policy = WavePolicy(0.01, soak_hours=24)
    wave = Counts(size=100, succeeded=100)
    assert decide(policy, wave, {}, index=0, last=False, elapsed_hours=5).action == "wait"
    assert "soaking: 5 of 24 h" in decide(policy, wave, {}, index=0, last=False, elapsed_hours=5).reason
    assert decide(policy, wave, {}, index=0, last=False, elapsed_hours=24).action == "advance"
    bad = Counts(size=100, succeeded=80, rolled_back=20)
    assert decide(policy, bad, {}, index=0, last=False, elapsed_hours=1).action == "halt"  # soaking never hides errors
    with pytest.raises(FleetError, match="soak_hours"):
        WavePolicy(0.5, soak_hours=-1)
