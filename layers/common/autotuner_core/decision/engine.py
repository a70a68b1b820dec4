"""Decision engine v2: which sizes to measure next, how often, and what to recommend.

Power Tuning measures a fixed grid (:data:`POWER_TUNING_SIZES_MB`) ``num`` times each and
picks the best mean. This engine spends at most half of that budget and measures where it
matters:

1. **First round.** Four sizes spread evenly in log-memory over the search range, up to
   2,048 MB for the cost strategy (the current size takes the place of the nearest one), two
   invocations each: a size 3x off the best is told apart by two, and the invocations a third
   would have cost go to the contenders instead.
2. **Local search.** Sizes lie on :data:`SIZE_LADDER`, clipped to the range (where Lambda users
   and Power Tuning measure, and where the published curves were measured). While a neighbour
   of the best size so far on the ladder is unmeasured, it is measured next: the optimum of a
   cost curve lies next to the cheapest measured size, and a curve that keeps falling is
   followed up the ladder (so the first round need not reach the top). Two invocations each.
   Once a Max Memory Used is known, the smallest size that holds it (plus 5 %) joins the ladder:
   next to an out-of-memory size it is often the cheapest size there is.
3. **Sequential sampling.** The best size so far and the sizes that might still beat it by more
   than ``TOLERANCE`` (4 %) at 90 % confidence (the two closest at most; the runner-up when none
   can) share half of the budget left per round, at least three invocations each, and all of it
   once another round could not give each of them three: the budget is used, not left, in few
   rounds (a round costs state transitions). The current size joins them, right after the best,
   while the projected change might fall either side of ``minImprovement`` (a round the budget
   cuts short loses its last requests, and a wrong keep costs more than an unsettled contender).
4. **Decision.** The best size by the strategy's objective, with a 90 % confidence interval on
   the projected change against the current size. An improvement below ``minImprovement``
   (default 5 %) keeps the current size: no churn for noise.

Budget: half of what Power Tuning spends over the same range at the same ``num`` (its default
sizes inside the range and the range's two ends, ``num`` each): ``3 * request.invocations`` (30
at the default 10) over a range holding six of them or more, less over a narrower one; never
more. With a weighted payload list, every request is a whole number of :func:`payload_unit` so
that each size gets every payload in its weight.

Estimates (a size's location, the pooled spread, the fitted curve) and the decision (:func:`decide`)
are :mod:`autotuner_core.decision.statistics`'s.

Errors: a size with a failed invocation is excluded, and so is every size below it (below an
out-of-memory size there is nothing to find); sizes below the largest Max Memory Used seen
(plus 5 %) are not proposed. The engine says only which sizes and how many: where and how they
are measured (versions of an idle ``$LATEST``, shadows) is the measuring step's business.

The measuring loop asks :func:`plan_task` after every round (and PlanMeasurements before the
first): it merges the round into the observations and plans the next with :func:`next_round`,
until that returns nothing or :data:`MAX_ROUNDS` rounds have run. With ``onlyColdStarts`` a size
is measured in one round only: every invocation needs its own version, the versions are published
once per size, and a second round at that size would find them warm.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from autotuner_core.cost import run_cost
from autotuner_core.cost import share as cost_share
from autotuner_core.cost.share import Share
from autotuner_core.decision.statistics import TOLERANCE, Z_90, Estimate, by_size, contenders, estimate, rank
from autotuner_core.documents.base import MAX_MEMORY_MB, MIN_MEMORY_MB
from autotuner_core.documents.request import (
    BUDGET_PER_INVOCATION,
    POWER_TUNING_SIZES_MB,
    PayloadSource,
    Strategy,
    TuningRequest,
)
from autotuner_core.documents.target import SizeObservation, SizeRequest
from autotuner_core.documents.task import MeasuredItem, MeasuringTask
from autotuner_core.policy.errors import InvalidConfigurationError

# The sizes the local search steps along: where Lambda users and Power Tuning measure, and where the
# published curves were measured.
SIZE_LADDER = (128, 256, 512, 1024, 1536, 2048, 3008, 4096, 6144, 8192, 10240)
FIRST_ROUND_SIZES = 4
FIRST_ROUND_INVOCATIONS = 2
NEIGHBOUR_INVOCATIONS = 2  # a size the local search adds
MORE_INVOCATIONS = 3  # one step of sequential sampling, per size, at least
SAMPLING_SHARE = 2  # a sampling round spends 1 / SAMPLING_SHARE of what is left
# budget = 3 * invocations: Power Tuning's 6 default sizes * num, halved (documents/request.py bounds the
# samples kept in state by it)
BUDGET_PER_NUM = BUDGET_PER_INVOCATION
# The first round reaches at most this high: above it a cost curve rarely falls, and the local
# search climbs further when the curve still does.
FIRST_ROUND_TOP_MB = 2048
MEMORY_HEADROOM = 1.05
_NEAR_ENDPOINT = 0.08  # ladder sizes this close (relative) to a range end add nothing to it
# Rounds the measuring loop runs at most, whatever next_round asks: a planner that never says
# "done" stops here and the decision uses what was measured. Sequential sampling adds a round per
# three invocations of its contenders, so the rounds grow with ``invocations`` (the budget bounds
# the invocations, not the rounds): on the real curves and the simulated presets, all strategies,
# at most 7 rounds at invocations 10, 11 at 20 and 26 at 50. 32 leaves the engine its budget up to
# about invocations 50; above that it stops early.
MAX_ROUNDS = 32


def budget(request: TuningRequest, max_memory_mb: int = MAX_MEMORY_MB) -> int:
    """Invocations the engine may spend on one target: half of Power Tuning's over the same range
    at the same ``num``, never more than ``3 * invocations``.

    Power Tuning over a range measures its default sizes inside it and the range's two ends,
    ``num`` times each: six sizes over the default range, fewer over a narrow one."""
    low, high = search_range(request, max_memory_mb)
    reference = {low, high, *(size for size in POWER_TUNING_SIZES_MB if low <= size <= high)}
    return request.invocations * min(len(reference), 2 * BUDGET_PER_NUM) // 2


def payload_unit(request: TuningRequest) -> int:
    """Invocations per size come in multiples of this: 1 for one payload; for a weighted payload
    list, the smallest count that sends every payload exactly its share of the weights (up to
    ``invocations``), else ``invocations`` itself (the count the list was written for).

    The measuring step spreads each round's invocations over the payloads by weight, afresh per
    round; a round of 2 at three payloads would leave one out. In whole units every size gets the
    same mix, so sizes are compared on the same work."""
    payload = request.payload
    if not isinstance(payload, list):
        return 1
    total = sum(item.weight for item in payload)
    for count in range(len(payload), request.invocations + 1):
        shares = [item.weight / total * count for item in payload]
        if all(abs(share - round(share)) < 1e-9 and round(share) >= 1 for share in shares):
            return count
    return request.invocations


def search_range(request: TuningRequest, max_memory_mb: int) -> tuple[int, int]:
    """The sizes the engine may propose: from the smallest to the largest of ``memorySizes``,
    capped at ``max_memory_mb`` (the account's quota, or a replayed curve's largest size)."""
    low = max(MIN_MEMORY_MB, min(request.memory_sizes))
    high = min(MAX_MEMORY_MB, max(request.memory_sizes), max_memory_mb)
    if high < low:
        raise InvalidConfigurationError(
            f"memorySizes start at {low} MB, above the largest size allowed here ({max_memory_mb} MB)"
        )
    return low, high


def candidate_sizes(low: int, high: int, current_memory_mb: int | None = None) -> list[int]:
    """The ladder between ``low`` and ``high``, both ends included, and the current size if given.

    The current size is a candidate even outside the range: it is the baseline of the projected
    change and of the minImprovement rule."""
    inner = [
        size
        for size in SIZE_LADDER
        if low * (1 + _NEAR_ENDPOINT) < size < high / (1 + _NEAR_ENDPOINT) or size in (low, high)
    ]
    sizes = {low, high, *inner}
    if current_memory_mb is not None:
        sizes.add(current_memory_mb)
    return sorted(sizes)


def max_sizes(request: TuningRequest, current_memory_mb: int | None, max_memory_mb: int) -> int:
    """The most sizes :func:`next_round` proposes for one target, for the run budget's estimate:
    the ladder over the search range with the current size, and the one size between ladder steps
    it may add (the smallest that holds the Max Memory Used seen). A current size not yet read is
    measured too, so it counts one more."""
    low, high = search_range(request, max_memory_mb)
    return len(candidate_sizes(low, high, current_memory_mb)) + 1 + (1 if current_memory_mb is None else 0)


def next_round(
    request: TuningRequest,
    current_memory_mb: int,
    observed: Sequence[SizeObservation],
    *,
    max_memory_mb: int,
) -> list[SizeRequest]:
    """The sizes to measure next and how many more invocations each; ``[]`` means measuring is done.

    Deterministic in its inputs: the same observations give the same requests. Never plans beyond
    :func:`budget` in total. A size over ``max_memory_mb`` is never proposed; a size Lambda refuses
    (over the account's quota) comes back as an excluded observation with Lambda's reason, and the
    engine moves on without it. With ``onlyColdStarts``, sizes measured already are left out (see
    the module's docstring). A fixed ``memorySize`` measures nothing.
    """
    plan = _next_round(request, current_memory_mb, observed, max_memory_mb=max_memory_mb)
    if request.only_cold_starts:
        measured = {item.memory_size for item in observed}
        plan = [item for item in plan if item.memory_size not in measured]
    return plan


def _next_round(
    request: TuningRequest, current_memory_mb: int, observed: Sequence[SizeObservation], *, max_memory_mb: int
) -> list[SizeRequest]:
    if request.fixed:
        return []
    low, high = search_range(request, max_memory_mb)
    allowed_current = current_memory_mb if MIN_MEMORY_MB <= current_memory_mb <= max_memory_mb else None
    candidates = candidate_sizes(low, high, allowed_current)
    measured = by_size(observed)
    left = budget(request, max_memory_mb) - sum(o.invocations for o in measured.values())
    unit = payload_unit(request)
    if left < unit:
        return []
    if not measured:
        # Only the cost strategy stops the first round short of the top: the balanced score is
        # normalised by the largest cost, usually the top's, and speed usually wins there.
        top = FIRST_ROUND_TOP_MB if Strategy(request.strategy) is Strategy.COST else high
        return _fit(_first_round(candidates, current_memory_mb, top), left, unit)

    strategy = Strategy(request.strategy)
    floor = _floor(measured.values())
    fits = _fits(measured.values())
    earlier_fit = [size for size in measured if size not in candidates]
    if earlier_fit:
        # An earlier round's fit size stays a candidate, and it is the only one: a Max Memory Used
        # that grows with more samples does not add a size per round (the run budget counts one).
        candidates = sorted([*candidates, *earlier_fit])
    elif (
        fits is not None
        and fits > floor
        and low <= fits <= high
        and not any(fits <= size <= fits * (1 + TOLERANCE) for size in candidates)
    ):
        # The smallest size that holds what the function used lies between ladder steps (a 700 MB
        # function next to an out-of-memory 512 MB): it is the cheapest place a flat cost curve
        # can reach, so it is a candidate like a ladder size, unless a candidate above it is
        # within TOLERANCE (where the cost grows with memory, it could save no more than that).
        candidates = sorted([*candidates, fits])
    allowed = [size for size in candidates if size > floor]
    estimates = estimate(measured, strategy, request.balanced_weight, top=max(request.memory_sizes))
    if not estimates:
        # Everything measured so far failed: try the next untried size above the failures.
        untried = [size for size in allowed if size not in measured]
        if not untried:
            return []
        return _fit([SizeRequest(memory_size=untried[0], invocations=FIRST_ROUND_INVOCATIONS)], left, unit)

    best = min(estimates.values(), key=rank)
    unmeasured = [size for size in _neighbours(allowed, best.memory_size) if size not in measured]
    if unmeasured:
        return _fit([SizeRequest(memory_size=s, invocations=NEIGHBOUR_INVOCATIONS) for s in unmeasured], left, unit)

    sizes = [best.memory_size, *contenders(best, estimates.values())]
    current = estimates.get(current_memory_mb)
    if (
        current is not None
        and current.memory_size not in sizes
        and _threshold_unclear(best, current, request.min_improvement)
    ):
        # Second, before the contenders: the requests are cut from the end when the budget runs
        # short, and a wrong keep costs at least minImprovement while a contender left unsettled
        # costs about TOLERANCE.
        sizes.insert(1, current.memory_size)
    if len(sizes) == 1:
        # The best size stands apart, but after a few invocations each a size can look apart by
        # chance: the budget left goes to it and the runner-up, the one other size that can still win.
        runner_up = sorted((e for e in estimates.values() if e is not best), key=rank)[:1]
        sizes += [e.memory_size for e in runner_up]
    if len(sizes) == 1:
        return []  # a single usable size: nothing to compare it with
    # Half of what is left per sampling round (at least MORE_INVOCATIONS a size), and all of it
    # once another round could not give each size that much: the whole budget is used in few rounds.
    # Short of MORE_INVOCATIONS each, the last sizes are cut (see above: the order is the priority).
    each = max(MORE_INVOCATIONS, math.ceil(left / (SAMPLING_SHARE * len(sizes))))
    if left - each * len(sizes) < MORE_INVOCATIONS * len(sizes):
        each = max(MORE_INVOCATIONS, left // len(sizes))
    return _fit([SizeRequest(memory_size=s, invocations=each) for s in sizes], left, unit)


# --------------------------------------------------------------------------------------------
# The measuring loop
# --------------------------------------------------------------------------------------------


def plan_task(
    task: MeasuringTask,
    measured: Sequence[MeasuredItem] = (),
    *,
    share: Share | None = None,
    waited_ms: float = 0.0,
) -> tuple[MeasuringTask, bool]:
    """The task with the round just ``measured`` added to its observations and the next round planned
    (``plan``; None when measuring is done), its rounds counted; and whether :data:`MAX_ROUNDS` cut it.

    Pure: the measuring loop's planning, run before the first round by PlanMeasurements and after
    each round by the step that measured it (one state less per round). ``refined_sizes`` gathers
    the sizes first planned after the first round. With ``share`` (the target's share of the run's
    limits, cost/share.py), a round that would take the counted spend past it is not planned, and
    ``spend.budget_stop`` says why; ``waited_ms`` is the round's wait, not yet in ``spend``.
    """
    observations = merge(task.observations, [item.observation for item in measured])
    rounds = task.spend.rounds
    # The account's memory quota is not known here: a size Lambda refuses is excluded when prepared.
    plan = next_round(
        planned_request(task.request, task.target.payload),
        task.target.configuration.memory_size,
        observations,
        max_memory_mb=MAX_MEMORY_MB,
    )
    cut = bool(plan) and rounds >= MAX_ROUNDS
    if cut:
        plan = []
    refined = set(task.refined_sizes or [])
    if rounds:
        seen = {item.memory_size for item in observations}
        refined |= {item.memory_size for item in plan if item.memory_size not in seen}
    spend = run_cost.add(task.spend, *(item.spend for item in measured))
    if share is not None and plan:
        so_far = cost_share.spent(task, observations, spend, waited_ms)
        reason = cost_share.stop_reason(share, so_far, cost_share.projected(task, observations, spend, plan))
        if reason:
            plan, spend = [], spend.stopped(reason)
    spend = spend.counting_round(len(plan))
    return task.planned(observations, plan or None, spend, refined_sizes=sorted(refined) or None), cut


def merge(observed: Sequence[SizeObservation], added: Sequence[SizeObservation]) -> list[SizeObservation]:
    """All observations per size, sorted by size: a size measured in two rounds keeps both rounds' samples."""
    merged = by_size([*observed, *added])
    return [merged[size] for size in sorted(merged)]


def planned_request(request: TuningRequest, source: PayloadSource | None) -> TuningRequest:
    """The request as the engine sees one target: with its own inline ``payloads`` entry as the payload.

    The engine measures a weighted payload in whole units of its split (:func:`payload_unit`); a
    target's own weighted list, not the run-wide payload, is what its rounds must be whole units of.
    """
    if source is None or source.origin != "payloads" or source.s3 or not request.payloads:
        return request
    return request.sending(request.payloads[source.entry].payload)  # type: ignore[index]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _floor(observations: Iterable[SizeObservation]) -> int:
    """Sizes at or below this are not proposed: the largest size that failed, or that cannot hold what was used."""
    items = list(observations)
    failed = [o.memory_size for o in items if o.errors]
    fits = _fits(items)
    return max(failed + ([] if fits is None else [fits - 1]), default=0)


def _fits(observations: Iterable[SizeObservation]) -> int | None:
    """The smallest size that holds the largest Max Memory Used seen, with its headroom; None if none was reported."""
    used = [o.max_memory_used_mb for o in observations if o.max_memory_used_mb is not None]
    return math.ceil(max(used) * MEMORY_HEADROOM) if used else None


def _neighbours(allowed: list[int], size: int) -> list[int]:
    if size not in allowed:
        return []
    position = allowed.index(size)
    return [allowed[i] for i in (position - 1, position + 1) if 0 <= i < len(allowed)]


def _threshold_unclear(best: Estimate, current: Estimate, min_improvement: float) -> bool:
    # At 0 any improvement counts, at 1 none can (an objective does not fall by 100 %): no threshold to straddle.
    if best is current or not 0 < min_improvement < 1:
        return False
    limit = math.log(1 - min_improvement)  # the change that just meets the threshold
    difference = best.objective - current.objective
    half = Z_90 * math.hypot(best.se, current.se)
    return difference - half < limit < difference + half


def _first_round(candidates: list[int], current_memory_mb: int, reach_mb: int) -> list[SizeRequest]:
    top = max([size for size in candidates if size <= reach_mb], default=candidates[0])
    reach = [size for size in candidates if size <= top]
    picks: list[int] = []
    count = min(FIRST_ROUND_SIZES, len(reach))
    for k in range(count):
        target = reach[0] * (top / reach[0]) ** (k / max(1, count - 1))
        pick = min(reach, key=lambda size: (abs(math.log(size / target)), size))
        if pick not in picks:
            picks.append(pick)
    if current_memory_mb in candidates and current_memory_mb not in picks:
        nearest = min(picks, key=lambda size: abs(math.log(size / current_memory_mb)))
        picks[picks.index(nearest)] = current_memory_mb
    return [SizeRequest(memory_size=size, invocations=FIRST_ROUND_INVOCATIONS) for size in sorted(picks)]


def _fit(requests: list[SizeRequest], left: int, unit: int) -> list[SizeRequest]:
    """The requests, in order, as far as ``left`` invocations go, each rounded up to a multiple of
    ``unit`` (the last one cut short to a multiple of it; one that cannot take a unit is dropped)."""
    fitted = []
    for item in requests:
        take = min(-(-item.invocations // unit) * unit, left // unit * unit)
        if take <= 0:
            break
        fitted.append(SizeRequest(memory_size=item.memory_size, invocations=take))
        left -= take
    return fitted
