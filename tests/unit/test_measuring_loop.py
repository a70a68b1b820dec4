"""The measuring loop's planner: which sizes the next round measures, and when measuring is done."""

from __future__ import annotations

import json

from autotuner_core.decision import engine
from autotuner_core.decision.analysis import observation_stats, observe
from autotuner_core.decision.engine import SizeObservation, SizeRequest, merge, next_round
from autotuner_core.documents.cost import TuningSpend
from autotuner_core.documents.request import TuningRequest
from autotuner_core.documents.target import InvocationSample
from autotuner_core.documents.task import MeasuredItem, MeasuringTask

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


def simulate(tuning: TuningRequest, current: int, curve, *, max_memory_mb: int = 10_240, refused: int | None = None):
    """Run the planner's loop on a noiseless duration curve; sizes above ``refused`` come back
    excluded, as PrepareMeasurement reports a size Lambda refuses. Returns the observations and the rounds."""
    observed: list[SizeObservation] = []
    rounds: list[list[SizeRequest]] = []
    while plan := next_round(tuning, current, observed, max_memory_mb=max_memory_mb):
        rounds.append(plan)
        added = [
            SizeObservation(memory_size=item.memory_size, excluded="MemorySize over the account's quota")
            if refused is not None and item.memory_size > refused
            else seen(item.memory_size, curve(item.memory_size), n=item.invocations)
            for item in plan
        ]
        observed = merge(observed, added)
        assert len(rounds) <= 40, "the planner never said done"
    return observed, rounds


def cheapest_at_1024(memory: int) -> float:
    # Cost (memory x duration) is lowest at 1,024 MB: CPU-bound below it, flat above it.
    return 100.0 + 200_000.0 / memory if memory <= 1024 else 100.0 + 200_000.0 / 1024 + (memory - 1024) * 0.2


def test_first_round_is_four_sizes_across_the_range_with_the_current_one():
    # Given a request for sizes from 128 to 3,008 MB and a function at 384 MB, nothing measured yet
    tuning = request(memorySizes=[128, 512, 1024, 3008], invocations=12)

    # When the planner is asked for the first round
    plan = next_round(tuning, 384, [], max_memory_mb=10_240)

    # Then it asks for four sizes, ascending, within the range, the current one among them, two invocations each
    sizes = [item.memory_size for item in plan]
    assert len(sizes) == 4 and sizes == sorted(sizes) and 384 in sizes
    assert all(128 <= size <= 3008 for size in sizes)
    assert all(item.invocations == 2 for item in plan)


def test_the_loop_finds_the_optimum_within_the_budget_then_stops():
    # Given a cost tuning of a function whose cost is lowest at 1,024 MB
    tuning = request(memorySizes="standard", strategy="cost", invocations=10)

    # When the loop runs until the planner says done
    observed, rounds = simulate(tuning, 128, cheapest_at_1024)

    # Then 1,024 MB and its neighbours were measured, within 3 x invocations and the round limit
    sizes = {item.memory_size for item in observed}
    assert 1024 in sizes
    assert sum(item.invocations for item in observed) <= 3 * 10
    assert len(rounds) <= engine.MAX_ROUNDS
    # And fewer invocations than the fixed grid's 7 sizes x 10
    assert sum(item.invocations for item in observed) < 70


def test_refine_changes_nothing_and_a_fixed_memory_size_measures_nothing():
    # Given the same tuning with refine on and off
    on, off = request(refine=True), request(refine=False)

    # When the loop runs for each, and a fixed memorySize is asked for
    with_refine, _ = simulate(on, 512, cheapest_at_1024)
    without_refine, _ = simulate(off, 512, cheapest_at_1024)
    fixed = next_round(request(memorySize=1024), 512, [], max_memory_mb=10_240)

    # Then refine makes no difference, and nothing is measured for a fixed size
    assert with_refine == without_refine
    assert fixed == []


def test_the_planner_never_proposes_a_size_above_the_memory_limit():
    # Given a speed tuning of a function that keeps getting faster
    tuning = request(memorySizes=[1024, 10240], strategy="speed")

    # When the account allows at most 1,500 MB
    observed, _ = simulate(tuning, 1024, lambda memory: 1_000_000.0 / memory, max_memory_mb=1500)

    # Then nothing above 1,500 MB is measured
    assert all(item.memory_size <= 1500 for item in observed)


def test_a_size_lambda_refuses_is_passed_over():
    # Given a speed tuning of a function that keeps getting faster, in an account whose quota is 3,008 MB
    tuning = request(memorySizes=[128, 10240], strategy="speed")

    # When the loop runs with the full range offered (the quota is unknown to the planner)
    observed, _ = simulate(tuning, 512, lambda memory: 1_000_000.0 / memory, refused=3008)

    # Then sizes above the quota were excluded, not re-tried, and the loop ended
    refused = [item for item in observed if item.memory_size > 3008]
    assert refused and all(item.excluded and item.invocations == 0 for item in refused)
    assert 3008 in {item.memory_size for item in observed if item.excluded is None}


