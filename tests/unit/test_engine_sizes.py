"""Decision engine v2 on awkward sizes: failures, memory floors, spikes, exclusions, payloads and cold starts."""

from __future__ import annotations

import random
from typing import Any

import pytest
from engine_runs import CHEAPEST_AT_512, duration_at, observe, request, spent, tune

from autotuner_core.decision.engine import SizeObservation, budget, merge, next_round
from autotuner_core.decision.statistics import decide
from autotuner_core.policy.errors import InvalidConfigurationError


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
    # Given a tuning of cold starts only: PrepareMeasurement publishes `invocations` versions per size
    tuning = request(onlyColdStarts=True, payload=payload)
    rng = random.Random(3)
    observed: list[SizeObservation] = []
    rounds = []
    # When the planner's loop runs on a noisy function
    while planned := next_round(tuning, 128, observed, max_memory_mb=3008):
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
        observed = merge(observed, added)
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
