"""From measured invocations to a recommendation: statistics per memory size, the winner for a
strategy, and the sizes worth measuring in a second round.

The semantics follow AWS Lambda Power Tuning's analyzer: a trimmed mean of Duration
(``discardTopBottom``), ``cost`` = cheapest per invocation (ties: faster), ``speed`` = fastest
(ties: cheaper), ``balanced`` = minimum of ``w * cost / max_cost + (1 - w) * duration / max_duration``
with ``w`` = balancedWeight (0 = speed, 1 = cost). Differences: the cost is computed from the
REPORT's Billed Duration plus the request price, and a configuration with failed invocations
is excluded instead of ranked.
"""

from __future__ import annotations

import math
import random
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from autotuner_core import engine
from autotuner_core.errors import InvalidConfigurationError
from autotuner_core.models import (
    MAX_MEMORY_MB,
    MAX_REFINEMENT_SIZES,
    MIN_MEMORY_MB,
    ConfigurationStats,
    InvocationSample,
    Recommendation,
    Strategy,
    TargetTask,
)
from autotuner_core.planning import SizeObservation
from autotuner_core.pricing import DEFAULT_REGION, Prices, invocation_cost_usd, lambda_prices

_MEMORY_STEP_MB = 64  # proposed sizes are rounded to Lambda's traditional 64 MB steps
_HEADROOM = 1.2  # over the observed max memory used, for the cost strategy's smallest safe size


def configuration_stats(
    memory_size: int,
    samples: Sequence[InvocationSample],
    *,
    prices: Prices,
    discard_top_bottom: float,
    allowed_exceptions: Iterable[str] = (),
    current: bool = False,
) -> ConfigurationStats:
    """Summarise one memory size's invocations.

    - An invocation whose ``error`` is in ``allowed_exceptions`` counts as a normal sample; any
      other error excludes the configuration, with a reason naming the error types and counts.
      Invocations that ran at another memory size than ``memory_size`` exclude it too (the
      measurement did not measure what it says).
    - ``mean_ms`` and ``billed_mean_ms`` are trimmed means: sorted, ``floor(n * discard_top_bottom)``
      dropped from each end (``discard_top_bottom`` < 0.5 always leaves some); Billed Duration is
      sorted on its own, so a cold start's longer billed time is trimmed like any outlier.
      Percentiles (nearest rank) use every sample.
    - The cost per invocation is computed from the trimmed billed mean. We take Billed Duration as
      Lambda reports it and never add Init Duration ourselves: where the INIT phase is billed
      (container images, custom runtimes, and since August 2025 managed runtimes too) Lambda
      already includes it in Billed Duration, and where it is not, it is not in the bill either.
      Trimming usually drops the few cold starts, so the cost is the warm, steady-state one.
    - An excluded configuration still gets its statistics (they help explain the exclusion,
      e.g. max memory used at an out-of-memory size); :func:`recommend` ignores it.
    """
    if not 0 <= discard_top_bottom < 0.5:
        raise ValueError(f"discard_top_bottom must be in [0, 0.5), got {discard_top_bottom}")
    allowed = set(allowed_exceptions)
    n = len(samples)
    if n == 0:
        return ConfigurationStats(memory_size=memory_size, current=current, excluded="no invocations were measured")

    failures = Counter(s.error for s in samples if s.error is not None and s.error not in allowed)
    errors = sum(failures.values())
    excluded = None
    if errors:
        listed = ", ".join(f"{name} ({count})" if len(failures) > 1 else name for name, count in _by_count(failures))
        excluded = f"{errors} of {n} invocations failed: {listed}"
    else:
        elsewhere = [s.memory_size_mb for s in samples if s.memory_size_mb != memory_size]
        if elsewhere:
            excluded = (
                f"{len(elsewhere)} of {n} invocations ran at {_sizes(sorted(set(elsewhere)))}, not {memory_size} MB"
            )

    durations = sorted(s.duration_ms for s in samples)
    billed_mean = _trimmed_mean([s.billed_duration_ms for s in samples], discard_top_bottom)
    cold_starts = sum(1 for s in samples if s.init_duration_ms is not None)
    used = [s.max_memory_used_mb for s in samples if s.max_memory_used_mb is not None]
    cost = invocation_cost_usd(memory_size, billed_mean, prices)
    return ConfigurationStats(
        memory_size=memory_size,
        current=current,
        invocations=n,
        errors=errors,
        error_types=sorted(failures),
        cold_starts=cold_starts,
        cold_start_share=cold_starts / n,
        mean_ms=_trimmed_mean(durations, discard_top_bottom),
        p50_ms=_nearest_rank(durations, 50),
        p90_ms=_nearest_rank(durations, 90),
        p99_ms=_nearest_rank(durations, 99),
        billed_mean_ms=billed_mean,
        billed_total_ms=sum(s.billed_duration_ms for s in samples),
        max_memory_used_mb=max(used) if used else None,
        cost_per_invocation_usd=cost,
        cost_per_million_usd=cost * 1_000_000,
        excluded=excluded,
    )


