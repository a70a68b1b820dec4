"""The finding drawn from a target's production telemetry: what size, why, at what risk, for what money.

The rules (docs/telemetry.md, "Findings"):

- No REPORT line and no invocation counted: INSUFFICIENT_DATA, with the reason.
- Out-of-memory kills, timeouts, or Max Memory Used within 10 % of the size: MEMORY_UNDERPROVISIONED.
- Several sizes in the window (a deploy or a tuning changed it): the logs hold a measured curve.
  The cheapest size that ran cleanly and leaves the memory headroom wins.
- One size only: memory needed is known (Max Memory Used x headroom), how duration depends on memory
  is not. Telemetry then recommends at most halving the size: at worst (CPU-bound) the function runs
  twice as long for about the same money; at best (waiting on I/O) it costs half. Where twice the
  p99 duration would come near the timeout, or above 1,769 MB (extra vCPUs that a multi-threaded
  function may use), only measuring can say: NEEDS_MEASUREMENT.

Prices and the month come from cost/prices.py and cost/savings.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from autotuner_core.cost import prices, savings
from autotuner_core.documents.telemetry import (
    Finding,
    FindingKind,
    PerformanceRisk,
    SavingsRange,
    SizeTelemetry,
    TelemetryEvidence,
)

HEADROOM = 1.3  # memory above production's Max Memory Used a recommendation keeps
NEAR_LIMIT = 0.9  # Max Memory Used at or above this share of the size: under-provisioned
MIN_LINES = 20  # REPORT lines of a size before its figures are read as evidence
MIN_SAVING_SHARE = 0.05  # below this share of the current cost the current size is kept (minImprovement's default)
STEP_MB = 64
MB_PER_VCPU = 1769
MAX_MB = 10_240
# Compute Optimizer's documented Lambda requirements (docs/telemetry.md).
COMPUTE_OPTIMIZER_MAX_MB = 1792
COMPUTE_OPTIMIZER_MIN_INVOCATIONS = 50
_Make = Callable[..., Finding]
MEASURED_SPREAD = 0.10  # a measured size's billed duration is taken as known within +-10 % (payload mixes move)


def _round_up(memory_mb: float) -> int:
    return int(min(MAX_MB, max(128, math.ceil(memory_mb / STEP_MB) * STEP_MB)))


def _vcpus(memory_mb: float) -> float:
    return min(memory_mb / MB_PER_VCPU, 6.0)


def decide(evidence: TelemetryEvidence, *, memory_mb: int, timeout_s: int, region: str, architecture: str) -> Finding:
    """The finding for a function configured at ``memory_mb`` with ``timeout_s``."""
    rates = prices.lambda_prices(region, architecture)
    lines = sum(size.invocations for size in evidence.sizes)
    daily = _daily_invocations(evidence, lines)
    note = _compute_optimizer_note(evidence, memory_mb)

    def finding(kind: FindingKind, reasons: list[str], **more: object) -> Finding:
        return Finding(finding=kind, reasons=reasons, current_memory_mb=memory_mb, compute_optimizer_note=note, **more)

    if not lines:
        why = [evidence.logs.note] if evidence.logs.note else []
        if evidence.metrics.invocations:
            why.append(f"{evidence.metrics.invocations:,.0f} invocations counted, but no REPORT line was read")
        else:
            why.append(f"no invocations and no REPORT lines in the last {evidence.lookback_days} days")
        return finding(FindingKind.INSUFFICIENT_DATA, why)
    current = next((size for size in evidence.sizes if size.memory_size == memory_mb), None)
    if current is None or current.invocations < MIN_LINES:
        seen = current.invocations if current else 0
        return finding(
            FindingKind.INSUFFICIENT_DATA,
            [f"{seen} REPORT lines at the current {memory_mb} MB in the window read; at least {MIN_LINES} needed"],
        )
    reasons = [_described(current, memory_mb)]
    under = _underprovisioned(current, memory_mb)
    if under:
        target = _round_up(max(current.max_memory_used_max_mb * HEADROOM, memory_mb * 1.5))
        range_ = _range(current, memory_mb, target, daily, rates, slowdown_low=1.0, slowdown_high=1.0)
        return finding(
            FindingKind.MEMORY_UNDERPROVISIONED,
            reasons + under,
            recommended_memory_mb=target,
            performance_risk=PerformanceRisk.LOW,
            savings=range_,
        )
    floor = _round_up(current.max_memory_used_max_mb * HEADROOM)
    curve = [size for size in evidence.sizes if size.invocations >= MIN_LINES and _clean(size, floor)]
    if len(curve) > 1:
        return _from_curve(finding, reasons, current, curve, memory_mb, daily, rates)
    if floor >= memory_mb:
        return finding(
            FindingKind.OPTIMIZED,
            [*reasons, f"the size leaves {HEADROOM:.0%} of the Max Memory Used ({floor} MB) and no less"],
            recommended_memory_mb=memory_mb,
            performance_risk=PerformanceRisk.VERY_LOW,
        )
    target = max(floor, _round_up(memory_mb / 2))
    if target >= memory_mb:
        return finding(FindingKind.OPTIMIZED, reasons, recommended_memory_mb=memory_mb)
    slowdown = _vcpus(memory_mb) / _vcpus(target)
    range_ = _range(current, memory_mb, target, daily, rates, slowdown_low=slowdown, slowdown_high=1.0)
    reasons.append(
        f"memory needed: {floor} MB (Max Memory Used {current.max_memory_used_max_mb:.0f} MB x {HEADROOM}); "
        f"how duration depends on memory is not in the logs (one size only): at {target} MB a CPU-bound function "
        f"runs up to {slowdown:.2f}x as long for about the same money, one waiting on I/O costs "
        f"{1 - target / memory_mb:.0%} less"
    )
    worst_p99_s = current.duration_p99_ms * slowdown / 1000
    if memory_mb > MB_PER_VCPU or worst_p99_s > 0.8 * timeout_s:
        reasons.append(
            f"at {target} MB the p99 duration could reach {worst_p99_s:.2f} s against the {timeout_s} s timeout"
            if worst_p99_s > 0.8 * timeout_s
            else f"above {MB_PER_VCPU} MB the size buys extra vCPUs, which a multi-threaded function may use"
        )
        return finding(
            FindingKind.NEEDS_MEASUREMENT,
            reasons,
            recommended_memory_mb=target,
            performance_risk=PerformanceRisk.HIGH,
            savings=range_,
        )
    if range_.high_per_month_usd < 0 or range_.per_million_usd <= 0:
        return finding(FindingKind.OPTIMIZED, reasons, recommended_memory_mb=memory_mb)
    risk = PerformanceRisk.LOW if slowdown <= 1.25 else PerformanceRisk.MEDIUM
    return finding(
        FindingKind.MEMORY_OVERPROVISIONED, reasons, recommended_memory_mb=target, performance_risk=risk, savings=range_
    )


def _from_curve(
    make: _Make,
    reasons: list[str],
    current: SizeTelemetry,
    curve: list[SizeTelemetry],
    memory_mb: int,
    daily: float,
    rates: prices.Prices,
) -> Finding:
    """Several sizes ran in production: the cheapest measured one, priced from its own billed duration."""
    costs = {
        size.memory_size: prices.invocation_cost_usd(size.memory_size, size.billed_duration_avg_ms, rates)
        for size in curve
    }
    best = min(curve, key=lambda size: costs[size.memory_size])
    sizes = ", ".join(f"{size.memory_size} MB: {size.billed_duration_avg_ms:.1f} ms billed" for size in curve)
    reasons = [*reasons, f"production ran at {len(curve)} sizes in the window ({sizes}): a measured curve"]
    current_cost = costs[memory_mb]
    if best.memory_size == memory_mb or current_cost - costs[best.memory_size] < MIN_SAVING_SHARE * current_cost:
        return make(
            FindingKind.OPTIMIZED, reasons, recommended_memory_mb=memory_mb, performance_risk=PerformanceRisk.VERY_LOW
        )
    ratio = best.billed_duration_avg_ms / current.billed_duration_avg_ms
    range_ = _range(
        current,
        memory_mb,
        best.memory_size,
        daily,
        rates,
        slowdown_low=ratio * (1 + MEASURED_SPREAD),
        slowdown_high=ratio * (1 - MEASURED_SPREAD),
        slowdown_point=ratio,
    )
    kind = FindingKind.MEMORY_OVERPROVISIONED if best.memory_size < memory_mb else FindingKind.MEMORY_UNDERPROVISIONED
    risk = PerformanceRisk.LOW if best.duration_p99_ms <= current.duration_p99_ms * 1.25 else PerformanceRisk.MEDIUM
    return make(kind, reasons, recommended_memory_mb=best.memory_size, performance_risk=risk, savings=range_)


def _range(
    current: SizeTelemetry,
    memory_mb: int,
    target_mb: int,
    daily: float,
    rates: prices.Prices,
    *,
    slowdown_low: float,
    slowdown_high: float,
    slowdown_point: float | None = None,
) -> SavingsRange:
    """The saving of ``target_mb`` over ``memory_mb``: low at ``slowdown_low`` x the billed duration, high at
    ``slowdown_high`` x; the point estimate at ``slowdown_point`` (default: halfway between the two)."""
    billed = current.billed_duration_avg_ms
    now = prices.invocation_cost_usd(memory_mb, billed, rates)

    def per_million(slowdown: float) -> float:
        return (now - prices.invocation_cost_usd(target_mb, billed * slowdown, rates)) * 1_000_000

    low, high = per_million(slowdown_low), per_million(slowdown_high)
    point = per_million(slowdown_point) if slowdown_point is not None else (low + high) / 2
    return SavingsRange(
        per_month_usd=round(savings.per_month(point, daily), 6),
        low_per_month_usd=round(savings.per_month(min(low, high), daily), 6),
        high_per_month_usd=round(savings.per_month(max(low, high), daily), 6),
        per_million_usd=round(point, 6),
        daily_invocations=round(daily, 3),
    )


def _clean(size: SizeTelemetry, floor_mb: int) -> bool:
    """A size that can stand in a curve: nothing killed or timed out, and enough memory for the headroom."""
    return not size.out_of_memory and not size.timeouts and size.memory_size >= floor_mb


def _underprovisioned(current: SizeTelemetry, memory_mb: int) -> list[str]:
    found = []
    if current.out_of_memory:
        found.append(f"{current.out_of_memory} invocations ran out of memory (Runtime.OutOfMemory)")
    if current.timeouts:
        found.append(f"{current.timeouts} invocations timed out")
    if not found and current.max_memory_used_max_mb >= NEAR_LIMIT * memory_mb:
        found.append(
            f"Max Memory Used reached {current.max_memory_used_max_mb:.0f} MB of {memory_mb} MB "
            f"(at or above {NEAR_LIMIT:.0%})"
        )
    return found


def _described(size: SizeTelemetry, memory_mb: int) -> str:
    init = f", INIT {size.init_duration_avg_ms:.0f} ms on average" if size.init_duration_avg_ms else ""
    return (
        f"{size.invocations:,} REPORT lines at {memory_mb} MB: duration p50 {size.duration_p50_ms:.1f} ms, "
        f"p99 {size.duration_p99_ms:.1f} ms; Max Memory Used p99 {size.max_memory_used_p99_mb:.0f} MB, "
        f"max {size.max_memory_used_max_mb:.0f} MB; cold starts {size.cold_start_share:.1%}{init}"
    )


def _daily_invocations(evidence: TelemetryEvidence, lines: int) -> float:
    """Invocations a day: CloudWatch's count over the lookback, else the REPORT lines over the window read."""
    if evidence.metrics.invocations:
        return evidence.metrics.invocations / evidence.lookback_days
    return lines / evidence.logs.window_days if evidence.logs.window_days else 0.0


def _compute_optimizer_note(evidence: TelemetryEvidence, memory_mb: int) -> str | None:
    if memory_mb > COMPUTE_OPTIMIZER_MAX_MB:
        return f"Compute Optimizer gives no recommendation above {COMPUTE_OPTIMIZER_MAX_MB} MB; this finding does"
    fortnight = evidence.metrics.invocations * min(1.0, 14 / evidence.lookback_days)
    if fortnight < COMPUTE_OPTIMIZER_MIN_INVOCATIONS:
        return (
            f"Compute Optimizer needs {COMPUTE_OPTIMIZER_MIN_INVOCATIONS} invocations in 14 days "
            f"(about {fortnight:.0f} here); this finding rests on the REPORT lines read"
        )
    return None
