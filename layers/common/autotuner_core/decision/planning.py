"""What to measure next: the planner the state machine's measuring loop asks before every round.

``PlanMeasurements`` calls :func:`next_round` with everything measured so far; the sizes it
returns are prepared (versions and aliases, only for sizes not prepared yet) and measured, and
the loop asks again until the planner returns an empty list. The planner is pure: it reads
observations and never calls AWS, so the loop's shape (how many rounds, which sizes, how many
invocations each) is the planner's choice alone.

This planner is decision engine v2 (:func:`autotuner_core.decision.engine.next_round`, docs/engine.md): a
first round of four sizes, a local search along a ladder of sizes, sequential sampling until the
intervals separate, within a budget of ``3 * invocations``: the product measures exactly as the
real-curve benchmark (``python -m benchmarks realcurves``) measures. ``memorySizes`` gives the
search range (its smallest and largest size); ``refine`` no longer changes anything (the engine
always searches adaptively; the field is still accepted so existing inputs stay valid).

With ``onlyColdStarts`` a size is measured in one round only: every invocation needs its own
version, the versions are published once per size, and a second round at that size would find
them warm. A re-measurement the engine asks for is dropped, and measuring ends when it asks
for nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence

from autotuner_core.cost import run_cost

# The documents of the seam live in documents/ with the other state documents; they are this
# module's vocabulary and are imported from here.
from autotuner_core.decision import engine
from autotuner_core.documents.base import MAX_MEMORY_MB
from autotuner_core.documents.request import TuningRequest
from autotuner_core.documents.target import SizeObservation, SizeRequest
from autotuner_core.documents.task import MeasuredItem, MeasuringTask
from autotuner_core.measuring.payloads import planned_request

__all__ = [
    "MAX_ROUNDS",
    "SizeObservation",
    "SizeRequest",
    "bounded_round",
    "merge",
    "next_round",
    "plan_task",
]

# Rounds the state machine runs at most, whatever the planner asks: a planner that never says
# "done" stops here and the decision uses what was measured. The engine's sequential sampling
# adds a round per three invocations of its contenders, so its rounds grow with ``invocations``
# (its budget bounds the invocations, not the rounds): on the real curves and the simulated
# presets, all strategies, at most 7 rounds at invocations 10, 11 at 20 and 26 at 50. 32 leaves
# the engine its budget up to about invocations 50; above that it stops early.
MAX_ROUNDS = 32


def merge(observed: Sequence[SizeObservation], added: Sequence[SizeObservation]) -> list[SizeObservation]:
    """All observations per size, sorted by size: a size measured in two rounds keeps both rounds' samples."""
    by_size: dict[int, SizeObservation] = {item.memory_size: item for item in observed}
    for item in added:
        before = by_size.get(item.memory_size)
        by_size[item.memory_size] = item if before is None else before.pooled(item)
    return [by_size[size] for size in sorted(by_size)]


def next_round(
    request: TuningRequest,
    current_memory_mb: int,
    observed: Sequence[SizeObservation],
    *,
    max_memory_mb: int,
) -> list[SizeRequest]:
    """The sizes to measure next and how many more times each; ``[]`` means measuring is done.

    :func:`autotuner_core.decision.engine.next_round`, never more than its budget in total. A size over
    ``max_memory_mb`` is never proposed; a size Lambda refuses (over the account's quota) comes
    back as an excluded observation with Lambda's reason, and the engine moves on without it.
    With ``onlyColdStarts``, sizes measured already are left out (see the module's docstring).
    A fixed ``memorySize`` measures nothing.
    """
    plan = engine.next_round(request, current_memory_mb, observed, max_memory_mb=max_memory_mb)
    if request.only_cold_starts:
        measured = {item.memory_size for item in observed}
        plan = [item for item in plan if item.memory_size not in measured]
    return plan


def bounded_round(
    request: TuningRequest,
    current_memory_mb: int,
    observed: Sequence[SizeObservation],
    *,
    rounds_done: int,
    max_memory_mb: int,
) -> tuple[list[SizeRequest], bool]:
    """:func:`next_round`, stopped after :data:`MAX_ROUNDS` rounds; returns the round and whether it was cut.

    The state machine loops for as long as the planner asks: a planner that never says "done"
    must not keep it looping (and measuring) forever.
    """
    plan = next_round(request, current_memory_mb, observed, max_memory_mb=max_memory_mb)
    if plan and rounds_done >= MAX_ROUNDS:
        return [], True
    return plan, False


def plan_task(task: MeasuringTask, measured: Sequence[MeasuredItem] = ()) -> tuple[MeasuringTask, bool]:
    """The task with the round just ``measured`` added to its observations and the next round planned
    (``plan``; None when measuring is done), its rounds counted; and whether the round limit cut it.

    Pure: the measuring loop's planning step, run after the first round by the step that measured
    the round (one state less per round) and before it by PlanMeasurements."""
    observations = merge(task.observations, [item.observation for item in measured])
    rounds = task.spend.rounds
    # The account's memory quota is not known here: a size Lambda refuses is excluded when prepared.
    plan, cut = bounded_round(
        planned_request(task.request, task.target.payload),
        task.target.configuration.memory_size,
        observations,
        rounds_done=rounds,
        max_memory_mb=MAX_MEMORY_MB,
    )
    spend = run_cost.add(task.spend, *(item.spend for item in measured)).counting_round(len(plan))
    return task.planned(observations, plan or None, spend), cut
