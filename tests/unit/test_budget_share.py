"""Each target's share of the run's limits, and the planner's stop at it (cost/share.py, engine.plan_task)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotuner_core.cost import share as cost_share
from autotuner_core.cost.share import Share
from autotuner_core.decision import engine
from autotuner_core.documents.cost import TuningSpend
from autotuner_core.documents.target import SizeObservation, SizeRequest
from autotuner_core.documents.task import MeasuredItem, MeasuringTask
from autotuner_core.settings import Settings
from benchmarks import budget_figures
from tests.unit.test_measuring_loop import measuring, seen

ROOM = Share(invocations=10_000, usd=10.0, versions=200)


def round_of(*observations: SizeObservation) -> list[MeasuredItem]:
    return [MeasuredItem(observation=item, spend=TuningSpend()) for item in observations]


def first_round_measured(ms: float) -> tuple[MeasuringTask, list[MeasuredItem]]:
    """The planner's first round, each size measured at ``ms`` milliseconds an invocation."""
    first, _ = engine.plan_task(measuring(0))
    return first, round_of(*(seen(item.memory_size, ms, n=item.invocations) for item in first.plan or []))


def test_the_share_is_the_limit_divided_among_the_targets_after_the_runs_own_steps() -> None:
    settings = Settings(MAX_RUN_COST_USD=1.0, MAX_INVOCATIONS_PER_RUN=1000, MAX_VERSIONS_PER_TARGET=50)
    one, four = cost_share.share_of(settings, 1), cost_share.share_of(settings, 4)
    assert 0.99 < one.usd < 1.0 and four.usd == pytest.approx(one.usd / 4)
    assert (four.invocations, four.versions) == (250, 50)


def test_a_round_that_fits_the_share_is_planned_and_one_that_does_not_is_stopped_saying_why() -> None:
    # Given a first round measured at 60 s an invocation (a heavy payload)
    first, measured = first_round_measured(60_000.0)
    # When the next round is planned with room to spare, it is planned
    roomy, _ = engine.plan_task(first, measured, share=ROOM)
    assert roomy.plan and roomy.spend.budget_stop is None
    # When the target's share is a cent, no round starts, and the spend says which limit stopped it
    tight, _ = engine.plan_task(first, measured, share=Share(invocations=10_000, usd=0.01, versions=200))
    assert tight.plan is None
    assert tight.spend.budget_stop and "MaxRunCostUsd" in tight.spend.budget_stop
    # And the rounds counted are the rounds that ran
    assert tight.spend.rounds == first.spend.rounds
    # And four measured sizes are enough to decide
    assert cost_share.decidable(tight)


def test_the_invocation_and_version_shares_stop_a_round_too() -> None:
    first, measured = first_round_measured(100.0)
    counted = sum(item.observation.invocations for item in measured)
    by_invocations, _ = engine.plan_task(first, measured, share=Share(invocations=counted + 1, usd=10.0, versions=200))
    assert by_invocations.plan is None and "MaxInvocationsPerRun" in (by_invocations.spend.budget_stop or "")


def test_the_projection_bounds_a_size_by_the_nearest_measured_one_and_a_larger_size_costs_no_more_time() -> None:
    task = measuring(1, observations=[seen(1024, 1000.0, n=2)])
    observations = task.observations
    # 512 MB: at most twice as long as at 1,024 MB (the same GB-seconds); 2,048 MB: no longer (twice the GB-seconds)
    below = cost_share.projected(task, observations, task.spend, [SizeRequest(memory_size=512, invocations=1)])
    above = cost_share.projected(task, observations, task.spend, [SizeRequest(memory_size=2048, invocations=1)])
    assert below.gb_seconds == pytest.approx(1.001)
    assert above.gb_seconds == pytest.approx(2.002)


def test_with_nothing_that_ran_the_projection_is_the_timeout() -> None:
    task = measuring(1, observations=[SizeObservation(memory_size=256, excluded="Lambda rejected it")])
    plan = [SizeRequest(memory_size=1024, invocations=2)]
    assert cost_share.projected(task, task.observations, task.spend, plan).gb_seconds == pytest.approx(2 * 900)


def test_one_size_that_ran_is_too_little_to_decide() -> None:
    task = measuring(1, observations=[seen(1024, 100.0, n=2), SizeObservation(memory_size=512, errors=2)])
    assert not cost_share.decidable(task)


def test_the_docs_budget_figures_are_the_estimates_own() -> None:
    # The sentence on MaxRunCostUsd's default in docs/usage.md is what benchmarks/budget_figures.py computes
    text = (Path(budget_figures.__file__).parents[1] / "docs" / "usage.md").read_text(encoding="utf-8")
    assert budget_figures.sentence() in text
