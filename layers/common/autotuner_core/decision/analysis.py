"""From measured invocations to a recommendation: statistics per memory size and the decision.

The table per size follows AWS Lambda Power Tuning's analyzer: a trimmed mean of Duration
(``discardTopBottom``), percentiles, and the cost from the REPORT's Billed Duration plus the
request price; a configuration with failed invocations is excluded. The decision (which size,
keep the current one or not, the interval on the projected change) is engine v2's
(:func:`autotuner_core.decision.statistics.decide`): one analysis decides, the table only describes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from autotuner_core.aws.arns import parse_arn
from autotuner_core.cost.prices import DEFAULT_REGION, Prices, invocation_cost_usd, lambda_prices
from autotuner_core.decision.constraints import Production
from autotuner_core.decision.statistics import Decision, SizeEstimate, decide
from autotuner_core.documents.request import Strategy
from autotuner_core.documents.target import ConfigurationStats, InvocationSample, Recommendation, SizeObservation
from autotuner_core.documents.task import MeasuringTask
from autotuner_core.policy.errors import InvalidConfigurationError


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
        measured_usd=_measured_usd(memory_size, sum(s.billed_duration_ms for s in samples), n, prices),
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
    billed_total_ms = sum(observation.billed_durations_ms) + observation.errors_billed_ms
    measured = bool(durations)
    billed_mean = _trimmed_mean(observation.billed_durations_ms, discard_top_bottom) if measured else None
    cost = invocation_cost_usd(observation.memory_size, billed_mean, prices) if billed_mean is not None else None
    return ConfigurationStats(
        memory_size=observation.memory_size,
        current=current,
        invocations=n,
        errors=observation.errors,
        error_types=observation.error_types,
        cold_starts=observation.cold_starts,
        cold_start_share=observation.cold_starts / n if n else 0.0,
        max_memory_used_mb=observation.max_memory_used_mb,
        billed_total_ms=billed_total_ms,
        excluded=observation.excluded if measured else observation.excluded or "no invocations were measured",
        measured_usd=_measured_usd(observation.memory_size, billed_total_ms, n, prices) if measured else None,
        mean_ms=_trimmed_mean(durations, discard_top_bottom) if measured else None,
        p50_ms=_nearest_rank(durations, 50) if measured else None,
        p90_ms=_nearest_rank(durations, 90) if measured else None,
        p99_ms=_nearest_rank(durations, 99) if measured else None,
        billed_mean_ms=billed_mean,
        cost_per_invocation_usd=cost,
        cost_per_million_usd=cost * 1_000_000 if cost is not None else None,
    )


def _measured_usd(memory_mb: int, billed_total_ms: float, invocations: int, prices: Prices) -> float:
    """Every measured invocation at its own Billed Duration, and its request (invocations >= 1)."""
    # Linear in the billed time: n invocations at their mean bill what each did.
    return invocation_cost_usd(memory_mb, billed_total_ms / invocations, prices) * invocations


def choose(
    task: MeasuringTask, production: Production | None = None
) -> tuple[list[ConfigurationStats], Recommendation, list[int]]:
    """The decision of a measured target: its statistics per size, the recommendation, and the
    sizes measured after the first round. Reads the task's observations only.

    The decision is engine v2's (:func:`autotuner_core.decision.statistics.decide`, the one the
    real-curve benchmark scores); the statistics per size are the table shown beside it. A size the
    engine cannot rank (below a size whose invocations failed) is marked excluded in the table too.
    The sizes measured after the first round are those the measuring loop noted as it planned
    (``refined_sizes``). ``production``: what telemetry knows of the current size, for the
    request's constraints (nothing reads it yet; see decision/constraints.py). Raises
    InvalidConfigurationError when no size could be used, or none meets the constraints and the
    current size has no measurement to keep.
    """
    request, configuration = task.request, task.target.configuration
    current = configuration.memory_size
    prices = lambda_prices(parse_arn(task.target.ref.arn).region, (configuration.architectures or ["x86_64"])[0])
    observations = task.observations
    decision = decide(request, current, observations, production=production)
    unranked = {row.memory_size: row.excluded for row in decision.sizes if row.excluded is not None}
    stats = []
    for item in observations:
        row = observation_stats(
            item, discard_top_bottom=request.discard_top_bottom, prices=prices, current=item.memory_size == current
        )
        if row.excluded is None and item.memory_size in unranked:
            row = row.unranked(unranked[item.memory_size])
        stats.append(row)
    recommendation = recommendation_from(decision, balanced_weight=request.balanced_weight, prices=prices)
    refined = set(task.refined_sizes or [])
    return stats, recommendation, [item.memory_size for item in observations if item.memory_size in refined]


def recommendation_from(decision: Decision, *, balanced_weight: float, prices: Prices) -> Recommendation:
    """The Recommendation document of an engine decision, priced with ``prices``.

    Durations and costs are the engine's estimates (spikes left out; for cost, pooled with the
    fitted curve), so the figures are those the decision was made on. One interval: the engine's
    90 % interval on the strategy's projected change. Below ``minImprovement`` the current size
    is kept and nothing changes (``projected_change_per_million_usd`` 0); the changes are the
    best measured size's.
    """
    rows = {row.memory_size: row for row in decision.sizes}

    def ranked(size: int) -> SizeEstimate | None:
        row = rows.get(size)
        return row if row is not None and row.duration_ms is not None and row.billed_duration_ms is not None else None

    def cost(row: SizeEstimate) -> float:
        return invocation_cost_usd(row.memory_size, row.billed_duration_ms or 0.0, prices)

    best, now = ranked(decision.best_memory_size), ranked(decision.current_memory_size)
    if best is None:  # decide() never chooses a size it could not rank
        raise InvalidConfigurationError(f"the engine chose {decision.best_memory_size} MB without an estimate")
    kept = decision.keep_current and decision.best_memory_size != decision.current_memory_size
    chosen = now if kept and now is not None else best
    per_million = None
    if now is not None:
        per_million = 0.0 if kept else (cost(best) - cost(now)) * 1_000_000
    interval = (
        [round(decision.change_ci_low_pct, 2), round(decision.change_ci_high_pct, 2)]
        if decision.change_ci_low_pct is not None and decision.change_ci_high_pct is not None
        else None
    )
    summary = decision.summary.removesuffix(decision.constraints_note)
    if now is not None and best is not now:
        words = [w for w in (_cost_words(decision.cost_change_pct), _speed_words(decision.speed_change_pct)) if w]
        summary += f"; {' and '.join(words) or 'about the same cost and speed'}"
        summary += f", {_signed_usd((cost(best) - cost(now)) * 1_000_000)} per million invocations"
    else:
        summary += f" ({chosen.duration_ms:.1f} ms, {_usd(cost(chosen) * 1_000_000)} per million invocations)"
    summary += decision.constraints_note
    strategy = Strategy(decision.strategy)
    return Recommendation(
        strategy=strategy,
        balanced_weight=balanced_weight if strategy is Strategy.BALANCED else None,
        memory_size=decision.memory_size,
        current_memory_size=decision.current_memory_size,
        mean_ms=chosen.duration_ms or 0.0,
        cost_per_invocation_usd=cost(chosen),
        current_mean_ms=now.duration_ms if now else None,
        current_cost_per_invocation_usd=cost(now) if now else None,
        speed_change_pct=decision.speed_change_pct,
        cost_change_pct=decision.cost_change_pct,
        projected_change_per_million_usd=per_million,
        projected_change_pct=decision.projected_change_pct,
        change_interval_pct=interval,
        confidence=decision.confidence if interval else None,
        kept_current=kept,
        best_memory_size=decision.best_memory_size,
        min_improvement=decision.min_improvement,
        summary=summary,
    )


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


def _by_count(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def _sizes(sizes: Sequence[int]) -> str:
    return " and ".join(f"{size} MB" for size in sizes)


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
