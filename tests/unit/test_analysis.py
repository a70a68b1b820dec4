"""Statistics per memory size, and engine v2's decision as the Recommendation the product reports."""

from __future__ import annotations

import pytest

from autotuner_core.cost.prices import invocation_cost_usd, lambda_prices
from autotuner_core.decision import statistics
from autotuner_core.decision.analysis import configuration_stats, recommendation_from
from autotuner_core.documents.request import Strategy, TuningRequest
from autotuner_core.documents.target import ConfigurationStats, InvocationSample, Recommendation, SizeObservation
from autotuner_core.policy.errors import InvalidConfigurationError

ARM = lambda_prices("us-east-1", "arm64")


def sample(
    duration: float,
    *,
    memory: int = 1024,
    billed: float | None = None,
    used: int | None = 80,
    init: float | None = None,
    error: str | None = None,
) -> InvocationSample:
    return InvocationSample(
        duration_ms=duration,
        billed_duration_ms=billed if billed is not None else float(int(duration) + 1),
        memory_size_mb=memory,
        max_memory_used_mb=used,
        init_duration_ms=init,
        error=error,
    )


def stats_for(memory: int, durations: list[float], *, discard: float = 0.2) -> ConfigurationStats:
    samples = [sample(d, memory=memory) for d in durations]
    return configuration_stats(memory, samples, prices=ARM, discard_top_bottom=discard, allowed_exceptions=())


# --------------------------------------------------------------------------------------------
# configuration_stats
# --------------------------------------------------------------------------------------------


def test_the_mean_is_trimmed_and_the_percentiles_use_every_sample() -> None:
    # Given ten invocations of 10..90 ms and one outlier of 1,000 ms (n = 10)
    durations = [10, 20, 30, 40, 50, 60, 70, 80, 90, 1000]

    # When they are summarised with discardTopBottom 0.2
    stats = stats_for(1024, durations)

    # Then two are dropped from each end (mean of 30..80 = 55) and the percentiles are nearest-rank
    assert stats.invocations == 10
    assert stats.mean_ms == pytest.approx(55.0)
    assert (stats.p50_ms, stats.p90_ms, stats.p99_ms) == (50, 90, 1000)
    assert stats.excluded is None


def test_without_trimming_the_mean_is_the_plain_mean() -> None:
    stats = stats_for(1024, [10, 20, 30, 40, 1000], discard=0)
    assert stats.mean_ms == pytest.approx(220.0)


def test_the_largest_trim_still_leaves_the_median() -> None:
    # Given five invocations and the largest discardTopBottom the input allows (0.4)
    # When summarised
    stats = stats_for(512, [5, 1, 100, 3, 2], discard=0.4)

    # Then two are dropped from each end and the median remains
    assert stats.mean_ms == 3


def test_a_discard_of_half_or_more_is_rejected() -> None:
    with pytest.raises(ValueError, match="discard_top_bottom"):
        stats_for(512, [1, 2, 3], discard=0.5)


def test_cold_starts_memory_and_cost_come_from_the_reports() -> None:
    # Given 5 invocations at 1,024 MB on arm64, one of them a cold start whose billed duration includes init
    samples = [
        sample(99.2, billed=100, used=70),
        sample(99.5, billed=100, used=75),
        sample(120.0, billed=340, used=91, init=219.4),
        sample(98.1, billed=99, used=72),
        sample(99.9, billed=100, used=74),
    ]

    # When summarised with discardTopBottom 0.2 (one dropped from each end)
    stats = configuration_stats(1024, samples, prices=ARM, discard_top_bottom=0.2, allowed_exceptions=[])

    # Then the cold start is counted, the trimmed billed mean is 100 ms, and the cost is by hand
    # 1 GB x 0.1 s x $0.0000133334 + $0.0000002 = $0.00000153334
    assert stats.cold_starts == 1
    assert stats.cold_start_share == pytest.approx(0.2)
    assert stats.max_memory_used_mb == 91
    assert stats.billed_mean_ms == pytest.approx(100.0)
    assert stats.cost_per_invocation_usd == pytest.approx(0.00000153334)
    assert stats.cost_per_million_usd == pytest.approx(1.53334)


def test_failed_invocations_exclude_the_configuration_with_a_reason() -> None:
    # Given 10 invocations at 128 MB, 3 of which ran out of memory
    samples = [sample(900, memory=128, used=128, error="Runtime.OutOfMemory") for _ in range(3)]
    samples += [sample(850, memory=128, used=127) for _ in range(7)]

    # When summarised
    stats = configuration_stats(128, samples, prices=ARM, discard_top_bottom=0.2, allowed_exceptions=[])

    # Then it is excluded, naming the error and the count; its statistics are still reported
    assert stats.excluded == "3 of 10 invocations failed: Runtime.OutOfMemory"
    assert stats.errors == 3
    assert stats.error_types == ["Runtime.OutOfMemory"]
    assert stats.max_memory_used_mb == 128


