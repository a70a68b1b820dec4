"""What to measure next: the planner the state machine's measuring loop asks before every round.

``PlanMeasurements`` calls :func:`next_round` with everything measured so far; the sizes it
returns are prepared (versions and aliases, only for sizes not prepared yet) and measured, and
the loop asks again until the planner returns an empty list. The planner is pure: it reads
observations and never calls AWS, so the loop's shape (how many rounds, which sizes, how many
invocations each) is the planner's choice alone.

This planner is the fixed grid plus one refinement round: first the request's memory sizes and
the current size, ``invocations`` times each; then, when ``refine`` is set, the sizes
:func:`autotuner_core.analysis.refinement_sizes` proposes around the first winner; then done.
"""

from __future__ import annotations

from collections.abc import Sequence

# The documents of the seam live in models.py with the other state documents; they are this
# module's vocabulary and are imported from here.
from autotuner_core.models import SizeObservation, SizeRequest, TuningRequest

__all__ = [
    "MAX_ROUNDS",
    "SizeObservation",
    "SizeRequest",
    "bounded_round",
    "first_round_sizes",
    "merge",
    "next_round",
]

# Rounds the state machine runs at most, whatever the planner asks: a planner that never says
# "done" stops here and the decision uses what was measured.
MAX_ROUNDS = 8


def merge(observed: Sequence[SizeObservation], added: Sequence[SizeObservation]) -> list[SizeObservation]:
    """All observations per size, sorted by size: a size measured in two rounds keeps both rounds' samples."""
    by_size: dict[int, SizeObservation] = {item.memory_size: item for item in observed}
    for item in added:
        before = by_size.get(item.memory_size)
        if before is None:
            by_size[item.memory_size] = item
            continue
        used = [value for value in (before.max_memory_used_mb, item.max_memory_used_mb) if value is not None]
        by_size[item.memory_size] = SizeObservation(
            memory_size=item.memory_size,
            durations_ms=[*before.durations_ms, *item.durations_ms],
            billed_durations_ms=[*before.billed_durations_ms, *item.billed_durations_ms],
            errors=before.errors + item.errors,
            errors_billed_ms=before.errors_billed_ms + item.errors_billed_ms,
            error_types=sorted({*before.error_types, *item.error_types}),
            cold_starts=before.cold_starts + item.cold_starts,
            max_memory_used_mb=max(used) if used else None,
            excluded=before.excluded or item.excluded,
        )
    return [by_size[size] for size in sorted(by_size)]


def first_round_sizes(request: TuningRequest, current_memory_mb: int) -> list[int]:
    """The request's memory sizes and the current one, ascending."""
    return sorted(set(request.memory_sizes) | {current_memory_mb})


def next_round(
    request: TuningRequest,
    current_memory_mb: int,
    observed: Sequence[SizeObservation],
    *,
    max_memory_mb: int,
) -> list[SizeRequest]:
    """The sizes to measure next and how many more times each; ``[]`` means measuring is done.

    First round: every requested size and the current one, ``request.invocations`` times each
    (a size over ``max_memory_mb`` is still listed: Lambda's refusal is reported as that size's
    exclusion, with Lambda's reason). Second round, when ``refine``: the refinement sizes around
    the first winner, none above ``max_memory_mb``. Then done. A fixed ``memorySize`` measures
    nothing.
    """
    from autotuner_core.analysis import observation_stats, refinement_sizes

    if request.fixed:
        return []
    first = first_round_sizes(request, current_memory_mb)
    measured = {item.memory_size for item in observed}
    if not observed:
        return [SizeRequest(memory_size=size, invocations=request.invocations) for size in first]
    if not request.refine or measured - set(first):
        return []  # the refinement round has run (or is not wanted)
    stats = [observation_stats(item, discard_top_bottom=request.discard_top_bottom) for item in observed]
    sizes = refinement_sizes(stats, strategy=request.strategy, balanced_weight=request.balanced_weight)
    return [
        SizeRequest(memory_size=size, invocations=request.invocations)
        for size in sizes
        if size <= max_memory_mb and size not in measured
    ]


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
