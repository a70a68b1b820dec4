"""Decision engine v2: adaptive rounds within the budget, a confidence interval, minImprovement.

Which sizes fail, spike or cannot hold the function, payloads and cold starts: test_engine_sizes.py.
"""

from __future__ import annotations

import math

import pytest
from engine_runs import CHEAPEST_AT_512, KEEPS_GETTING_FASTER, duration_at, observe, request, spent, tune

from autotuner_core.decision.engine import SizeObservation, SizeRequest, budget, max_sizes, next_round
from autotuner_core.decision.statistics import decide


def test_the_first_round_measures_four_sizes_spread_over_the_range_including_the_current_one() -> None:
    # Given a default request and a function at 512 MB
    # When the engine plans its first round
    planned = next_round(request(), 512, [], max_memory_mb=3008)
    # Then it asks for four sizes, two invocations each (a clearly bad size costs no more than that),
    # the current one among them, spread 16x apart
    sizes = [item.memory_size for item in planned]
    assert len(sizes) == 4
    assert 512 in sizes
    assert all(item.invocations == 2 for item in planned)
    assert max(sizes) / min(sizes) >= 8
    assert all(128 <= size <= 3008 for size in sizes)


def test_sizes_stay_within_the_requested_range_and_the_allowed_maximum() -> None:
    # Given memorySizes from 256 to 3008 MB and an account that allows only 1024 MB
    decision, rounds = tune(CHEAPEST_AT_512, current=256, memorySizes=[256, 3008], max_memory_mb=1024)
    # Then nothing outside 256-1024 MB was measured
    measured = {item.memory_size for planned in rounds for item in planned}
    assert min(measured) >= 256
    assert max(measured) <= 1024
    assert decision.memory_size == 512


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("curve", [CHEAPEST_AT_512, KEEPS_GETTING_FASTER], ids=["cheapest-512", "faster"])
def test_measuring_stops_within_half_of_power_tunings_budget(curve: dict[int, float], seed: int) -> None:
    # Given the default invocations (10): Power Tuning would spend 6 sizes x 10 = 60
    # When the engine runs until it says done, with noisier measurements than usual
    decision, rounds = tune(curve, noise=0.15, seed=seed)
    # Then it spent at most 30 invocations, and the decision counts what was spent
    assert budget(request()) == 30
    assert spent(rounds) <= 30
    assert decision.invocations == spent(rounds)


@pytest.mark.parametrize("strategy", ["cost", "speed", "balanced"])
@pytest.mark.parametrize("current", [128, 700, 3008])
@pytest.mark.parametrize("curve", [CHEAPEST_AT_512, KEEPS_GETTING_FASTER], ids=["cheapest-512", "faster"])
def test_the_run_budget_s_count_of_sizes_bounds_what_the_engine_measures(
    curve: dict[int, float], current: int, strategy: str
) -> None:
    # Given a generous number of invocations, so that the engine may wander over the ladder
    fields = {"strategy": strategy, "invocations": 30, "memorySizes": [128, 3008]}
    # When it runs until it says done, from a current size on or between ladder steps
    _, rounds = tune(curve, current=current, noise=0.15, seed=current, **fields)
    # Then it measured no more sizes than the bound the pre-run estimate counts
    measured = {item.memory_size for planned in rounds for item in planned}
    assert len(measured) <= max_sizes(request(**fields), current, 3008)


def test_a_bigger_invocations_setting_buys_a_bigger_budget_but_never_more() -> None:
    # Given noisy measurements and invocations 20 (Power Tuning would spend 120)
    _, rounds = tune(CHEAPEST_AT_512, noise=0.3, invocations=20)
    # Then the engine uses more than the default budget of 30 to separate sizes, and at most 60
    assert 30 < spent(rounds) <= 60


def test_the_clear_cost_optimum_is_found_with_a_confidence_interval_around_the_true_change() -> None:
    # Given a function whose cost per invocation is lowest at 512 MB, running at 128 MB
    decision, _ = tune(CHEAPEST_AT_512)
    # Then 512 MB is recommended, and the 90 % interval of the projected change holds the true change
    true_change = (512 * 500 / (128 * 4000) - 1) * 100
    assert decision.memory_size == 512
    assert not decision.keep_current
    assert decision.change_ci_low_pct <= true_change <= decision.change_ci_high_pct
    assert decision.change_ci_low_pct < decision.projected_change_pct < decision.change_ci_high_pct
    assert decision.cost_change_pct == pytest.approx(decision.projected_change_pct)
    assert "512 MB instead of 128 MB" in decision.summary
    assert "90 % CI" in decision.summary


def test_the_cost_strategy_follows_a_falling_cost_curve_up_the_ladder() -> None:
    # Given a function whose cost keeps falling up to 3008 MB (faster than memory grows)
    curve = {128: 40000.0, 256: 15000.0, 512: 6000.0, 1024: 2500.0, 1536: 1500.0, 2048: 1000.0, 3008: 600.0}
    decision, rounds = tune(curve)
    # Then the cheapest size is recommended although the first round stopped at 2048 MB
    assert max(item.memory_size for item in rounds[0]) == 2048
    assert decision.memory_size == 3008