def test_several_error_types_are_listed_with_their_counts_most_frequent_first() -> None:
    samples = [sample(10, error="Sandbox.Timedout")] + [sample(10, error="Runtime.OutOfMemory")] * 2
    samples += [sample(10)] * 7
    stats = configuration_stats(1024, samples, prices=ARM, discard_top_bottom=0.2, allowed_exceptions=[])
    assert stats.excluded == "3 of 10 invocations failed: Runtime.OutOfMemory (2), Sandbox.Timedout (1)"
    assert stats.error_types == ["Runtime.OutOfMemory", "Sandbox.Timedout"]


def test_an_allowed_exception_counts_as_a_normal_sample() -> None:
    # Given a function that raises OrderNotFound by design for some payloads
    samples = [sample(40, error="OrderNotFound")] * 2 + [sample(50)] * 3

    # When OrderNotFound is an allowed exception
    stats = configuration_stats(1024, samples, prices=ARM, discard_top_bottom=0, allowed_exceptions=["OrderNotFound"])

    # Then the configuration is measured, errors are 0, and those invocations count in the mean
    assert stats.excluded is None
    assert stats.errors == 0
    assert stats.mean_ms == pytest.approx(46.0)


def test_invocations_that_ran_at_another_memory_size_exclude_the_configuration() -> None:
    # Given samples meant for 512 MB of which two report 1,024 MB (the alias pointed elsewhere)
    samples = [sample(30, memory=512)] * 8 + [sample(20, memory=1024)] * 2

    # When summarised as 512 MB
    stats = configuration_stats(512, samples, prices=ARM, discard_top_bottom=0.2, allowed_exceptions=[])

    # Then the measurement is not trusted
    assert stats.excluded == "2 of 10 invocations ran at 1024 MB, not 512 MB"


def test_a_configuration_without_samples_is_excluded() -> None:
    stats = configuration_stats(256, [], prices=ARM, discard_top_bottom=0.2, allowed_exceptions=[], current=True)
    assert stats.excluded == "no invocations were measured"
    assert stats.current
    assert stats.mean_ms is None


# --------------------------------------------------------------------------------------------
# The decision: engine v2's, as a Recommendation
# --------------------------------------------------------------------------------------------


def _observed(memory: int, durations: list[float], *, billed: float | None = None) -> SizeObservation:
    return SizeObservation(
        memory_size=memory,
        durations_ms=durations,
        billed_durations_ms=[billed if billed is not None else float(int(d) + 1) for d in durations],
    )


def _decide(
    observations: list[SizeObservation], *, current: int, strategy: str = "cost", min_improvement: float = 0.05
) -> Recommendation:
    tuning = TuningRequest.model_validate(
        {"targets": ["orders"], "strategy": strategy, "minImprovement": min_improvement}
    )
    decision = statistics.decide(tuning, current, observations)
    return recommendation_from(decision, balanced_weight=tuning.balanced_weight, prices=ARM)


def test_the_cheapest_size_is_recommended_and_priced_from_billed_time() -> None:
    # Given a CPU-bound function measured on arm64 at 256, 512 and 1,024 MB (current: 1,024 MB)
    observations = [_observed(m, [b - 0.5] * 10, billed=b) for m, b in ((256, 400.0), (512, 190.0), (1024, 100.0))]

    # When the cost strategy decides
    recommendation = _decide(observations, current=1024)

    # Then 512 MB wins (0.5 GB x 0.19 s is the fewest GB-seconds), (512 x 190) / (1024 x 100) - 1 = -5 % cheaper
    expected = invocation_cost_usd(512, 190, ARM) - invocation_cost_usd(1024, 100, ARM)
    assert (recommendation.memory_size, recommendation.kept_current) == (512, False)
    assert recommendation.strategy is Strategy.COST and recommendation.balanced_weight is None
    assert recommendation.cost_change_pct == pytest.approx(-5.0, abs=0.01)
    assert recommendation.projected_change_per_million_usd == pytest.approx(expected * 1_000_000)
    assert recommendation.mean_ms == pytest.approx(189.5) and recommendation.current_mean_ms == pytest.approx(99.5)
    assert recommendation.summary.startswith("cost: 512 MB instead of 1024 MB, -5.0 % (90 % CI ")
    assert "per million invocations" in recommendation.summary


@pytest.mark.parametrize(("strategy", "winner"), [("cost", 512), ("speed", 2048)])
def test_each_strategy_picks_its_winner(strategy: str, winner: int) -> None:
    # Given durations where 512 MB is cheapest and 2,048 MB fastest
    curve = {256: 800.0, 512: 300.0, 1024: 200.0, 2048: 120.0}
    observations = [_observed(m, [d] * 8) for m, d in curve.items()]

    # When the strategy decides (current: 256 MB, minImprovement 0)
    recommendation = _decide(observations, current=256, strategy=strategy, min_improvement=0.0)

    # Then the expected size wins
    assert recommendation.memory_size == winner


