"""The real-curve benchmark's baseline is Power Tuning's own analysis: its trimmed mean, prices and strategies."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not an installed package
from benchmarks import power_tuning


def test_power_tuning_trims_twenty_percent_from_each_end_by_default() -> None:
    values = [100.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 0.0]
    # 10 values: trunc(10 * 0.2) = 2 dropped from each end (0, 1 and 8, 100)
    assert power_tuning.trimmed_mean(values, 0.2) == pytest.approx(4.5)
    # fewer than 5 values: nothing to drop
    assert power_tuning.trimmed_mean([1.0, 2.0, 9.0], 0.2) == pytest.approx(4.0)


def test_power_tuning_prices_ceiled_milliseconds_without_the_request_charge() -> None:
    assert power_tuning.price(1024, 100.2, "x86_64") == pytest.approx(101 * 2.1e-9 * 8)
    assert power_tuning.price(128, 10.0, "arm64") == pytest.approx(10 * 1.7e-9)


def test_power_tuning_counts_init_in_its_duration_and_bills_what_lambda_bills() -> None:
    stats = power_tuning.power_stats(128, [10.0] * 5, [160.0, 10.0, 10.0, 10.0, 10.0], init_ms=[150.0, 0, 0, 0, 0])
    # trimmed: one of five from each end, so the cold start is dropped from both means
    assert stats.average_duration == pytest.approx(10.0)
    assert stats.average_price == pytest.approx(power_tuning.price(128, 10.0))
    assert stats.total_cost == pytest.approx(power_tuning.price(128, 160.0) + 4 * power_tuning.price(128, 10.0))


def _stats(value: int, price: float, duration: float) -> power_tuning.PowerStats:
    return power_tuning.PowerStats(value=value, average_price=price, average_duration=duration, total_cost=0.0)


def test_power_tuning_strategies_and_their_tie_breaks() -> None:
    stats = [_stats(128, 2.0, 100.0), _stats(256, 2.0, 60.0), _stats(512, 3.0, 60.0), _stats(1024, 8.0, 20.0)]
    assert power_tuning.analyze(stats, "cost").power == 256  # equal prices go to the faster
    assert power_tuning.analyze(stats, "speed").power == 1024
    assert power_tuning.analyze(stats[:3], "speed").power == 256  # equal durations go to the cheaper
    # balanced 0.5: 0.5 * price / 8 + 0.5 * duration / 100 -> 256 (0.425) beats 1024 (0.6)
    assert power_tuning.analyze(stats, "balanced").power == 256
    assert power_tuning.analyze(stats, "balanced", balanced_weight=0).power == 1024
    # the states its state machine enters: Initializer, (Publisher, IsCountReached) x (4 + 1 restore),
    # Branching, 4 Executors, Cleaner, Analyzer, Optimizer
    assert power_tuning.analyze(stats, "cost").state_transitions == 1 + 2 * 5 + 1 + 4 + 3


def test_power_tuning_spends_num_invocations_per_power_value() -> None:
    calls: list[int] = []

    def invoke(memory: int) -> tuple[float, float, float]:
        calls.append(memory)
        return 1000.0 / memory * 128, float(int(1000.0 / memory * 128) + 1), 0.0

    result = power_tuning.tune(invoke)
    assert len(calls) == 60
    assert sorted(set(calls)) == list(power_tuning.POWER_VALUES)
    assert result.power == 128  # the 1 ms rounding makes the smallest size the cheapest
