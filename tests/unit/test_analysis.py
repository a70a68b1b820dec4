"""Statistics per memory size, the winner per strategy, and the sizes worth a second round."""

from __future__ import annotations

import pytest

from autotuner_core.analysis import configuration_stats, observation_stats, recommend, refinement_sizes
from autotuner_core.errors import InvalidConfigurationError
from autotuner_core.models import ConfigurationStats, InvocationSample, SizeObservation, Strategy
from autotuner_core.pricing import invocation_cost_usd, lambda_prices

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


def measured(memory: int, mean_ms: float, cost_micro_usd: float, *, current: bool = False) -> ConfigurationStats:
    """A measured configuration as configuration_stats would report it (cost in millionths of a dollar)."""
    cost = cost_micro_usd / 1_000_000
    return ConfigurationStats(
        memory_size=memory,
        current=current,
        invocations=10,
        mean_ms=mean_ms,
        cost_per_invocation_usd=cost,
        cost_per_million_usd=cost_micro_usd,
        max_memory_used_mb=90,
    )


def excluded(memory: int, reason: str) -> ConfigurationStats:
    return ConfigurationStats(memory_size=memory, invocations=10, errors=10, excluded=reason)


# A hand-computed table (arm64-like costs in millionths of a dollar per invocation):
#   memory   mean ms   cost   balanced 0.5 = 0.5 * cost / 4.9 + 0.5 * mean / 1000
#     128     1000     2.3    0.7347
#     256      480     2.2    0.4645   <- cheapest
#     512      260     2.4    0.3749
#    1024      150     2.7    0.3505   <- balanced 0.5
#    2048      140     4.9    0.5700   <- fastest
TABLE = [
    measured(128, 1000, 2.3),
    measured(256, 480, 2.2),
    measured(512, 260, 2.4),
    measured(1024, 150, 2.7, current=True),
    measured(2048, 140, 4.9),
]


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
# recommend
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "weight", "winner"),
    [
        (Strategy.COST, 0.5, 256),
        (Strategy.SPEED, 0.5, 2048),
        (Strategy.BALANCED, 0.5, 1024),
        (Strategy.BALANCED, 0.0, 2048),  # weight 0 = speed
        (Strategy.BALANCED, 1.0, 256),  # weight 1 = cost
    ],
)
def test_each_strategy_picks_its_winner_from_the_table(strategy: Strategy, weight: float, winner: int) -> None:
    # Given the hand-computed table
    # When a recommendation is made for the strategy
    recommendation = recommend(TABLE, strategy=strategy, balanced_weight=weight, current_memory=1024)

    # Then the expected memory size wins
    assert recommendation.memory_size == winner


def test_the_cost_winner_is_compared_with_the_current_configuration() -> None:
    # Given the table, with 1,024 MB the current configuration
    # When the cost strategy decides
    recommendation = recommend(TABLE, strategy="cost", balanced_weight=0.5, current_memory=1024)

    # Then 256 MB is (2.2 - 2.7) / 2.7 = 18.5% cheaper, (480 - 150) / 150 = 220% slower, -$0.50 per million
    assert recommendation.strategy is Strategy.COST
    assert recommendation.balanced_weight is None
    assert recommendation.current_memory_size == 1024
    assert recommendation.mean_ms == 480
    assert recommendation.current_mean_ms == 150
    assert recommendation.cost_change_pct == pytest.approx(-18.5185, rel=1e-4)
    assert recommendation.speed_change_pct == pytest.approx(220.0)
    assert recommendation.projected_change_per_million_usd == pytest.approx(-0.5)
    assert recommendation.summary == (
        "cost: 256 MB is 19% cheaper and 220% slower than the current 1024 MB; \u2212$0.50 per million invocations"
    )


def test_when_the_current_configuration_wins_the_summary_says_it_is_already_the_best() -> None:
    # Given the table, whose balanced winner at weight 0.5 is the current 1,024 MB
    # When the balanced strategy decides
    recommendation = recommend(TABLE, strategy="balanced", balanced_weight=0.5, current_memory=1024)

    # Then nothing changes, and the summary names the weight
    assert recommendation.balanced_weight == 0.5
    assert recommendation.summary == (
        "balanced (weight 0.5): the current 1024 MB is already the best (150.0 ms, $2.70 per million invocations)"
    )
    assert recommendation.cost_change_pct == 0
    assert recommendation.projected_change_per_million_usd == 0


def test_a_speed_winner_that_costs_more_says_so() -> None:
    recommendation = recommend(TABLE, strategy="speed", current_memory=1024)
    # 140 vs 150 ms = 6.7% faster; 4.9 vs 2.7 = 81.5% more expensive; +$2.20 per million
    assert recommendation.summary == (
        "speed: 2048 MB is 81% more expensive and 7% faster than the current 1024 MB; +$2.20 per million invocations"
    )