def test_when_the_current_configuration_wins_the_summary_says_it_is_already_the_best() -> None:
    # Given the current 512 MB is the cheapest measured size
    observations = [_observed(256, [800.0] * 8), _observed(512, [300.0] * 8), _observed(1024, [250.0] * 8)]

    # When the cost strategy decides
    recommendation = _decide(observations, current=512)

    # Then nothing changes, and the summary says so
    assert (recommendation.memory_size, recommendation.kept_current) == (512, False)
    assert recommendation.cost_change_pct == 0 and recommendation.projected_change_per_million_usd == 0
    assert recommendation.summary.startswith("cost: the current 512 MB is already the best measured size (")


def test_without_a_measured_current_configuration_there_is_no_comparison() -> None:
    # Given the current 3,008 MB was not measured
    observations = [_observed(256, [480.0] * 8), _observed(512, [260.0] * 8)]

    # When the cost strategy decides
    recommendation = _decide(observations, current=3008)

    # Then the winner is reported without changes or interval
    assert recommendation.memory_size == 256
    assert recommendation.current_mean_ms is None and recommendation.cost_change_pct is None
    assert recommendation.projected_change_per_million_usd is None and recommendation.change_interval_pct is None
    assert "the current 3008 MB was not measured, so there is no comparison" in recommendation.summary


def test_excluded_configurations_never_win() -> None:
    # Given 128 MB (the current size) would be cheapest but ran out of memory
    failed = SizeObservation(memory_size=128, errors=10, excluded="10 of 10 invocations failed: Runtime.OutOfMemory")
    observations = [failed, _observed(256, [480.0] * 8), _observed(512, [260.0] * 8)]

    # When the cost strategy decides
    recommendation = _decide(observations, current=128)

    # Then 256 MB wins, and the summary says why the current size has no comparison
    assert recommendation.memory_size == 256
    assert "the current 128 MB was excluded (10 of 10 invocations failed: Runtime.OutOfMemory)" in (
        recommendation.summary
    )


def test_every_configuration_excluded_is_an_invalid_configuration_error() -> None:
    # Given every size failed
    observations = [
        SizeObservation(memory_size=128, errors=10, excluded="10 of 10 invocations failed: Runtime.OutOfMemory"),
        SizeObservation(memory_size=256, errors=4, excluded="4 of 10 invocations failed: Sandbox.Timedout"),
    ]

    # When a decision is asked for
    # Then the error lists each size and its reason
    with pytest.raises(InvalidConfigurationError) as raised:
        _decide(observations, current=128)
    assert str(raised.value) == (
        "every memory size was excluded: 128 MB: 10 of 10 invocations failed: Runtime.OutOfMemory; "
        "256 MB: 4 of 10 invocations failed: Sandbox.Timedout"
    )


def test_no_configurations_at_all_is_an_invalid_configuration_error() -> None:
    with pytest.raises(InvalidConfigurationError, match="no memory size was measured"):
        _decide([], current=128, strategy="speed")


def test_the_recommendation_states_a_confidence_interval_around_the_projected_change():
    # Given 1024 MB now and 512 MB taking a little under twice as long (so about 10 % cheaper), noisy
    now = _observed(1024, [100.0, 104.0, 97.0, 101.0, 99.0, 103.0, 98.0, 102.0, 100.0, 96.0])
    half = _observed(512, [180.0, 186.0, 175.0, 181.0, 178.0, 184.0, 176.0, 183.0, 179.0, 177.0])

    # When the decision is made
    recommendation = _decide([half, now], current=1024, min_improvement=0.05)

    # Then 512 MB is recommended, and the 90 % interval contains the projected change
    assert recommendation.memory_size == 512 and not recommendation.kept_current
    low, high = recommendation.change_interval_pct
    assert low <= recommendation.projected_change_pct <= high < 0
    assert recommendation.projected_change_pct == pytest.approx(recommendation.cost_change_pct)
    assert recommendation.speed_change_pct > 0
    assert recommendation.confidence == 0.9 and "90 % CI" in recommendation.summary
    # And the same measurements give the same interval
    again = _decide([half, now], current=1024, min_improvement=0.05)
    assert again.change_interval_pct == recommendation.change_interval_pct


def test_below_min_improvement_the_current_size_is_kept():
    # Given a smaller size that is only about 3 % cheaper than the current one
    now = _observed(1024, [100.0] * 10)
    smaller = _observed(512, [193.0] * 10)

    # When minImprovement is 5 %
    kept = _decide([smaller, now], current=1024, min_improvement=0.05)
    # Then the current size is kept, and the best measured size is named with why it was not taken
    assert (kept.memory_size, kept.kept_current, kept.best_memory_size) == (1024, True, 512)
    assert kept.projected_change_per_million_usd == 0.0
    assert "keep the current 1024 MB" in kept.summary and "below the minimum improvement of 5%" in kept.summary

    # When minImprovement is 1 %, the smaller size is recommended
    taken = _decide([smaller, now], current=1024, min_improvement=0.01)
    assert (taken.memory_size, taken.kept_current) == (512, False)