def observe(
    memory_size: int,
    samples: Sequence[InvocationSample],
    *,
    allowed_exceptions: Iterable[str] = (),
) -> SizeObservation:
    """One round's invocations at one size, kept as the compact raw samples the planner reads.

    An error in ``allowed_exceptions`` counts as a successful sample; any other error is counted
    (not kept as a sample) and excludes the size, with a reason naming the error types and counts,
    as does an invocation that ran at another memory size than ``memory_size``.
    """
    allowed = set(allowed_exceptions)
    failures = Counter(s.error for s in samples if s.error is not None and s.error not in allowed)
    succeeded = [s for s in samples if s.error is None or s.error in allowed]
    excluded = None
    if failures:
        errors = sum(failures.values())
        listed = ", ".join(f"{name} ({count})" if len(failures) > 1 else name for name, count in _by_count(failures))
        excluded = f"{errors} of {len(samples)} invocations failed: {listed}"
    else:
        elsewhere = [s.memory_size_mb for s in samples if s.memory_size_mb != memory_size]
        if elsewhere:
            excluded = (
                f"{len(elsewhere)} of {len(samples)} invocations ran at {_sizes(sorted(set(elsewhere)))}, "
                f"not {memory_size} MB"
            )
    used = [s.max_memory_used_mb for s in samples if s.max_memory_used_mb is not None]
    return SizeObservation(
        memory_size=memory_size,
        durations_ms=[s.duration_ms for s in succeeded],
        billed_durations_ms=[s.billed_duration_ms for s in succeeded],
        errors=sum(failures.values()),
        errors_billed_ms=sum(s.billed_duration_ms for s in samples if s.error is not None and s.error not in allowed),
        error_types=sorted(failures),
        cold_starts=sum(1 for s in samples if s.init_duration_ms is not None),
        max_memory_used_mb=max(used) if used else None,
        excluded=excluded,
    )


