"""The measuring loop's planner: which sizes the next round measures, and when measuring is done."""

from __future__ import annotations

import json

from autotuner_core.analysis import observation_stats, observe
from autotuner_core.models import InvocationSample, TuningRequest
from autotuner_core.planning import SizeObservation, SizeRequest, merge, next_round

TARGET = "arn:aws:lambda:us-east-1:123456789012:function:orders"


def request(**fields: object) -> TuningRequest:
    return TuningRequest.model_validate({"targets": [TARGET], **fields})


def seen(memory: int, mean_ms: float, *, used: int = 60, n: int = 10) -> SizeObservation:
    return SizeObservation(
        memory_size=memory,
        durations_ms=[mean_ms] * n,
        billed_durations_ms=[float(round(mean_ms) + 1)] * n,
        max_memory_used_mb=used,
    )


def test_first_round_measures_every_requested_size_and_the_current_one():
    # Given a request for three sizes and a function at 384 MB, nothing measured yet
    tuning = request(memorySizes=[128, 512, 1024], invocations=12)

    # When the planner is asked for the first round
    plan = next_round(tuning, 384, [], max_memory_mb=10_240)

    # Then it asks for all four sizes, ascending, the requested number of times each
    assert plan == [SizeRequest(memory_size=size, invocations=12) for size in (128, 384, 512, 1024)]


def test_second_round_refines_around_the_first_winner_then_stops():
    # Given a first round where 512 MB is cheapest and 256 MB is far below it
    tuning = request(memorySizes=[256, 512, 1024], strategy="cost")
    first = [seen(256, 900.0), seen(512, 200.0), seen(1024, 190.0)]

    # When the planner is asked again
    plan = next_round(tuning, 512, first, max_memory_mb=10_240)

    # Then it measures new sizes between the winner and its neighbours only
    sizes = [item.memory_size for item in plan]
    assert sizes and all(256 < size < 1024 and size != 512 for size in sizes)
    # And after those are measured, measuring is done
    second = merge(first, [seen(size, 210.0) for size in sizes])
    assert next_round(tuning, 512, second, max_memory_mb=10_240) == []


def test_no_refinement_round_when_refine_is_off_or_memory_is_fixed():
    # Given a measured first round
    first = [seen(256, 900.0), seen(512, 200.0), seen(1024, 190.0)]

    # When refine is off, or a fixed memorySize was asked for
    without = next_round(request(memorySizes=[256, 512, 1024], refine=False), 512, first, max_memory_mb=10_240)
    fixed = next_round(request(memorySize=1024), 512, [], max_memory_mb=10_240)

    # Then nothing more is measured
    assert without == [] and fixed == []


def test_refinement_never_proposes_a_size_above_the_memory_limit():
    # Given a speed tuning where the largest size wins, next to a limit just above it
    tuning = request(memorySizes=[1024, 2048], strategy="speed")
    first = [seen(1024, 400.0), seen(2048, 100.0)]

    # When the account allows at most 1,500 MB
    plan = next_round(tuning, 1024, first, max_memory_mb=1500)

    # Then the midpoint 1,536 MB is not proposed
    assert all(item.memory_size <= 1500 for item in plan)


def test_merge_keeps_every_rounds_samples_of_a_size():
    # Given a size measured in two rounds
    one = SizeObservation(memory_size=512, durations_ms=[10.0], billed_durations_ms=[11.0], max_memory_used_mb=50)
    two = SizeObservation(memory_size=512, durations_ms=[12.0], billed_durations_ms=[13.0], errors=1, cold_starts=1)

    # When merged
    (merged,) = merge([one], [two])

    # Then both rounds count
    assert merged.durations_ms == [10.0, 12.0] and merged.billed_durations_ms == [11.0, 13.0]
    assert (merged.errors, merged.cold_starts, merged.max_memory_used_mb, merged.invocations) == (1, 1, 50, 3)


def test_observe_keeps_successful_samples_and_excludes_a_size_with_failures():
    # Given two invocations, one failing with an error that is not allowed, one with an allowed one
    samples = [
        InvocationSample(duration_ms=5.0, billed_duration_ms=6.0, memory_size_mb=256, error="Throttled"),
        InvocationSample(duration_ms=7.0, billed_duration_ms=8.0, memory_size_mb=256, init_duration_ms=90.0),
        InvocationSample(duration_ms=9.0, billed_duration_ms=10.0, memory_size_mb=256, error="Boom"),
    ]

    # When observed with Throttled allowed
    observation = observe(256, samples, allowed_exceptions=["Throttled"])

    # Then the allowed one is a sample, the other is counted and excludes the size by name
    assert observation.durations_ms == [5.0, 7.0] and observation.errors == 1 and observation.cold_starts == 1
    assert observation.excluded == "1 of 3 invocations failed: Boom" and observation.error_types == ["Boom"]
    stats = observation_stats(observation, discard_top_bottom=0.0)
    assert stats.invocations == 3 and stats.excluded == observation.excluded and stats.mean_ms == 6.0
    assert (stats.errors, stats.error_types) == (1, ["Boom"])
    # And the failed invocation's billed time still counts towards what measuring cost
    assert stats.billed_total_ms == 6.0 + 8.0 + 10.0


def test_the_most_samples_an_input_may_ask_for_fit_in_the_state_limit():
    from autotuner_core.models import MAX_SAMPLES_PER_TARGET, TargetTask

    # Given the largest first round an input may ask for (48 sizes, plus the current one and
    # refinement) at the largest count that stays within the sample limit, and 15-minute Durations
    sizes = [128 + 64 * index for index in range(48)]
    invocations = MAX_SAMPLES_PER_TARGET // (len(sizes) + 1 + 3)
    tuning = request(memorySizes=sizes, invocations=invocations)
    slow = [899_999.99] * invocations
    observations = [
        SizeObservation(memory_size=size, durations_ms=slow, billed_durations_ms=[900_000.0] * invocations)
        for size in [*sizes, 4000, 4100, 4200, 4300]
    ]
    task = TargetTask.model_validate(
        {
            "execution": {"arn": "arn:aws:states:us-east-1:123456789012:execution:tuner:run", "startTime": "now"},
            "request": tuning.dump(),
            "target": {
                "ref": {"given": "orders", "name": "orders", "arn": TARGET},
                "configuration": {"MemorySize": 4000, "Timeout": 900},
            },
            "timings": {},
            "observations": [item.dump() for item in observations],
        }
    )

    # When the document goes into state, as JSON
    size = len(json.dumps(task.dump()).encode())

    # Then it is below Step Functions' 256 KB limit
    assert size < 256 * 1024


def test_a_planner_that_keeps_asking_is_cut_after_the_round_limit(monkeypatch):
    from autotuner_core import planning

    # Given a planner that always asks for one more round
    monkeypatch.setattr(planning, "next_round", lambda *args, **kwargs: [SizeRequest(memory_size=512, invocations=5)])

    # When the loop has run fewer rounds than the limit, then exactly the limit
    before = planning.bounded_round(
        request(), 512, [seen(512, 10.0)], rounds_done=planning.MAX_ROUNDS - 1, max_memory_mb=10_240
    )
    at = planning.bounded_round(
        request(), 512, [seen(512, 10.0)], rounds_done=planning.MAX_ROUNDS, max_memory_mb=10_240
    )

    # Then the round is run before the limit and cut at it
    assert before == ([SizeRequest(memory_size=512, invocations=5)], False)
    assert at == ([], True)