def test_the_speed_strategy_measures_the_top_of_the_range_first() -> None:
    # Given a function that keeps getting faster up to 3008 MB
    decision, rounds = tune(KEEPS_GETTING_FASTER, strategy="speed")
    # Then the first round reaches the top, and the fastest size is recommended
    assert 3008 in {item.memory_size for item in rounds[0]}
    assert decision.memory_size == 3008
    assert decision.speed_change_pct < -90


def test_an_improvement_below_min_improvement_keeps_the_current_size() -> None:
    # Given a function at 128 MB for which 256 MB is only 3 % cheaper
    curve = {128: 1000.0, 256: 485.0, 512: 300.0, 1024: 200.0, 2048: 150.0, 3008: 140.0}
    decision, _ = tune(curve, noise=0.0)
    # Then the current size is kept (default minImprovement 5 %), saying what the best size would change
    assert decision.best_memory_size == 256
    assert decision.keep_current
    assert decision.memory_size == 128
    assert decision.min_improvement == 0.05
    assert decision.projected_change_pct == pytest.approx(-3.0, abs=0.1)
    assert "keep the current 128 MB" in decision.summary
    assert "below the minimum improvement of 5%" in decision.summary


def test_while_the_threshold_is_unclear_the_current_size_is_measured_before_a_contender() -> None:
    # Given 512 MB measured 7 % cheaper than the current 128 MB, an interval that reaches both
    # sides of minImprovement (5 %), and 1024 MB 3 % dearer than 512 MB on four invocations
    observed = [
        observe(128, [400.0] * 8),
        observe(256, [240.0] * 2),
        observe(512, [93.0] * 8),
        observe(1024, [48.0] * 4),
        observe(2048, [50.0] * 2),
    ]
    so_far = decide(request(), 128, observed)
    assert so_far.best_memory_size == 512
    assert so_far.change_ci_low_pct < -5 < so_far.change_ci_high_pct

    # When 6 of the budget of 30 are left, the next round is the best size and the current one:
    # a wrong keep would cost at least 5 %, a wrong pick between 512 and 1024 MB about 3 %
    assert next_round(request(), 128, observed, max_memory_mb=3008) == [
        SizeRequest(memory_size=512, invocations=3),
        SizeRequest(memory_size=128, invocations=3),
    ]
    # and with a budget of 60 the contender is measured too, after them
    assert [item.memory_size for item in next_round(request(invocations=20), 128, observed, max_memory_mb=3008)] == [
        512,
        128,
        1024,
    ]


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_min_improvement_at_either_end_of_its_range_plans_and_decides(value: float) -> None:
    # Given minImprovement 0 (any improvement counts) or 1 (none can), both valid inputs
    curve = {128: 1000.0, 256: 485.0, 512: 300.0, 1024: 200.0, 2048: 150.0, 3008: 140.0}

    # When the engine measures and decides
    decision, rounds = tune(curve, current=512, minImprovement=value)

    # Then it finishes within the budget; at 1 it keeps the current size, at 0 it takes the best
    assert spent(rounds) <= budget(request())
    assert decision.keep_current is (value == 1.0 or decision.best_memory_size == 512)
    assert decision.memory_size == (512 if value == 1.0 else decision.best_memory_size)


def test_a_smaller_min_improvement_lets_the_same_saving_through() -> None:
    curve = {128: 1000.0, 256: 485.0, 512: 300.0, 1024: 200.0, 2048: 150.0, 3008: 140.0}
    # Three sizes: with four or more, the fitted curve moves a 3 % difference (the curve below is
    # not of its shape at 128-256 MB); that pooling has its own test.
    observed = [observe(m, [duration_at(curve, m)] * 6) for m in (128, 256, 512)]
    decision = decide(request(), 128, observed, min_improvement=0.01)
    assert decision.memory_size == 256
    assert not decision.keep_current


def test_with_four_sizes_or_more_an_unlucky_size_is_pulled_towards_the_curve_the_others_follow() -> None:
    # Given five sizes that follow d(m) = 50 + 2000 * exp(-m / 150) ms with the same spread, except
    # 512 MB, whose six invocations all came out 7 % fast
    def true_ms(memory: int) -> float:
        return 50 + 2000 * math.exp(-memory / 150)

    spread = [0.94, 1.06, 0.97, 1.03, 1.0, 1.0]
    centre = math.exp(sum(math.log(f) for f in spread) / len(spread))

    def measured(memory: int, luck: float = 1.0) -> SizeObservation:
        return observe(memory, [true_ms(memory) * luck * f for f in spread])

    sizes = [measured(128), measured(256), measured(512, 0.93), measured(1024), measured(2048)]
    # When the engine estimates them
    rows = {row.memory_size: row for row in decide(request(), 128, sizes).sizes}
    # Then 512 MB's estimate lies between its own invocations and the curve (Parrotfish's model)
    own, curve = 0.93 * centre * true_ms(512), centre * true_ms(512)
    assert own * 1.005 < rows[512].duration_ms < curve * 0.995
    # while with three sizes there is nothing to pool: each is its own invocations' estimate
    rows = {row.memory_size: row for row in decide(request(), 256, sizes[1:4]).sizes}
    assert rows[512].duration_ms == pytest.approx(0.93 * centre * true_ms(512), rel=1e-6)


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_min_improvement_outside_zero_to_one_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="min_improvement must be in"):
        decide(request(), 128, [observe(128, [10.0] * 3)], min_improvement=value)