def observation_stats(
    observation: SizeObservation,
    *,
    discard_top_bottom: float,
    prices: Prices | None = None,
    current: bool = False,
) -> ConfigurationStats:
    """The statistics of one size from all its rounds' samples (see :func:`configuration_stats`).

    Without ``prices`` the size is priced at us-east-1 x86_64 rates: enough to rank sizes of one
    function (every size's compute price scales alike by region and architecture).
    """
    if not 0 <= discard_top_bottom < 0.5:
        raise ValueError(f"discard_top_bottom must be in [0, 0.5), got {discard_top_bottom}")
    prices = prices or lambda_prices(DEFAULT_REGION, "x86_64")
    n = observation.invocations
    durations = sorted(observation.durations_ms)
    base = ConfigurationStats(
        memory_size=observation.memory_size,
        current=current,
        invocations=n,
        errors=observation.errors,
        error_types=observation.error_types,
        cold_starts=observation.cold_starts,
        cold_start_share=observation.cold_starts / n if n else 0.0,
        max_memory_used_mb=observation.max_memory_used_mb,
        billed_total_ms=sum(observation.billed_durations_ms) + observation.errors_billed_ms,
        excluded=observation.excluded,
    )
    if not durations:
        return base.model_copy(update={"excluded": observation.excluded or "no invocations were measured"})
    billed_mean = _trimmed_mean(observation.billed_durations_ms, discard_top_bottom)
    cost = invocation_cost_usd(observation.memory_size, billed_mean, prices)
    return base.model_copy(
        update={
            "mean_ms": _trimmed_mean(durations, discard_top_bottom),
            "p50_ms": _nearest_rank(durations, 50),
            "p90_ms": _nearest_rank(durations, 90),
            "p99_ms": _nearest_rank(durations, 99),
            "billed_mean_ms": billed_mean,
            "cost_per_invocation_usd": cost,
            "cost_per_million_usd": cost * 1_000_000,
        }
    )


def recommend(
    stats: Sequence[ConfigurationStats],
    *,
    strategy: Strategy | str,
    balanced_weight: float = 0.5,
    current_memory: int,
    min_improvement: float = 0.0,
    observations: Mapping[int, SizeObservation] | None = None,
    discard_top_bottom: float = 0.0,
    prices: Prices | None = None,
) -> Recommendation:
    """The best measured configuration for ``strategy``, compared with the current one.

    Excluded configurations are ignored. The current configuration is the one measured at
    ``current_memory`` (the entry marked ``current`` if there are two); when it was not measured
    or was excluded, the comparison fields are None and the summary says so. Remaining ties go to the
    smaller memory size. Raises InvalidConfigurationError when every configuration is excluded.

    With ``observations`` (the raw samples per size) the recommendation carries 95 % confidence
    intervals on the cost and speed changes (:func:`change_interval`). When the projected
    improvement for the strategy (cost: the cost change; speed: the speed change; balanced: the
    two weighted by ``balanced_weight``) is below ``min_improvement`` (a fraction), the current
    size is kept: ``memory_size`` is the current one, ``kept_current`` is set and the measured
    best is ``best_memory_size``, with the changes it would have brought.
    """
    strategy = Strategy(strategy)
    if not 0 <= balanced_weight <= 1:
        raise ValueError(f"balanced_weight must be in [0, 1], got {balanced_weight}")
    winner = _pick(_measured(stats), strategy, balanced_weight)
    baseline = _baseline(stats, current_memory)

    speed_change = cost_change = per_million = None
    if baseline is not None:
        speed_change = _change_pct(winner.mean_ms, baseline.mean_ms)
        cost_change = _change_pct(winner.cost_per_invocation_usd, baseline.cost_per_invocation_usd)
        per_million = (winner.cost_per_invocation_usd - baseline.cost_per_invocation_usd) * 1_000_000

    cost_interval = speed_interval = None
    if baseline is not None and observations is not None and winner.memory_size != baseline.memory_size:
        best, now = observations.get(winner.memory_size), observations.get(baseline.memory_size)
        if best is not None and now is not None:
            cost_interval, speed_interval = change_interval(
                best, now, discard_top_bottom=discard_top_bottom, prices=prices
            )

    label = f"balanced (weight {balanced_weight:g})" if strategy is Strategy.BALANCED else strategy.value
    summary = f"{label}: " + _summary(winner, baseline, current_memory, stats, speed_change, cost_change, per_million)
    if cost_interval and speed_interval:
        summary += f" (95% interval: cost {_interval_words(cost_interval)}, duration {_interval_words(speed_interval)})"
    improvement = _improvement(strategy, balanced_weight, cost_change, speed_change)
    if baseline is not None and winner.memory_size != baseline.memory_size and improvement < min_improvement:
        summary = (
            f"{label}: keep the current {baseline.memory_size} MB: the best measured, {winner.memory_size} MB, "
            f"improves by {improvement * 100:.1f}%, below minImprovement {min_improvement * 100:g}%"
            + (
                f" (95% interval: cost {_interval_words(cost_interval)}, duration {_interval_words(speed_interval)})"
                if cost_interval and speed_interval
                else ""
            )
        )
        return Recommendation(
            strategy=strategy,
            balanced_weight=balanced_weight if strategy is Strategy.BALANCED else None,
            memory_size=baseline.memory_size,
            current_memory_size=current_memory,
            mean_ms=baseline.mean_ms,
            cost_per_invocation_usd=baseline.cost_per_invocation_usd,
            current_mean_ms=baseline.mean_ms,
            current_cost_per_invocation_usd=baseline.cost_per_invocation_usd,
            speed_change_pct=speed_change,
            cost_change_pct=cost_change,
            projected_change_per_million_usd=0.0,  # nothing changes
            cost_change_interval_pct=cost_interval,
            speed_change_interval_pct=speed_interval,
            confidence=CONFIDENCE if cost_interval else None,
            kept_current=True,
            best_memory_size=winner.memory_size,
            min_improvement=min_improvement,
            summary=summary,
        )
    return Recommendation(
        strategy=strategy,
        balanced_weight=balanced_weight if strategy is Strategy.BALANCED else None,
        memory_size=winner.memory_size,
        current_memory_size=current_memory,
        mean_ms=winner.mean_ms,
        cost_per_invocation_usd=winner.cost_per_invocation_usd,
        current_mean_ms=baseline.mean_ms if baseline else None,
        current_cost_per_invocation_usd=baseline.cost_per_invocation_usd if baseline else None,
        speed_change_pct=speed_change,
        cost_change_pct=cost_change,
        projected_change_per_million_usd=per_million,
        cost_change_interval_pct=cost_interval,
        speed_change_interval_pct=speed_interval,
        confidence=CONFIDENCE if cost_interval else None,
        min_improvement=min_improvement,
        summary=summary,
    )


