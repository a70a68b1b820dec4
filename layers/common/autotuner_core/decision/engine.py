"""Decision engine v2: which sizes to measure next, how often, and what to recommend.

Power Tuning measures a fixed grid (128, 256, 512, 1024, 1536, 3008 MB) ``num`` times each and
picks the best mean. This engine spends at most half of that budget and measures where it
matters:

1. **First round.** Four sizes spread evenly in log-memory over the search range, up to
   2,048 MB for the cost strategy (the current size takes the place of the nearest one), two
   invocations each: a size 3x off the best is told apart by two, and the invocations a third
   would have cost go to the contenders instead.
2. **Local search.** Sizes lie on a ladder (128, 256, 512, 1024, 1536, 2048, 3008, 4096, 6144,
   8192, 10240 MB, clipped to the range: where Lambda users and Power Tuning measure, and where
   the published curves were measured). While a neighbour
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

For the cost strategy, with four sizes or more, each size's estimate is pooled with Parrotfish's
model ``d(m) = a + b * exp(-m / c)`` fitted over all of them (the curve counts as two
invocations), unless a size lies far off the fitted curve; standard errors stay each size's own.

Estimates are in log space: Lambda's noise is multiplicative. A size's location is the mean of
its log durations without spikes (more than 1.5x from their median; of two values, from the
smaller: spikes only go up), so a cold start's spike does not move it. The spread is one sigma
pooled over all sizes (a robust MAD estimate) shrunk towards 12 % (the median residual of
published Power Tuning curves) with the weight of 8 invocations, so three invocations do not
make a size look certain. Cost is ranked on the warm bill: each Duration rounded up to the
millisecond (at least 1 ms), as Lambda bills a warm invocation; a cold start's billed INIT is
paid once per execution environment, not per invocation, so it does not rank sizes.

Errors: a size with a failed invocation is excluded, and so is every size below it (below an
out-of-memory size there is nothing to find); sizes below the largest Max Memory Used seen
(plus 5 %) are not proposed. The engine says only which sizes and how many: where and how they
are measured (versions of an idle ``$LATEST``, shadows) is the measuring step's business.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from statistics import median

from pydantic import Field

from autotuner_core.documents.base import MAX_MEMORY_MB, MIN_MEMORY_MB, Document
from autotuner_core.documents.request import BUDGET_PER_INVOCATION, Strategy, TuningRequest
from autotuner_core.documents.target import SizeObservation, SizeRequest
from autotuner_core.policy.errors import InvalidConfigurationError

# Power Tuning's default powerValues: what the budget is half of (see budget()).
POWER_TUNING_SIZES_MB = (128, 256, 512, 1024, 1536, 3008)
LADDER_MB = (128, 256, 512, 1024, 1536, 2048, 3008, 4096, 6144, 8192, 10240)
FIRST_ROUND_SIZES = 4
FIRST_ROUND_INVOCATIONS = 2
NEIGHBOUR_INVOCATIONS = 2  # a size the local search adds
MORE_INVOCATIONS = 3  # one step of sequential sampling, per size, at least
SAMPLING_SHARE = 2  # a sampling round spends 1 / SAMPLING_SHARE of what is left
MAX_CONTENDERS = 2
# budget = 3 * invocations: Power Tuning's 6 default sizes * num, halved (documents/request.py bounds the
# samples kept in state by it)
BUDGET_PER_NUM = BUDGET_PER_INVOCATION
# The first round reaches at most this high: above it a cost curve rarely falls, and the local
# search climbs further when the curve still does.
FIRST_ROUND_TOP_MB = 2048
# Cost strategy: each size's estimate is pooled with Parrotfish's curve d(m) = a + b * exp(-m / c)
# fitted over all measured sizes (at least four: three parameters through three sizes pool
# nothing), the curve's value weighing as much as two invocations, unless a size lies more than
# MODEL_GATE_Z of its own standard errors off the curve (99.9 %: a shape the model cannot follow,
# such as a cost that keeps falling). For speed and balanced, pooling made the tuning curves'
# regret worse, so they are not pooled.
MODEL_MIN_SIZES = 4
MODEL_WEIGHT = 2.0
MODEL_GATE_Z = 3.2905
# c from 32 MB up by 2^(1/4), to about 55 GB: below 64 MB for a duration that halves from the
# smallest size to the next and is flat after it.
_MODEL_GRID_FROM_MB, _MODEL_GRID_STEPS = 32.0, 44
PRIOR_SIGMA = 0.12
PRIOR_WEIGHT = 8.0
Z_90 = 1.6449  # two-sided 90 %
MEMORY_HEADROOM = 1.05
TOLERANCE = 0.04  # a possible loss below this is not worth more invocations
SPIKE = math.log(1.5)  # a log distance from the median beyond which a value is a spike, not noise
_NEAR_ENDPOINT = 0.08  # ladder sizes this close (relative) to a range end add nothing to it


class SizeEstimate(Document):
    """One measured size, as the engine sees it."""

    model_config = Document.model_config | {"frozen": True}

    memory_size: int
    invocations: int
    duration_ms: float | None = None  # location of Duration, spikes left out; cost: pooled with the fitted curve
    billed_duration_ms: float | None = None
    relative_cost: float | None = None  # cost over the cheapest usable size's (1 = cheapest)
    excluded: str | None = None


class Decision(Document):
    """The engine's recommendation, with a 90 % confidence interval on the projected change."""

    model_config = Document.model_config | {"frozen": True}

    strategy: Strategy
    memory_size: int  # what to configure (the current size when keepCurrent)
    best_memory_size: int  # the best measured size, before the minImprovement rule
    current_memory_size: int
    keep_current: bool
    min_improvement: float
    # Change of the strategy's objective (cost, duration, or the balanced score) from the current
    # size to best_memory_size, in percent (negative is better); None when the current size was
    # not measured or was excluded.
    projected_change_pct: float | None = None
    change_ci_low_pct: float | None = None
    change_ci_high_pct: float | None = None
    confidence: float = 0.9
    cost_change_pct: float | None = None
    speed_change_pct: float | None = None
    invocations: int
    sizes: list[SizeEstimate] = Field(default_factory=list)
    summary: str


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
        for size in LADDER_MB
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
    :func:`budget` in total. A fixed ``memorySize`` measures nothing.
    """
    if request.fixed:
        return []
    low, high = search_range(request, max_memory_mb)
    allowed_current = current_memory_mb if MIN_MEMORY_MB <= current_memory_mb <= max_memory_mb else None
    candidates = candidate_sizes(low, high, allowed_current)
    by_size = _merge(observed)
    left = budget(request, max_memory_mb) - sum(_spent(o) for o in by_size.values())
    unit = payload_unit(request)
    if left < unit:
        return []
    if not by_size:
        # Only the cost strategy stops the first round short of the top: the balanced score is
        # normalised by the largest cost, usually the top's, and speed usually wins there.
        top = FIRST_ROUND_TOP_MB if Strategy(request.strategy) is Strategy.COST else high
        return _fit(_first_round(candidates, current_memory_mb, top), left, unit)

    strategy = Strategy(request.strategy)
    floor = _floor(by_size.values())
    fits = _fits(by_size.values())
    earlier_fit = [size for size in by_size if size not in candidates]
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
    estimates = _estimate(by_size, strategy, request.balanced_weight, top=max(request.memory_sizes))
    if not estimates:
        # Everything measured so far failed: try the next untried size above the failures.
        untried = [size for size in allowed if size not in by_size]
        if not untried:
            return []
        return _fit([SizeRequest(memory_size=untried[0], invocations=FIRST_ROUND_INVOCATIONS)], left, unit)

    best = min(estimates.values(), key=_rank)
    unmeasured = [size for size in _neighbours(allowed, best.memory_size) if size not in by_size]
    if unmeasured:
        return _fit([SizeRequest(memory_size=s, invocations=NEIGHBOUR_INVOCATIONS) for s in unmeasured], left, unit)

    sizes = [best.memory_size, *_contenders(best, estimates.values())]
    current = estimates.get(current_memory_mb)
    if (
        current is not None
        and current.memory_size not in sizes
        and _threshold_unclear(best, current, _min_improvement(request))
    ):
        # Second, before the contenders: the requests are cut from the end when the budget runs
        # short, and a wrong keep costs at least minImprovement while a contender left unsettled
        # costs about TOLERANCE.
        sizes.insert(1, current.memory_size)
    if len(sizes) == 1:
        # The best size stands apart, but after a few invocations each a size can look apart by
        # chance: the budget left goes to it and the runner-up, the one other size that can still win.
        runner_up = sorted((e for e in estimates.values() if e is not best), key=_rank)[:1]
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


def decide(
    request: TuningRequest,
    current_memory_mb: int,
    observed: Sequence[SizeObservation],
    *,
    min_improvement: float | None = None,
) -> Decision:
    """The recommendation from the final observations.

    The best usable size by the request's strategy; the projected change against the current
    size with a 90 % confidence interval (log-normal: the interval of the ratio of the two
    sizes' estimates); the current size is kept when the projected improvement is below
    ``min_improvement`` (default: the request's ``minImprovement``). Raises
    InvalidConfigurationError when no size could be used.
    """
    strategy = Strategy(request.strategy)
    threshold = _min_improvement(request) if min_improvement is None else min_improvement
    if not 0 <= threshold <= 1:
        raise ValueError(f"min_improvement must be in [0, 1], got {threshold}")
    by_size = _merge(observed)
    if not by_size:
        raise InvalidConfigurationError("no memory size was measured")
    estimates = _estimate(by_size, strategy, request.balanced_weight, top=max(request.memory_sizes))
    rows = _rows(by_size, estimates)
    spent = sum(_spent(o) for o in by_size.values())
    if not estimates:
        reasons = "; ".join(f"{row.memory_size} MB: {row.excluded}" for row in rows)
        raise InvalidConfigurationError(f"every memory size was excluded: {reasons}")

    best = min(estimates.values(), key=_rank)
    current = estimates.get(current_memory_mb)
    label = f"balanced (weight {request.balanced_weight:g})" if strategy is Strategy.BALANCED else strategy.value
    common = {
        "strategy": strategy,
        "best_memory_size": best.memory_size,
        "current_memory_size": current_memory_mb,
        "min_improvement": threshold,
        "invocations": spent,
        "sizes": rows,
    }
    if current is None:
        excluded = next((row.excluded for row in rows if row.memory_size == current_memory_mb), None)
        why = f"was excluded ({excluded})" if excluded else "was not measured"
        return Decision(
            memory_size=best.memory_size,
            keep_current=False,
            summary=f"{label}: {best.memory_size} MB; the current {current_memory_mb} MB {why}, so there is no "
            f"comparison",
            **common,
        )

    difference = best.objective - current.objective
    spread = math.hypot(best.se, current.se) if best is not current else 0.0
    change, low, high = (_pct(difference), _pct(difference - Z_90 * spread), _pct(difference + Z_90 * spread))
    cost_change = _pct(best.log_cost - current.log_cost)
    speed_change = _pct(best.log_duration - current.log_duration)
    keep = best is current or -change / 100 < threshold
    interval = f"{change:+.1f} % (90 % CI {low:+.1f} % to {high:+.1f} %)"
    if best is current:
        summary = f"{label}: the current {current_memory_mb} MB is already the best measured size"
    elif keep:
        summary = (
            f"{label}: keep the current {current_memory_mb} MB; {best.memory_size} MB would change it by "
            f"{interval}, below the minimum improvement of {threshold:.0%}"
        )
    else:
        summary = f"{label}: {best.memory_size} MB instead of {current_memory_mb} MB, {interval}"
    return Decision(
        memory_size=current_memory_mb if keep else best.memory_size,
        keep_current=keep,
        projected_change_pct=change,
        change_ci_low_pct=low,
        change_ci_high_pct=high,
        cost_change_pct=cost_change,
        speed_change_pct=speed_change,
        summary=summary,
        **common,
    )


# --------------------------------------------------------------------------------------------
# Estimates
# --------------------------------------------------------------------------------------------


class _Estimate:
    __slots__ = ("billed_ms", "duration_ms", "log_cost", "log_duration", "memory_size", "n", "objective", "se")

    def __init__(self, memory_size: int, n: int, log_duration: float, log_billed: float, se: float):
        self.memory_size = memory_size
        self.n = n
        self.log_duration = log_duration
        self.log_cost = math.log(memory_size) + log_billed
        self.duration_ms = math.exp(log_duration)
        self.billed_ms = math.exp(log_billed)
        self.se = se
        self.objective = 0.0  # log of the strategy's objective, set by _estimate


def _rank(estimate: _Estimate) -> tuple[float, int]:
    return (estimate.objective, estimate.memory_size)  # ties: the smaller size


def _merge(observed: Sequence[SizeObservation]) -> dict[int, SizeObservation]:
    """One observation per size (a size observed twice, e.g. as the current one too, is pooled)."""
    merged: dict[int, SizeObservation] = {}
    for item in observed:
        seen = merged.get(item.memory_size)
        merged[item.memory_size] = item if seen is None else seen.pooled(item)
    return merged


def _spent(observation: SizeObservation) -> int:
    return observation.invocations


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


def _location(logs: list[float]) -> float:
    # The mean of the log values without the spikes (further than SPIKE from their median): as
    # efficient as a mean when there are none, and one cold start does not move it.
    # Spikes only go up (a cold start, a noisy neighbour): of two values the smaller is the reference.
    centre = median(logs) if len(logs) > 2 else min(logs)
    kept = [value for value in logs if abs(value - centre) <= SPIKE]
    if not kept:
        # An even count split in two groups further apart than 2 * SPIKE has a median near none of
        # them: the lower group is the reference (spikes only go up).
        kept = [value for value in logs if value - min(logs) <= SPIKE]
    return sum(kept) / len(kept)


def _estimate(
    by_size: dict[int, SizeObservation], strategy: Strategy, weight: float, *, top: int
) -> dict[int, _Estimate]:
    usable = {
        size: o
        for size, o in by_size.items()
        if o.errors == 0 and o.excluded is None and o.durations_ms and len(o.billed_durations_ms) == len(o.durations_ms)
    }
    # A size that was measured without errors stays usable even if it is below a later floor
    # from Max Memory Used (it did fit); only sizes at or below a failed one are excluded.
    failed = max((o.memory_size for o in by_size.values() if o.errors), default=0)
    usable = {size: o for size, o in usable.items() if size > failed}
    residuals: list[float] = []
    located: dict[int, tuple[float, float, int]] = {}
    for size, o in usable.items():
        logs = [math.log(max(d, 0.01)) for d in o.durations_ms]
        # Ranked on the warm bill: Lambda bills Duration rounded up to the millisecond, and a cold
        # start's billed INIT (its Billed Duration less that) is paid once per environment, not per
        # invocation; a replay or an older REPORT that bills less is taken as billed.
        billed = [
            math.log(max(min(b, math.ceil(d - 1e-9)), 1.0))
            for d, b in zip(o.durations_ms, o.billed_durations_ms, strict=True)
        ]
        centre = _location(logs)
        located[size] = (centre, _location(billed), len(logs))
        residuals += [abs(value - centre) for value in logs] if len(logs) >= 3 else []
    sigma = _pooled_sigma(residuals)
    curve = None
    if strategy is Strategy.COST or (strategy is Strategy.BALANCED and weight == 1):
        curve = _fit_curve([(size, math.exp(log_duration), n) for size, (log_duration, _, n) in located.items()])
    if curve is not None and any(
        abs(math.log(curve(size)) - log_duration) > MODEL_GATE_Z * sigma / math.sqrt(n)
        for size, (log_duration, _, n) in located.items()
    ):
        curve = None  # a size far off the curve: the model does not fit this function
    estimates: dict[int, _Estimate] = {}
    for size, (log_duration, log_billed, n) in located.items():
        if curve is not None:
            # Shrink towards the fitted curve with the weight of MODEL_WEIGHT invocations. The
            # standard error stays the size's own: the intervals and the stopping rule do not
            # lean on a model that a non-monotonic curve can contradict.
            shift = (n * log_duration + MODEL_WEIGHT * math.log(curve(size))) / (n + MODEL_WEIGHT) - log_duration
            log_duration, log_billed = log_duration + shift, log_billed + shift
        estimates[size] = _Estimate(size, n, log_duration, log_billed, sigma / math.sqrt(n))
    if not estimates:
        return estimates
    if strategy is Strategy.COST or (strategy is Strategy.BALANCED and weight == 1):
        for e in estimates.values():
            e.objective = e.log_cost
    elif strategy is Strategy.SPEED or weight == 0:
        for e in estimates.values():
            e.objective = e.log_duration
    else:
        # The score is normalised over the whole range, as if every size were measured: the
        # largest cost is usually at the top, which is rarely measured; duration seldom grows
        # with memory, so the top costs at least its size times the shortest billed duration.
        shortest = min(e.billed_ms for e in estimates.values())
        max_cost = max(max(math.exp(e.log_cost) for e in estimates.values()), top * shortest)
        max_duration = max(e.duration_ms for e in estimates.values())
        for e in estimates.values():
            score = weight * math.exp(e.log_cost) / max_cost + (1 - weight) * e.duration_ms / max_duration
            e.objective = math.log(score)
    return estimates


def _fit_curve(points: list[tuple[int, float, int]]) -> Callable[[float], float] | None:
    """Parrotfish's model ``d(m) = a + b * exp(-m / c)`` fitted to (size, duration, invocations),
    or None with fewer than MODEL_MIN_SIZES sizes or no fit that stays positive.

    For each ``c`` of a log-spaced grid, ``a`` and ``b`` are the weighted (by invocations) least
    squares in duration; the ``c`` kept is the one with the least weighted squared log error."""
    if len(points) < MODEL_MIN_SIZES:
        return None
    total = sum(n for _, _, n in points)
    best: tuple[float, float, float, float] | None = None
    for step in range(_MODEL_GRID_STEPS):
        c = _MODEL_GRID_FROM_MB * 2 ** (step / 4)
        xs = [math.exp(-m / c) for m, _, _ in points]
        mean_x = sum(n * x for x, (_, _, n) in zip(xs, points, strict=True)) / total
        mean_d = sum(n * d for _, d, n in points) / total
        sxx = sum(n * (x - mean_x) ** 2 for x, (_, _, n) in zip(xs, points, strict=True))
        if sxx <= 1e-12:
            continue
        b = sum(n * (x - mean_x) * (d - mean_d) for x, (_, d, n) in zip(xs, points, strict=True)) / sxx
        a = mean_d - b * mean_x
        # Positive over the whole range, not just at the measured sizes: exp(-m / c) lies in (0, 1).
        if a <= 0 or a + b <= 0:
            continue
        error = sum(n * math.log((a + b * x) / d) ** 2 for x, (_, d, n) in zip(xs, points, strict=True))
        if best is None or error < best[0]:
            best = (error, a, b, c)
    if best is None:
        return None
    _, a, b, c = best
    return lambda m: a + b * math.exp(-m / c)


def _pooled_sigma(residuals: list[float]) -> float:
    # Residuals about a median include one zero per odd-sized group: leave those out of the MAD.
    nonzero = [r for r in residuals if r > 1e-12]
    if not nonzero:
        return PRIOR_SIGMA
    mad_sigma = 1.4826 * median(nonzero)
    k = len(nonzero)
    return math.sqrt((PRIOR_WEIGHT * PRIOR_SIGMA**2 + k * mad_sigma**2) / (PRIOR_WEIGHT + k))


def _contenders(best: _Estimate, estimates: Iterable[_Estimate]) -> list[int]:
    close = []
    for e in estimates:
        if e is best:
            continue
        gap = e.objective - best.objective
        # Worth more invocations while it may be better than the best by more than TOLERANCE:
        # between two sizes that close, a wrong choice costs less than telling them apart.
        if Z_90 * math.hypot(e.se, best.se) - gap > TOLERANCE:
            close.append((gap, e.memory_size))
    return [size for _, size in sorted(close)[:MAX_CONTENDERS]]


def _neighbours(allowed: list[int], size: int) -> list[int]:
    if size not in allowed:
        return []
    position = allowed.index(size)
    return [allowed[i] for i in (position - 1, position + 1) if 0 <= i < len(allowed)]


def _threshold_unclear(best: _Estimate, current: _Estimate, min_improvement: float) -> bool:
    # At 0 any improvement counts, at 1 none can (an objective does not fall by 100 %): no threshold to straddle.
    if best is current or not 0 < min_improvement < 1:
        return False
    limit = math.log(1 - min_improvement)  # the change that just meets the threshold
    difference = best.objective - current.objective
    half = Z_90 * math.hypot(best.se, current.se)
    return difference - half < limit < difference + half


def _min_improvement(request: TuningRequest) -> float:
    return float(request.min_improvement)


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


def _rows(by_size: dict[int, SizeObservation], estimates: dict[int, _Estimate]) -> list[SizeEstimate]:
    cheapest = min((e.log_cost for e in estimates.values()), default=0.0)
    failed = max((o.memory_size for o in by_size.values() if o.errors), default=0)
    rows = []
    for size in sorted(by_size):
        o, e = by_size[size], estimates.get(size)
        if e is not None:
            rows.append(
                SizeEstimate(
                    memory_size=size,
                    invocations=_spent(o),
                    duration_ms=e.duration_ms,
                    billed_duration_ms=e.billed_ms,
                    relative_cost=math.exp(e.log_cost - cheapest),
                )
            )
            continue
        if o.excluded is not None:
            why = o.excluded  # the measuring step's own reason (Lambda's refusal, the error types)
        elif o.errors:
            why = f"{o.errors} of {_spent(o)} invocations failed"
        elif size < failed:
            why = f"below {failed} MB, where invocations failed"
        else:
            why = "no successful invocations"
        rows.append(SizeEstimate(memory_size=size, invocations=_spent(o), excluded=why))
    return rows


def _pct(log_ratio: float) -> float:
    return (math.exp(log_ratio) - 1) * 100