def test_without_a_measured_current_configuration_there_is_no_comparison() -> None:
    # Given a table without the current 3,008 MB
    table = [measured(256, 480, 2.2), measured(512, 260, 2.4)]

    # When the cost strategy decides
    recommendation = recommend(table, strategy="cost", current_memory=3008)

    # Then the winner is reported without changes
    assert recommendation.memory_size == 256
    assert recommendation.current_mean_ms is None
    assert recommendation.cost_change_pct is None
    assert recommendation.projected_change_per_million_usd is None
    assert recommendation.summary == (
        "cost: 256 MB (480.0 ms, $2.20 per million invocations); the current 3008 MB was not measured, "
        "so there is no comparison"
    )


def test_excluded_configurations_never_win() -> None:
    # Given 128 MB would be cheapest but ran out of memory
    table = [
        excluded(128, "10 of 10 invocations failed: Runtime.OutOfMemory"),
        measured(256, 480, 2.2),
        measured(512, 260, 2.4),
    ]

    # When the cost strategy decides
    recommendation = recommend(table, strategy="cost", current_memory=128)

    # Then 256 MB wins, and the summary says why the current size has no comparison
    assert recommendation.memory_size == 256
    assert "the current 128 MB was excluded (10 of 10 invocations failed: Runtime.OutOfMemory)" in (
        recommendation.summary
    )


def test_cost_ties_within_one_percent_go_to_the_smaller_and_speed_ties_to_the_cheaper() -> None:
    # Given two sizes whose costs differ by less than 1 % (noise), and two with equal speed
    cost_tie = [measured(256, 400, 2.01), measured(512, 200, 2.0)]
    speed_tie = [measured(1024, 100, 2.7), measured(2048, 100, 5.4)]

    # When each strategy decides, directly and through balanced weight 1 and 0
    # Then the tie-breaks match: the smaller size for cost, the cheaper for speed
    assert recommend(cost_tie, strategy="cost", current_memory=256).memory_size == 256
    assert recommend(cost_tie, strategy="balanced", balanced_weight=1, current_memory=256).memory_size == 256
    # And a difference beyond 1 % is not a tie
    assert (
        recommend([measured(256, 400, 2.05), measured(512, 200, 2.0)], strategy="cost", current_memory=256).memory_size
        == 512
    )
    assert recommend(speed_tie, strategy="speed", current_memory=1024).memory_size == 1024
    assert recommend(speed_tie, strategy="balanced", balanced_weight=0, current_memory=1024).memory_size == 1024


def test_a_complete_tie_goes_to_the_smaller_size() -> None:
    table = [measured(512, 100, 2.0), measured(256, 100, 2.0)]
    assert recommend(table, strategy="cost", current_memory=512).memory_size == 256


def test_every_configuration_excluded_is_an_invalid_configuration_error() -> None:
    # Given every size failed
    table = [
        excluded(128, "10 of 10 invocations failed: Runtime.OutOfMemory"),
        excluded(256, "4 of 10 invocations failed: Sandbox.Timedout"),
    ]

    # When a recommendation is asked for
    # Then the error lists each size and its reason
    with pytest.raises(InvalidConfigurationError) as raised:
        recommend(table, strategy="cost", current_memory=128)
    assert str(raised.value) == (
        "every memory size was excluded: 128 MB: 10 of 10 invocations failed: Runtime.OutOfMemory; "
        "256 MB: 4 of 10 invocations failed: Sandbox.Timedout"
    )


def test_no_configurations_at_all_is_an_invalid_configuration_error() -> None:
    with pytest.raises(InvalidConfigurationError, match="no memory size was measured"):
        recommend([], strategy="speed", current_memory=128)


def test_from_samples_to_recommendation() -> None:
    # Given a CPU-bound function measured on arm64 at 256, 512 and 1,024 MB (current: 1,024 MB)
    def run(memory: int, billed: int) -> ConfigurationStats:
        samples = [sample(billed - 0.5, memory=memory, billed=billed) for _ in range(10)]
        return configuration_stats(
            memory, samples, prices=ARM, discard_top_bottom=0.2, allowed_exceptions=[], current=memory == 1024
        )

    stats = [run(256, 400), run(512, 190), run(1024, 100)]

    # When the cost strategy decides
    recommendation = recommend(stats, strategy="cost", current_memory=1024)

    # Then 512 MB wins (0.5 GB x 0.19 s is the fewest GB-seconds) and the saving is computed from billed time
    expected = invocation_cost_usd(512, 190, ARM) - invocation_cost_usd(1024, 100, ARM)
    assert recommendation.memory_size == 512
    assert recommendation.projected_change_per_million_usd == pytest.approx(expected * 1_000_000)
    assert recommendation.projected_change_per_million_usd < 0


# --------------------------------------------------------------------------------------------
# refinement_sizes
# --------------------------------------------------------------------------------------------


def test_cost_refinement_tries_the_smallest_size_with_headroom_then_the_gaps() -> None:
    # Given 128 MB ran out of memory and 256 MB won on cost using at most 150 MB
    winner = measured(256, 480, 2.2).model_copy(update={"max_memory_used_mb": 150})
    stats = [excluded(128, "10 of 10 invocations failed: Runtime.OutOfMemory"), winner, measured(512, 260, 2.4)]

    # When second-round sizes are proposed
    sizes = refinement_sizes(stats, strategy="cost")

    # Then ceil(150 x 1.2 / 64) x 64 = 192 MB comes first (also the midpoint below), then 384 MB above
    assert sizes == [192, 384]