def test_only_cold_starts_measures_each_size_in_one_round():
    # Given a tuning that measures cold starts only
    tuning = request(onlyColdStarts=True)

    # When the loop runs
    _, rounds = simulate(tuning, 512, cheapest_at_1024)

    # Then no size is measured in two rounds (its versions would be warm by then)
    sizes = [item.memory_size for plan in rounds for item in plan]
    assert sizes and len(sizes) == len(set(sizes))


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
    from autotuner_core.decision.engine import budget
    from autotuner_core.documents.task import MeasuringTask

    # Given the largest input (48 sizes, the most invocations) and the engine's whole budget spread
    # over every size and the current one (more per-size overhead than a few sizes), 15-minute Durations
    sizes = [128 + 64 * index for index in range(48)]
    tuning = request(memorySizes=sizes, invocations=1000)
    spent = budget(tuning)
    each = spent // (len(sizes) + 1)
    observations = [
        SizeObservation(memory_size=size, durations_ms=[899_999.99] * each, billed_durations_ms=[900_000.0] * each)
        for size in [*sizes, 4000]
    ]
    task = MeasuringTask.model_validate(
        {
            "execution": {"arn": "arn:aws:states:us-east-1:123456789012:execution:tuner:run", "startTime": "now"},
            "request": tuning.dump(),
            "target": {
                "ref": {"given": "orders", "name": "orders", "arn": TARGET},
                "configuration": {"MemorySize": 4000, "Timeout": 900},
            },
            "timings": {},
            "admission": "NORMAL",
            "spend": {},
            "measurementStartedMs": 1_764_151_200_000.0,
            "observations": [item.dump() for item in observations],
        }
    )

    # When the document goes into state, as JSON
    size = len(json.dumps(task.dump()).encode())

    # Then it is below Step Functions' 256 KB limit
    assert size < 256 * 1024


def measuring(rounds: int, *, observations=(), refined=None) -> MeasuringTask:
    """A target's document as the measuring step hands it to the planner: ``rounds`` rounds planned so far."""
    return MeasuringTask.model_validate(
        {
            "execution": {"arn": "arn:aws:states:us-east-1:123456789012:execution:tuner:run", "startTime": "now"},
            "request": request(memorySizes="standard", strategy="cost", invocations=10).dump(),
            "target": {
                "ref": {"given": "orders", "name": "orders", "arn": TARGET},
                "configuration": {"MemorySize": 128, "Timeout": 900},
            },
            "timings": {},
            "admission": "NORMAL",
            "measurementStartedMs": 1_764_151_200_000.0,
            "observations": [item.dump() for item in observations],
            "spend": {"rounds": rounds},
            "refinedSizes": refined,
        }
    )


def items(*observations: SizeObservation) -> list[MeasuredItem]:
    return [MeasuredItem(observation=item, spend=TuningSpend()) for item in observations]


def test_a_planner_that_keeps_asking_is_cut_after_the_round_limit(monkeypatch):
    # Given a planner that always asks for one more round
    monkeypatch.setattr(engine, "next_round", lambda *args, **kwargs: [SizeRequest(memory_size=512, invocations=5)])

    # When the loop has run fewer rounds than the limit, then exactly the limit
    before, before_cut = engine.plan_task(measuring(engine.MAX_ROUNDS - 1), items(seen(512, 10.0)))
    at, at_cut = engine.plan_task(measuring(engine.MAX_ROUNDS), items(seen(512, 10.0)))

    # Then the round is run before the limit and cut at it
    assert (before.plan, before_cut) == ([SizeRequest(memory_size=512, invocations=5)], False)
    assert (at.plan, at_cut) == (None, True)
    assert (before.spend.rounds, at.spend.rounds) == (engine.MAX_ROUNDS, engine.MAX_ROUNDS)


def test_the_sizes_first_planned_after_the_first_round_are_noted_as_refined():
    # Given the first round planned before anything was measured
    first, _ = engine.plan_task(measuring(0))
    first_sizes = {item.memory_size for item in first.plan or []}
    assert first_sizes and first.refined_sizes is None

    # When that round is measured (a cost that keeps falling up to the top of the range) and the loop runs to its end
    task = first
    while task.plan:
        added = [seen(item.memory_size, 1e6 / item.memory_size**1.2, n=item.invocations) for item in task.plan]
        task, _ = engine.plan_task(task, items(*added))

    # Then the refined sizes are exactly the sizes measured that the first round did not measure
    measured = {item.memory_size for item in task.observations or []}
    assert task.refined_sizes == sorted(measured - first_sizes)
    assert task.refined_sizes
