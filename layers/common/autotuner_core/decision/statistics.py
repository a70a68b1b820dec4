"""The engine's estimates per size and the decision made on them (:func:`decide`).

Each usable size gets a location without spikes, one pooled spread and, for cost, Parrotfish's
curve; :func:`decide` picks the best size by the strategy's objective, with a 90 % confidence
interval on the change against the current size, and keeps the current size below
``minImprovement``. The engine (:mod:`autotuner_core.decision.engine`) plans rounds on the same
estimates.

Estimates are in log space: Lambda's noise is multiplicative. A size's location is the mean of
its log durations without spikes (more than 1.5x from their median; of two values, from the
smaller: spikes only go up), so a cold start's spike does not move it. The spread is one sigma
pooled over all sizes (a robust MAD estimate) shrunk towards 12 % (the median residual of
published Power Tuning curves) with the weight of 8 invocations, so three invocations do not
make a size look certain. Cost is ranked on the warm bill: each Duration rounded up to the
millisecond (at least 1 ms), as Lambda bills a warm invocation; a cold start's billed INIT is
paid once per execution environment, not per invocation, so it does not rank sizes.

For the cost strategy, with four sizes or more, each size's estimate is pooled with Parrotfish's
model ``d(m) = a + b * exp(-m / c)`` fitted over all of them (the curve counts as two
invocations), unless a size lies far off the fitted curve; standard errors stay each size's own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from statistics import median

from pydantic import Field

from autotuner_core.decision import constraints
from autotuner_core.documents.base import Document
from autotuner_core.documents.request import Strategy, TuningRequest
from autotuner_core.documents.target import SizeObservation
from autotuner_core.policy.errors import InvalidConfigurationError

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
SPIKE = math.log(1.5)  # a log distance from the median beyond which a value is a spike, not noise
Z_90 = 1.6449  # two-sided 90 %
TOLERANCE = 0.04  # a possible loss below this is not worth more invocations
MAX_CONTENDERS = 2


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
    # The end of the summary that is about constraints (sizes they kept from being chosen, what the
    # current size breaks itself): "" without; recommendation_from puts it after the figures.
    constraints_note: str = ""


class Estimate:
    """One usable size's estimates, in log space; ``objective`` is the strategy's, lower is better."""

    __slots__ = ("billed_ms", "duration_ms", "log_cost", "log_duration", "memory_size", "n", "objective", "se")

    def __init__(self, memory_size: int, n: int, log_duration: float, log_billed: float, se: float):
        self.memory_size = memory_size
        self.n = n
        self.log_duration = log_duration
        self.log_cost = math.log(memory_size) + log_billed
        self.duration_ms = math.exp(log_duration)
        self.billed_ms = math.exp(log_billed)
        self.se = se
        self.objective = 0.0  # log of the strategy's objective, set by estimate


def rank(estimate: Estimate) -> tuple[float, int]:
    return (estimate.objective, estimate.memory_size)  # ties: the smaller size


def decide(
    request: TuningRequest,
    current_memory_mb: int,
    observed: Sequence[SizeObservation],
    *,
    min_improvement: float | None = None,
    production: constraints.Production | None = None,
) -> Decision:
    """The recommendation from the final observations.

    The best usable size by the request's strategy; the projected change against the current
    size with a 90 % confidence interval (log-normal: the interval of the ratio of the two
    sizes' estimates); the current size is kept when the projected improvement is below
    ``min_improvement`` (default: the request's ``minImprovement``). A size that breaks one of the
    request's constraints (:mod:`autotuner_core.decision.constraints`; ``production``: what telemetry
    knows of the current size) is not chosen, and its row says why; with no other size left the
    current one is kept. Raises InvalidConfigurationError when no size could be used.
    """
    strategy = Strategy(request.strategy)
    threshold = request.min_improvement if min_improvement is None else min_improvement
    if not 0 <= threshold <= 1:
        raise ValueError(f"min_improvement must be in [0, 1], got {threshold}")
    measured = by_size(observed)
    if not measured:
        raise InvalidConfigurationError("no memory size was measured")
    estimates = estimate(measured, strategy, request.balanced_weight, top=max(request.memory_sizes))
    durations = {size: e.duration_ms for size, e in estimates.items()}
    blocked = constraints.violations(request, current_memory_mb, measured, durations, production)
    sizes = rows(measured, estimates, blocked)
    spent = sum(o.invocations for o in measured.values())
    allowed = [e for size, e in estimates.items() if size not in blocked]
    if not allowed:
        reasons = "; ".join(f"{row.memory_size} MB: {row.excluded}" for row in sizes)
        what = "every memory size was excluded" if not estimates else "no measured size meets the constraints"
        raise InvalidConfigurationError(f"{what}: {reasons}")

    best = min(allowed, key=rank)
    current = estimates.get(current_memory_mb)
    better = [e.memory_size for e in estimates.values() if e.memory_size in blocked and rank(e) < rank(best)]
    note = constraints.summary_note(
        blocked, better, constraints.current_notes(request, current_memory_mb, measured, production), current_memory_mb
    )
    note = f"; {note}" if note else ""
    label = f"balanced (weight {request.balanced_weight:g})" if strategy is Strategy.BALANCED else strategy.value
    common = {
        "strategy": strategy,
        "best_memory_size": best.memory_size,
        "current_memory_size": current_memory_mb,
        "min_improvement": threshold,
        "invocations": spent,
        "sizes": sizes,
        "constraints_note": note,
    }
    if current is None:
        excluded = next((row.excluded for row in sizes if row.memory_size == current_memory_mb), None)
        why = f"was excluded ({excluded})" if excluded else "was not measured"
        return Decision(
            memory_size=best.memory_size,
            keep_current=False,
            summary=f"{label}: {best.memory_size} MB; the current {current_memory_mb} MB {why}, so there is no "
            f"comparison{note}",
            **common,
        )

    difference = best.objective - current.objective
    spread = math.hypot(best.se, current.se) if best is not current else 0.0
    change, low, high = (_pct(difference), _pct(difference - Z_90 * spread), _pct(difference + Z_90 * spread))
    cost_change = _pct(best.log_cost - current.log_cost)
    speed_change = _pct(best.log_duration - current.log_duration)
    keep = best is current or -change / 100 < threshold
    interval = f"{change:+.1f} % (90 % CI {low:+.1f} % to {high:+.1f} %)"
    if best is current and better:
        summary = f"{label}: keep the current {current_memory_mb} MB: every size that ranks better breaks a constraint"
    elif best is current:
        summary = f"{label}: the current {current_memory_mb} MB is already the best measured size"
    elif keep:
        summary = (
            f"{label}: keep the current {current_memory_mb} MB; {best.memory_size} MB would change it by "
            f"{interval}, below the minimum improvement of {threshold:.0%}"
        )
    else:
        summary = f"{label}: {best.memory_size} MB instead of {current_memory_mb} MB, {interval}"
    summary += note
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


def by_size(observed: Sequence[SizeObservation]) -> dict[int, SizeObservation]:
    """One observation per size (a size observed twice, e.g. as the current one too, is pooled)."""
    merged: dict[int, SizeObservation] = {}
    for item in observed:
        seen = merged.get(item.memory_size)
        merged[item.memory_size] = item if seen is None else seen.pooled(item)
    return merged


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


def estimate(
    observed: dict[int, SizeObservation], strategy: Strategy, weight: float, *, top: int
) -> dict[int, Estimate]:
    """Each usable size's estimate (no errors, not excluded, above every failed size), by size."""
    usable = {
        size: o
        for size, o in observed.items()
        if o.errors == 0 and o.excluded is None and o.durations_ms and len(o.billed_durations_ms) == len(o.durations_ms)
    }
    # A size that was measured without errors stays usable even if it is below a later floor
    # from Max Memory Used (it did fit); only sizes at or below a failed one are excluded.
    failed = max((o.memory_size for o in observed.values() if o.errors), default=0)
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
    estimates: dict[int, Estimate] = {}
    for size, (log_duration, log_billed, n) in located.items():
        if curve is not None:
            # Shrink towards the fitted curve with the weight of MODEL_WEIGHT invocations. The
            # standard error stays the size's own: the intervals and the stopping rule do not
            # lean on a model that a non-monotonic curve can contradict.
            shift = (n * log_duration + MODEL_WEIGHT * math.log(curve(size))) / (n + MODEL_WEIGHT) - log_duration
            log_duration, log_billed = log_duration + shift, log_billed + shift
        estimates[size] = Estimate(size, n, log_duration, log_billed, sigma / math.sqrt(n))
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


def rows(
    observed: dict[int, SizeObservation], estimates: dict[int, Estimate], blocked: dict[int, str] | None = None
) -> list[SizeEstimate]:
    """A row per observed size: its estimates, or why it cannot be ranked; a size a constraint
    keeps from being chosen (``blocked``) has both, its estimates and the constraint's reason."""
    cheapest = min((e.log_cost for e in estimates.values()), default=0.0)
    failed = max((o.memory_size for o in observed.values() if o.errors), default=0)
    rows = []
    for size in sorted(observed):
        o, e = observed[size], estimates.get(size)
        if e is not None:
            rows.append(
                SizeEstimate(
                    memory_size=size,
                    invocations=o.invocations,
                    duration_ms=e.duration_ms,
                    billed_duration_ms=e.billed_ms,
                    relative_cost=math.exp(e.log_cost - cheapest),
                    excluded=(blocked or {}).get(size),
                )
            )
            continue
        if o.excluded is not None:
            why = o.excluded  # the measuring step's own reason (Lambda's refusal, the error types)
        elif o.errors:
            why = f"{o.errors} of {o.invocations} invocations failed"
        elif size < failed:
            why = f"below {failed} MB, where invocations failed"
        else:
            why = "no successful invocations"
        rows.append(SizeEstimate(memory_size=size, invocations=o.invocations, excluded=why))
    return rows


def contenders(best: Estimate, estimates: Iterable[Estimate]) -> list[int]:
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


def _pct(log_ratio: float) -> float:
    return (math.exp(log_ratio) - 1) * 100