CONFIDENCE = 0.95
_BOOTSTRAP_RESAMPLES = 1000


def change_interval(
    best: SizeObservation, current: SizeObservation, *, discard_top_bottom: float, prices: Prices | None = None
) -> tuple[list[float], list[float]]:
    """95 % confidence intervals, in percent, on the cost and duration change from ``current`` to ``best``.

    A percentile bootstrap: both sizes' samples are resampled with replacement, 1,000 times,
    and the change is computed on each resample exactly as the decision computes it (the ratio
    of trimmed means of Billed Duration times memory for cost, of Duration for speed), so the
    interval describes the statistic that was used, trimming and the request price included
    (``prices``; default us-east-1 x86_64). A t-interval would need the trimmed mean's variance
    and assumes the ratio is near normal; with 10 skewed samples a size (a cold start, GC pauses)
    neither holds. The random generator is seeded from the samples, so the same measurements
    give the same interval.
    """
    prices = prices or lambda_prices(DEFAULT_REGION, "x86_64")
    seed = zlib.crc32(repr((best.durations_ms, current.durations_ms)).encode())
    rng = random.Random(seed)
    cost_ratios, speed_ratios = [], []
    for _ in range(_BOOTSTRAP_RESAMPLES):
        b = rng.choices(range(len(best.durations_ms)), k=len(best.durations_ms))
        c = rng.choices(range(len(current.durations_ms)), k=len(current.durations_ms))
        best_billed = _trimmed_mean([best.billed_durations_ms[i] for i in b], discard_top_bottom)
        now_billed = _trimmed_mean([current.billed_durations_ms[i] for i in c], discard_top_bottom)
        now_ms = _trimmed_mean([current.durations_ms[i] for i in c], discard_top_bottom)
        if now_ms > 0:
            best_cost = invocation_cost_usd(best.memory_size, best_billed, prices)
            cost_ratios.append(best_cost / invocation_cost_usd(current.memory_size, now_billed, prices))
            speed_ratios.append(_trimmed_mean([best.durations_ms[i] for i in b], discard_top_bottom) / now_ms)
    return _percentiles(cost_ratios), _percentiles(speed_ratios)


