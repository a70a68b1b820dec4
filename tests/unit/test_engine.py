"""Decision engine v2: adaptive rounds within the budget, a confidence interval, minImprovement."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from autotuner_core.decision.engine import (
    Decision,
    SizeObservation,
    SizeRequest,
    budget,
    decide,
    max_sizes,
    next_round,
)
from autotuner_core.documents.request import TuningRequest
from autotuner_core.policy.errors import InvalidConfigurationError

# Relative duration curves (ms) at the ladder's sizes; between them linear in log-memory.
CHEAPEST_AT_512 = {128: 4000.0, 256: 1500.0, 512: 500.0, 1024: 400.0, 1536: 390.0, 2048: 380.0, 3008: 370.0}
KEEPS_GETTING_FASTER = {128: 8000.0, 256: 4000.0, 512: 2000.0, 1024: 1000.0, 1536: 667.0, 2048: 500.0, 3008: 340.0}


def request(**fields: Any) -> TuningRequest:
    return TuningRequest.model_validate({"targets": ["orders-api"], **fields})


def duration_at(curve: dict[int, float], memory: int) -> float:
    sizes = sorted(curve)
    if memory in curve:
        return curve[memory]
    low = max(s for s in sizes if s < memory)
    high = min(s for s in sizes if s > memory)
    share = math.log(memory / low) / math.log(high / low)
    return curve[low] + (curve[high] - curve[low]) * share


def observe(memory: int, durations: list[float], **fields: Any) -> SizeObservation:
    return SizeObservation(
        memory_size=memory,
        durations_ms=durations,
        billed_durations_ms=[float(math.ceil(d)) for d in durations],
        **fields,
    )


def tune(
    curve: dict[int, float],
    *,
    current: int = 128,
    noise: float = 0.05,
    seed: int = 0,
    max_memory_mb: int = 3008,
    **fields: Any,
) -> tuple[Decision, list[list[SizeRequest]]]:
    """Drive next_round against a seeded function until it says done, then decide."""
    tuning = request(**fields)
    rng = random.Random(seed)
    observed: dict[int, list[float]] = {}
    rounds = []
    while True:
        current_obs = [observe(m, d) for m, d in observed.items()]
        planned = next_round(tuning, current, current_obs, max_memory_mb=max_memory_mb)
        if not planned:
            break
        rounds.append(planned)
        for item in planned:
            mean = duration_at(curve, item.memory_size)
            observed.setdefault(item.memory_size, []).extend(
                mean * rng.lognormvariate(0, noise) for _ in range(item.invocations)
            )
    return decide(tuning, current, [observe(m, d) for m, d in observed.items()]), rounds


def spent(rounds: list[list[SizeRequest]]) -> int:
    return sum(item.invocations for planned in rounds for item in planned)


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


def test_a_size_with_failed_invocations_excludes_it_and_every_size_below() -> None:
    # Given invocations that failed at 256 MB (out of memory) and succeeded at 128 and 1024 MB
    observed = [
        observe(128, [100.0] * 3),
        observe(256, [50.0, 50.0], errors=1),
        observe(1024, [30.0] * 3),
        observe(2048, [29.0] * 3),
    ]
    # When the engine plans and decides
    planned = next_round(request(), 128, observed, max_memory_mb=3008)
    decision = decide(request(), 128, observed)
    # Then nothing at or below 256 MB is proposed or recommended, and the table says why
    assert all(item.memory_size > 256 for item in planned)
    assert decision.memory_size in (1024, 2048)
    rows = {row.memory_size: row for row in decision.sizes}
    assert rows[256].excluded == "1 of 3 invocations failed"
    assert rows[128].excluded == "below 256 MB, where invocations failed"
    assert "the current 128 MB was excluded (below 256 MB, where invocations failed)" in decision.summary


def test_sizes_that_cannot_hold_what_the_function_used_are_not_proposed() -> None:
    # Given a first round whose invocations used up to 300 MB
    observed = [observe(m, [100.0] * 3, max_memory_used_mb=300) for m in (512, 1024, 2048)]
    planned = next_round(request(), 512, observed, max_memory_mb=3008)
    assert all(item.memory_size >= 315 for item in planned)


def test_when_every_size_failed_there_is_no_recommendation() -> None:
    observed = [observe(m, [], errors=3) for m in (128, 256)]
    with pytest.raises(InvalidConfigurationError, match=r"every memory size was excluded: 128 MB: .*256 MB: 3 of 3"):
        decide(request(), 128, observed)
    # and the engine tries the next size up
    assert [item.memory_size for item in next_round(request(), 128, observed, max_memory_mb=3008)] == [512]


def test_the_same_observations_give_the_same_plan() -> None:
    observed = [observe(m, [duration_at(CHEAPEST_AT_512, m) * f for f in (1.0, 1.1, 0.95)]) for m in (128, 256, 1024)]
    first = next_round(request(), 128, observed, max_memory_mb=3008)
    again = next_round(request(), 128, list(reversed(observed)), max_memory_mb=3008)
    assert first == again
    assert first  # 512 MB, next to the best so far, is still unmeasured
    assert 512 in {item.memory_size for item in first}


def test_a_cold_start_spike_does_not_move_a_size_estimate() -> None:
    # Given three sizes with one 3x spike at the true optimum
    observed = [
        observe(128, [4000.0, 4100.0, 3900.0]),
        observe(512, [500.0, 1500.0, 510.0, 495.0]),
        observe(1024, [400.0, 410.0, 395.0]),
    ]
    decision = decide(request(), 128, observed)
    rows = {row.memory_size: row for row in decision.sizes}
    assert rows[512].duration_ms == pytest.approx(501.6, rel=0.01)
    assert decision.memory_size == 512


def test_two_spikes_in_four_invocations_leave_the_size_at_its_lower_pair() -> None:
    # Given a size measured four times, two of them cold-start spikes far above the other two
    observed = [observe(128, [4000.0, 4100.0, 3900.0]), observe(512, [500.0, 2500.0, 510.0, 2600.0])]
    # When the engine decides
    decision = decide(request(), 128, observed)
    # Then the size is estimated from its two ordinary invocations, instead of finding no value near their median
    rows = {row.memory_size: row for row in decision.sizes}
    assert rows[512].duration_ms == pytest.approx(505.0, rel=0.01)
    assert decision.memory_size == 512


def test_the_current_size_is_measured_even_outside_memory_sizes() -> None:
    # Given a function at 4,096 MB, memorySizes up to 3,008 MB and an account that allows 10,240 MB
    planned = next_round(request(), 4096, [], max_memory_mb=10240)
    # Then the current size is measured as the baseline of the comparison
    assert 4096 in {item.memory_size for item in planned}
    # but not when the account no longer allows it
    assert 4096 not in {item.memory_size for item in next_round(request(), 4096, [], max_memory_mb=3008)}


def test_a_size_excluded_by_the_measuring_step_is_not_ranked_but_sizes_below_it_are() -> None:
    # Given Lambda refused 3008 MB (over the account's quota) and the other sizes ran
    observed = [
        observe(1024, [400.0] * 3),
        observe(2048, [300.0] * 3),
        SizeObservation(memory_size=3008, excluded="Lambda: MemorySize 3008 exceeds the account's limit"),
    ]
    decision = decide(request(strategy="speed"), 1024, observed)
    # Then the fastest measured size wins and the table gives the step's reason for 3008 MB
    assert decision.memory_size == 2048
    rows = {row.memory_size: row for row in decision.sizes}
    assert rows[3008].excluded == "Lambda: MemorySize 3008 exceeds the account's limit"
    assert rows[1024].excluded is None


def test_a_fixed_memory_size_measures_nothing() -> None:
    assert next_round(request(memorySize=1024), 512, [], max_memory_mb=3008) == []


def test_the_largest_input_is_accepted_and_its_budget_fits_the_sample_limit() -> None:
    from autotuner_core.documents.request import MAX_SAMPLES_PER_TARGET

    # Given the most sizes and the most invocations an input may ask for (48 sizes x 1,000 is
    # accepted: the engine never keeps that many)
    tuning = request(memorySizes="fine", invocations=1000)
    # When the engine runs on it, noisy enough to spend its whole budget
    _, rounds = tune(CHEAPEST_AT_512, noise=0.4, memorySizes="fine", invocations=1000)
    # Then what it kept stays within its budget, and the budget within the samples the state holds
    assert spent(rounds) <= budget(tuning) <= MAX_SAMPLES_PER_TARGET


WEIGHTED = [{"payload": {"order": "small"}, "weight": 3}, {"payload": {"order": "large"}, "weight": 1}]


def test_with_weighted_payloads_every_size_gets_each_payload_in_its_weight() -> None:
    from autotuner_core.measuring.invocations import payload_sequence

    # Given payloads weighted 3:1 (four invocations send each exactly its share)
    tuning = request(payload=WEIGHTED)
    # When the engine runs until done, and each round's invocations are spread as the measuring step spreads them
    decision, rounds = tune(CHEAPEST_AT_512, noise=0.15, payload=WEIGHTED)
    sent: dict[int, list[bytes]] = {}
    for planned in rounds:
        for item in planned:
            sent.setdefault(item.memory_size, []).extend(payload_sequence(tuning.payload, item.invocations))
    # Then every measured size got small and large orders 3:1, within the budget
    for size, payloads in sent.items():
        small = sum(1 for p in payloads if b"small" in p)
        assert small == 3 * (len(payloads) - small), size
    assert spent(rounds) <= budget(tuning) and decision.memory_size == 512


def test_weighted_payloads_are_measured_in_whole_units_of_their_split() -> None:
    # Given three payloads weighted 1:1:1 and 5 invocations: 3 sends each its exact share
    tuning = request(payload=[{"payload": {"n": n}, "weight": 1} for n in range(3)], invocations=5)
    # When the engine plans its first round
    planned = next_round(tuning, 128, [], max_memory_mb=3008)
    # Then each size gets a multiple of 3 (never 2, which would leave one payload out), within the budget of 15
    assert planned and all(item.invocations % 3 == 0 for item in planned)
    assert sum(item.invocations for item in planned) <= 15
    # And weights 3:7, which no count up to 5 splits exactly, measure each size 5 times (the count the list was
    # written for), so every size gets the same 2:3 mix
    uneven = request(payload=[{"payload": {"n": n}, "weight": w} for n, w in enumerate((3, 7))], invocations=5)
    assert {item.invocations for item in next_round(uneven, 128, [], max_memory_mb=3008)} == {5}


@pytest.mark.parametrize("payload", [{}, WEIGHTED], ids=["one-payload", "weighted"])
def test_only_cold_starts_measures_each_size_once_with_no_more_invocations_than_its_cold_versions(
    payload: Any,
) -> None:
    from autotuner_core.decision import planning

    # Given a tuning of cold starts only: PrepareMeasurement publishes `invocations` versions per size
    tuning = request(onlyColdStarts=True, payload=payload)
    rng = random.Random(3)
    observed: list[SizeObservation] = []
    rounds = []
    # When the planner's loop runs on a noisy function
    while planned := planning.next_round(tuning, 128, observed, max_memory_mb=3008):
        rounds.append(planned)
        added = [
            observe(
                item.memory_size,
                [
                    duration_at(CHEAPEST_AT_512, item.memory_size) * rng.lognormvariate(0, 0.15)
                    for _ in range(item.invocations)
                ],
            )
            for item in planned
        ]
        observed = planning.merge(observed, added)
    # Then no size is measured twice, none more often than it has cold versions, and the search still finds 512 MB
    sizes = [item.memory_size for planned in rounds for item in planned]
    assert len(sizes) == len(set(sizes)) >= 4
    assert all(item.invocations <= tuning.invocations for planned in rounds for item in planned)
    assert decide(tuning, 128, observed).best_memory_size == 512


def test_a_size_between_ladder_steps_that_holds_the_function_is_measured_and_chosen() -> None:
    # Given a function that needs 700 MB (out of memory at 512 MB) and waits on I/O (flat duration,
    # so the cost grows with memory): the cheapest size that fits lies between the ladder's 512 and 1,024 MB
    tuning = request()
    rng = random.Random(1)
    observed: list[SizeObservation] = []
    rounds = []
    while planned := next_round(tuning, 1024, observed, max_memory_mb=3008):
        rounds.append(planned)
        for item in planned:
            if item.memory_size < 700:
                added = SizeObservation(memory_size=item.memory_size, errors=item.invocations)
            else:
                durations = [400.0 * rng.lognormvariate(0, 0.1) for _ in range(item.invocations)]
                added = observe(item.memory_size, durations, max_memory_used_mb=700)
            observed = [o for o in observed if o.memory_size != item.memory_size] + [
                next((o.pooled(added) for o in observed if o.memory_size == item.memory_size), added)
            ]
    decision = decide(tuning, 1024, observed)
    # Then the engine measured 735 MB (700 MB used, plus 5 % headroom) and recommends it over 1,024 MB
    assert 735 in {item.memory_size for planned in rounds for item in planned}
    assert decision.memory_size == 735 and not decision.keep_current
    assert decision.projected_change_pct is not None and decision.projected_change_pct < -20
    assert spent(rounds) <= budget(tuning)


def test_the_size_that_holds_the_function_is_not_added_next_to_a_ladder_size() -> None:
    # Given a first round whose invocations used up to 240 MB (holding it takes 252 MB, 1.6 % below the ladder's 256)
    observed = [observe(m, [duration_at(CHEAPEST_AT_512, m)] * 2, max_memory_used_mb=240) for m in (256, 1024, 2048)]
    # When the engine plans its next round
    planned = next_round(request(), 256, observed, max_memory_mb=3008)
    # Then it measures ladder sizes only: 252 MB could save no more than 4 % on 256 MB
    assert planned and all(item.memory_size in (256, 512, 1024, 1536, 2048, 3008) for item in planned)


def test_over_a_narrow_range_the_budget_is_half_of_what_power_tuning_spends_there() -> None:
    # Given a range of 256-1024 MB: Power Tuning measures 256, 512 and 1024 MB there, num times each
    narrow = request(memorySizes=[256, 1024])
    # Then our budget is half of its 3 x 10 invocations, and the default range's stays 30
    assert budget(narrow) == 15
    assert budget(request()) == 30
    # And the engine spends no more than that on it
    _, rounds = tune(CHEAPEST_AT_512, memorySizes=[256, 1024], max_memory_mb=1024)
    assert spent(rounds) <= 15


@pytest.mark.parametrize("seed", range(4))
def test_the_whole_budget_is_used_in_few_rounds(seed: int) -> None:
    # Given a curve whose optimum is clear after the first rounds
    decision, rounds = tune(CHEAPEST_AT_512, seed=seed)
    # Then the budget is spent (the best size and its runner-up get what is left), in a few rounds
    assert spent(rounds) == budget(request())
    assert len(rounds) <= 5
    assert decision.best_memory_size in (512, 1024)


def test_a_cold_start_s_billed_init_does_not_make_a_size_look_dearer() -> None:
    # Given two sizes equal in warm cost (256 MB at 100 ms, 512 MB at 50 ms), where every
    # invocation at 256 MB was a cold start whose Billed Duration includes a 150 ms INIT
    cold = SizeObservation(memory_size=256, durations_ms=[100.0] * 4, billed_durations_ms=[250.0] * 4, cold_starts=4)
    warm = observe(512, [50.5] * 4)
    # When the engine decides on cost
    decision = decide(request(minImprovement=0), 512, [cold, warm])
    # Then 256 MB is ranked on its warm bill (100 ms), cheaper than 512 MB's 51 ms: INIT is paid
    # once per execution environment, not per invocation
    rows = {row.memory_size: row for row in decision.sizes}
    assert rows[256].billed_duration_ms == pytest.approx(100.0)
    assert decision.best_memory_size == 256