def test_headroom_below_a_measured_neighbour_that_lost_is_not_proposed() -> None:
    # Given 512 MB won on cost using 90 MB, and 256 MB (measured, dearer) lies between
    stats = [measured(256, 1000, 2.6), measured(512, 400, 2.1), measured(1024, 210, 2.3)]

    # When second-round sizes are proposed
    # Then 128 MB is not proposed (below a size that already lost); the midpoints are, lower first
    assert refinement_sizes(stats, strategy="cost") == [384, 768]


def test_speed_refinement_looks_above_the_winner_first() -> None:
    # Given 1,536 MB is fastest between 1,024 and 3,008 MB
    stats = [measured(1024, 150, 2.6), measured(1536, 100, 2.7), measured(3008, 105, 5.3)]

    # When second-round sizes are proposed
    # Then the midpoint above (2,272, rounded to 2,304) comes before the one below (1,280)
    assert refinement_sizes(stats, strategy="speed") == [2304, 1280]


def test_refinement_proposes_nothing_measured_nothing_out_of_range_and_respects_the_limit() -> None:
    # Given a winner at the edge of the measured range
    stats = [measured(128, 100, 0.4), measured(256, 100, 0.6)]

    # When proposals are made with a limit of 1
    sizes = refinement_sizes(stats, strategy="balanced", limit=1)

    # Then only the midpoint 192 MB is proposed; nothing below 128 MB
    assert sizes == [192]
    assert refinement_sizes(stats, strategy="balanced", limit=0) == []


def test_a_gap_too_narrow_to_matter_is_not_split() -> None:
    # Given neighbours 64 MB apart around 3 GB (about 2%)
    stats = [measured(2944, 100, 5.0), measured(3008, 99, 5.0), measured(3072, 99.5, 5.1)]

    # When proposals are made
    # Then none are
    assert refinement_sizes(stats, strategy="speed") == []


def test_nothing_to_refine_when_every_configuration_is_excluded() -> None:
    stats = [excluded(128, "10 of 10 invocations failed: Runtime.OutOfMemory")]
    assert refinement_sizes(stats, strategy="cost") == []


# --------------------------------------------------------------------------------------------
# The decision: confidence interval and minImprovement
# --------------------------------------------------------------------------------------------


def _observed(memory: int, durations: list[float]) -> SizeObservation:
    return SizeObservation(
        memory_size=memory, durations_ms=durations, billed_durations_ms=[float(int(d) + 1) for d in durations]
    )


def _decide(observations: list[SizeObservation], *, current: int, min_improvement: float):
    stats = [
        observation_stats(o, discard_top_bottom=0.2, prices=ARM, current=o.memory_size == current) for o in observations
    ]
    return recommend(
        stats,
        strategy=Strategy.COST,
        current_memory=current,
        min_improvement=min_improvement,
        observations={o.memory_size: o for o in observations},
        discard_top_bottom=0.2,
        prices=ARM,
    )


def test_the_recommendation_states_a_confidence_interval_around_the_projected_change():
    # Given 1024 MB now and 512 MB taking a little under twice as long (so about 10 % cheaper), noisy
    now = _observed(1024, [100.0, 104.0, 97.0, 101.0, 99.0, 103.0, 98.0, 102.0, 100.0, 96.0])
    half = _observed(512, [180.0, 186.0, 175.0, 181.0, 178.0, 184.0, 176.0, 183.0, 179.0, 177.0])

    # When the decision is made
    recommendation = _decide([half, now], current=1024, min_improvement=0.05)

    # Then 512 MB is recommended, and both 95 % intervals contain the point estimate
    assert recommendation.memory_size == 512 and not recommendation.kept_current
    low, high = recommendation.cost_change_interval_pct
    assert low <= recommendation.cost_change_pct <= high < 0
    low, high = recommendation.speed_change_interval_pct
    assert 0 < low <= recommendation.speed_change_pct <= high
    assert recommendation.confidence == 0.95 and "95% interval" in recommendation.summary
    # And the same measurements give the same interval
    again = _decide([half, now], current=1024, min_improvement=0.05)
    assert again.cost_change_interval_pct == recommendation.cost_change_interval_pct


def test_below_min_improvement_the_current_size_is_kept():
    # Given a smaller size that is only about 3 % cheaper than the current one
    now = _observed(1024, [100.0] * 10)
    smaller = _observed(512, [193.0] * 10)

    # When minImprovement is 5 %
    kept = _decide([smaller, now], current=1024, min_improvement=0.05)
    # Then the current size is kept, and the best measured size is named with why it was not taken
    assert (kept.memory_size, kept.kept_current, kept.best_memory_size) == (1024, True, 512)
    assert kept.projected_change_per_million_usd == 0.0
    assert "keep the current 1024 MB" in kept.summary and "below minImprovement 5%" in kept.summary

    # When minImprovement is 1 %, the smaller size is recommended
    taken = _decide([smaller, now], current=1024, min_improvement=0.01)
    assert (taken.memory_size, taken.kept_current) == (512, False)