def _percentiles(ratios: list[float]) -> list[float]:
    ordered = sorted(ratios)
    tail = (1 - CONFIDENCE) / 2
    low = ordered[int(tail * (len(ordered) - 1))]
    high = ordered[math.ceil((1 - tail) * (len(ordered) - 1))]
    return [round((low - 1) * 100, 2), round((high - 1) * 100, 2)]


def _improvement(strategy: Strategy, weight: float, cost_change: float | None, speed_change: float | None) -> float:
    """The strategy's projected improvement as a fraction (0.1: 10 % better); infinite without a comparison."""
    if cost_change is None or speed_change is None:
        return math.inf  # nothing to compare with: the measured best stands, as before
    if strategy is Strategy.COST:
        change = cost_change
    elif strategy is Strategy.SPEED:
        change = speed_change
    else:
        change = weight * cost_change + (1 - weight) * speed_change
    return -change / 100


def _interval_words(interval: list[float] | None) -> str:
    if not interval:
        return "?"
    return f"{interval[0]:+.1f}% to {interval[1]:+.1f}%"


def refinement_sizes(
    stats: Sequence[ConfigurationStats],
    *,
    strategy: Strategy | str,
    balanced_weight: float = 0.5,
    limit: int = MAX_REFINEMENT_SIZES,
) -> list[int]:
    """Up to ``limit`` memory sizes worth measuring in a second round, most promising first.

    A fixed grid (Power Tuning's 128, 256, 512, 1024, 1536, 3008) leaves gaps of up to 100 %
    between neighbours, and the true optimum of a smooth cost or duration curve lies between
    the winner and one of its measured neighbours. So:

    1. For ``cost``, the smallest size with headroom over what the winner used:
       ``max(128, ceil(max_used * 1.2 / 64) * 64)``, if it lies between the winner and the next
       measured size below it. A function that is not CPU-bound costs about the same per
       GB-second at any size, so the cheapest size is the smallest that fits it in memory; the
       20 % margin keeps it clear of out-of-memory errors (which would exclude it anyway).
    2. The midpoints between the winner and its measured neighbours below and above (rounded to
       64 MB where that stays strictly between them). The lower side comes first for ``cost`` and
       ``balanced`` (smaller is cheaper when duration barely changes), the upper side first for
       ``speed``. A gap narrower than 5 % of the lower size (or 32 MB) is not split: the
       difference it could make is within the measurement noise.

    Excluded sizes count as measured neighbours (below one that ran out of memory there is
    nothing to find). Nothing already measured and nothing outside 128-10,240 MB is proposed; no
    measured configuration, no proposals. Nothing beyond the measured range is proposed either:
    sizes above the largest may exceed the account's memory quota.
    """
    strategy = Strategy(strategy)
    candidates = _usable(stats)
    if not candidates or limit <= 0:
        return []
    winner = _pick(candidates, strategy, balanced_weight)
    measured = sorted({s.memory_size for s in stats})
    below = [m for m in measured if m < winner.memory_size]
    above = [m for m in measured if m > winner.memory_size]
    lower = _midpoint(below[-1], winner.memory_size) if below else None
    upper = _midpoint(winner.memory_size, above[0]) if above else None

    proposals: list[int | None] = []
    if strategy is Strategy.COST and winner.max_memory_used_mb is not None:
        fits = max(MIN_MEMORY_MB, math.ceil(winner.max_memory_used_mb * _HEADROOM / _MEMORY_STEP_MB) * _MEMORY_STEP_MB)
        if fits < winner.memory_size and (not below or fits > below[-1]):
            proposals.append(fits)
    proposals += [upper, lower] if strategy is Strategy.SPEED else [lower, upper]

    sizes: list[int] = []
    for size in proposals:
        if size is not None and size not in measured and size not in sizes and MIN_MEMORY_MB <= size <= MAX_MEMORY_MB:
            sizes.append(size)
    return sizes[:limit]


def choose(task: TargetTask) -> tuple[list[ConfigurationStats], Recommendation, list[int]]:
    """The decision of a measured target: its statistics per size, the recommendation, and the
    sizes measured after the first round. Reads the task's observations only."""
    request, configuration = task.request, task.target.configuration
    current = configuration.memory_size
    prices = lambda_prices(task.target.ref.arn.split(":")[3], (configuration.architectures or ["x86_64"])[0])
    observations = task.observations or []
    stats = [
        observation_stats(
            item, discard_top_bottom=request.discard_top_bottom, prices=prices, current=item.memory_size == current
        )
        for item in observations
    ]
    recommendation = recommend(
        stats,
        strategy=request.strategy,
        balanced_weight=request.balanced_weight,
        current_memory=current,
        min_improvement=request.min_improvement,
        observations={item.memory_size: item for item in observations},
        discard_top_bottom=request.discard_top_bottom,
        prices=prices,
    )
    # The engine's first round depends on the request and the current size only.
    first = {item.memory_size for item in engine.next_round(request, current, [], max_memory_mb=MAX_MEMORY_MB)}
    return stats, recommendation, [item.memory_size for item in observations if item.memory_size not in first]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _trimmed_mean(values: Sequence[float], discard: float) -> float:
    ordered = sorted(values)
    n = len(ordered)
    # discard < 0.5 (checked by the caller) keeps 2 * floor(n * discard) < n: something is left.
    drop = math.floor(n * discard)
    kept = ordered[drop : n - drop]
    return sum(kept) / len(kept)


def _nearest_rank(ordered: Sequence[float], percentile: float) -> float:
    rank = max(1, math.ceil(percentile / 100 * len(ordered)))
    return ordered[rank - 1]


def _usable(stats: Sequence[ConfigurationStats]) -> list[ConfigurationStats]:
    return [s for s in stats if s.excluded is None and s.mean_ms is not None and s.cost_per_invocation_usd is not None]


def _measured(stats: Sequence[ConfigurationStats]) -> list[ConfigurationStats]:
    measured = _usable(stats)
    if not measured:
        if not stats:
            raise InvalidConfigurationError("no memory size was measured")
        reasons = "; ".join(f"{s.memory_size} MB: {s.excluded or 'no measurements'}" for s in stats)
        raise InvalidConfigurationError(f"every memory size was excluded: {reasons}")
    return measured


# Costs within 1 % of the cheapest are a tie for the cost strategy: measured cost curves are often
# flat, and a difference that small is noise (benchmarks/tuning.py measured it deciding by noise).
COST_TIE_TOLERANCE = 0.01


def _pick(candidates: Sequence[ConfigurationStats], strategy: Strategy, weight: float) -> ConfigurationStats:
    """The winner among usable configurations (cost and mean present); ties go to the smaller size.

    For ``cost``, every size within ``COST_TIE_TOLERANCE`` of the cheapest counts as cheapest,
    and the smallest of them wins.
    """
    rows = [(s, s.cost_per_invocation_usd or 0.0, s.mean_ms or 0.0) for s in candidates]
    if strategy is Strategy.BALANCED and weight == 1:
        strategy = Strategy.COST  # weight 1 is the cost strategy, tie rule included
    if strategy is Strategy.COST:
        cheapest = min(cost for _, cost, _ in rows)
        return min(
            (row for row in rows if row[1] <= cheapest * (1 + COST_TIE_TOLERANCE)), key=lambda row: row[0].memory_size
        )[0]
    max_cost = max(cost for _, cost, _ in rows) or 1.0
    max_duration = max(duration for _, _, duration in rows) or 1.0

    def key(row: tuple[ConfigurationStats, float, float]) -> tuple[float, float, int]:
        stats, cost, duration = row
        if strategy is Strategy.COST:
            return (_tie(cost), _tie(duration), stats.memory_size)
        if strategy is Strategy.SPEED:
            return (_tie(duration), _tie(cost), stats.memory_size)
        cost, duration = cost / max_cost, duration / max_duration
        # The tie-break mirrors the weight, so weight 0 is exactly speed (ties: cheaper) and
        # weight 1 exactly cost (ties: faster).
        return (
            _tie(weight * cost + (1 - weight) * duration),
            _tie((1 - weight) * cost + weight * duration),
            stats.memory_size,
        )

    return min(rows, key=key)[0]


def _tie(value: float) -> float:
    # Nine significant digits: values that differ only by float rounding compare as ties.
    return float(f"{value:.9g}")


def _baseline(stats: Sequence[ConfigurationStats], current_memory: int) -> ConfigurationStats | None:
    # Measured at the current memory size; the entry marked current first (the baseline run),
    # in case the same size was also measured as a candidate.
    usable = [s for s in _usable(stats) if s.memory_size == current_memory]
    return next((s for s in usable if s.current), usable[0] if usable else None)


def _summary(
    winner: ConfigurationStats,
    baseline: ConfigurationStats | None,
    current_memory: int,
    stats: Sequence[ConfigurationStats],
    speed_change: float | None,
    cost_change: float | None,
    per_million: float | None,
) -> str:
    if baseline is None:
        excluded = next((s.excluded for s in stats if s.memory_size == current_memory and s.excluded), None)
        why = f"was excluded ({excluded})" if excluded else "was not measured"
        return (
            f"{winner.memory_size} MB ({winner.mean_ms:.1f} ms, {_usd(winner.cost_per_million_usd)} per million "
            f"invocations); the current {current_memory} MB {why}, so there is no comparison"
        )
    if winner.memory_size == baseline.memory_size:
        return (
            f"the current {baseline.memory_size} MB is already the best "
            f"({winner.mean_ms:.1f} ms, {_usd(winner.cost_per_million_usd)} per million invocations)"
        )
    cost, speed = _cost_words(cost_change), _speed_words(speed_change)
    current = f"the current {baseline.memory_size} MB"
    if cost and speed:
        comparison = f"is {cost} and {speed} than {current}"
    elif cost:
        comparison = f"is {cost} than {current} at about the same speed"
    elif speed:
        comparison = f"is {speed} than {current} at about the same cost"
    else:
        comparison = f"performs about the same as {current}"
    return f"{winner.memory_size} MB {comparison}; {_signed_usd(per_million)} per million invocations"


def _change_pct(new: float | None, old: float | None) -> float | None:
    if new is None or old is None or old == 0:
        return None
    return (new - old) / old * 100


def _by_count(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def _sizes(sizes: Sequence[int]) -> str:
    return " and ".join(f"{size} MB" for size in sizes)


def _midpoint(low: int, high: int) -> int | None:
    if high - low < max(32, 0.05 * low):
        return None
    middle = (low + high) // 2
    rounded = round(middle / _MEMORY_STEP_MB) * _MEMORY_STEP_MB
    return rounded if low < rounded < high else middle


def _cost_words(pct: float | None) -> str | None:
    if pct is None or round(pct) == 0:
        return None
    return f"{abs(pct):.0f}% cheaper" if pct < 0 else f"{pct:.0f}% more expensive"


def _speed_words(pct: float | None) -> str | None:
    if pct is None or round(pct) == 0:
        return None
    return f"{abs(pct):.0f}% faster" if pct < 0 else f"{pct:.0f}% slower"


def _usd(amount: float | None) -> str:
    if amount is None:
        return "$?"
    # Per-million amounts can be fractions of a cent: keep two significant digits there.
    return f"${amount:.2f}" if abs(amount) >= 0.01 or amount == 0 else f"${amount:.2g}"


def _signed_usd(amount: float | None) -> str:
    if amount is None:
        return "$?"
    sign = "\u2212" if amount < 0 else "+"
    return sign + _usd(abs(amount))
