"""AWS Lambda Power Tuning's own analysis, re-implemented from its documented behaviour.

This is the baseline the real-curve benchmark (realcurves.py) compares our engine with. It is a
re-implementation, written from reading Power Tuning's ``lambda/executor.js``, ``lambda/utils.js``,
``lambda/analyzer.js``, ``template.yml`` and ``README-INPUT-OUTPUT.md``
(github.com/alexcasalboni/aws-lambda-power-tuning); no code was copied. What it does:

- **Sizes and count.** Its default ``powerValues`` are 128, 256, 512, 1024, 1536 and 3008 MB; each
  is invoked ``num`` times (10 here, the value its examples use; ``num`` is a required input).
- **Averaging.** ``averageDuration`` is a trimmed mean of each invocation's Duration plus its
  Init Duration: sorted, ``trunc(n * discardTopBottom)`` dropped from each end (``discardTopBottom``
  defaults to 0.2 and is clamped to 0-0.4; 0 when ``onlyColdStarts``).
- **Cost.** ``averagePrice = ceil(trimmed mean of Billed Duration) * baseCost * value / 128``, where
  ``baseCost`` is its template's price of one millisecond at 128 MB (2.1e-9 USD on x86_64 in most
  regions, 1.7e-9 on arm64). No request price.
- **Strategies.** ``cost``: sort by averagePrice, equal prices by averageDuration. ``speed``: sort by
  averageDuration, equal durations by averagePrice. ``balanced``: sort by
  ``w * price / maxPrice + (1 - w) * duration / maxDuration`` (``w`` = balancedWeight, default 0.5,
  clamped to 0-1). The first after a stable sort wins, so full ties go to the size listed first.
  Sizes whose averageDuration is 0 (no results) are left out.
- **Its own cost.** Its analyzer estimates ``6 + 3 * len(powerValues)`` state transitions
  (``stepFunctionsCost``); its state machine enters :func:`state_transitions` states (the
  Publisher loop runs once more, to restore ``$LATEST``, and Branching is a state too), and that is
  what Step Functions bills. Lambda: the sum of every invocation's price.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from autotuner_core.documents.request import POWER_TUNING_SIZES_MB

POWER_VALUES = POWER_TUNING_SIZES_MB  # its default powerValues
NUM = 10
DISCARD_TOP_BOTTOM = 0.2
DEFAULT_BALANCED_WEIGHT = 0.5
MIN_RAM = 128
# USD per ms at 128 MB, its template's baseCosts ("default" rows).
BASE_COST = {"x86_64": 2.1e-9, "arm64": 1.7e-9}


@dataclass(frozen=True)
class PowerStats:
    """One power value's statistics, as its executor reports them."""

    value: int
    average_price: float
    average_duration: float
    total_cost: float


@dataclass(frozen=True)
class PowerTuningResult:
    power: int
    cost: float
    duration: float
    stats: tuple[PowerStats, ...]
    state_transitions: int
    lambda_cost: float


def trimmed_mean(values: Sequence[float], discard_top_bottom: float) -> float:
    """Its ``computeAverageDuration``: sort, drop ``trunc(n * discard)`` from each end, average the rest."""
    if not values:
        return 0.0
    drop = int(len(values) * discard_top_bottom)
    ordered = sorted(values)
    kept = ordered[drop : len(ordered) - drop] if drop > 0 else ordered
    return sum(kept) / len(kept)


def price(value: int, billed_ms: float, architecture: str = "x86_64") -> float:
    """Its ``computePrice``: ceil(ms) x price per ms at 128 MB x value / 128."""
    return math.ceil(billed_ms) * BASE_COST[architecture] * (value / MIN_RAM)


def power_stats(
    value: int,
    durations_ms: Sequence[float],
    billed_ms: Sequence[float],
    *,
    init_ms: Sequence[float] | None = None,
    discard_top_bottom: float = DISCARD_TOP_BOTTOM,
    architecture: str = "x86_64",
) -> PowerStats:
    """Its executor's statistics for one power value (``init_ms``: Init Duration per invocation, 0 if warm)."""
    discard = min(max(discard_top_bottom, 0.0), 0.4)
    totals = [d + i for d, i in zip(durations_ms, init_ms or [0.0] * len(durations_ms), strict=True)]
    return PowerStats(
        value=value,
        average_price=price(value, trimmed_mean(billed_ms, discard), architecture),
        average_duration=trimmed_mean(totals, discard),
        total_cost=sum(price(value, b, architecture) for b in billed_ms),
    )


def analyze(
    stats: Sequence[PowerStats], strategy: str = "cost", balanced_weight: float = DEFAULT_BALANCED_WEIGHT
) -> PowerTuningResult:
    """Its analyzer: the optimal power value for ``strategy`` (cost, speed or balanced)."""
    rows = [s for s in stats if s.average_duration]
    if not rows:
        raise ValueError("no power value has results")
    if strategy == "cost":
        winner = sorted(rows, key=lambda s: (s.average_price, s.average_duration))[0]
    elif strategy == "speed":
        winner = sorted(rows, key=lambda s: (s.average_duration, s.average_price))[0]
    elif strategy == "balanced":
        weight = min(max(balanced_weight, 0.0), 1.0)
        max_price = max(s.average_price for s in rows)
        max_duration = max(s.average_duration for s in rows)
        winner = sorted(
            rows,
            key=lambda s: weight * s.average_price / max_price + (1 - weight) * s.average_duration / max_duration,
        )[0]
    else:
        raise ValueError(f"unknown strategy {strategy!r}")
    return PowerTuningResult(
        power=winner.value,
        cost=winner.average_price,
        duration=winner.average_duration,
        stats=tuple(stats),
        state_transitions=state_transitions(len(stats)),
        lambda_cost=sum(s.total_cost for s in stats),
    )


def state_transitions(sizes: int) -> int:
    """States its state machine enters for ``sizes`` power values (no onlyColdStarts): Initializer;
    Publisher and IsCountReached once per size and once more to restore ``$LATEST``; Branching; one
    Executor per size; Cleaner, Analyzer, Optimizer."""
    return 1 + 2 * (sizes + 1) + 1 + sizes + 3


Invoke = Callable[[int], tuple[float, float, float]]
"""Invoke the function at a memory size once: (Duration ms, Billed Duration ms, Init Duration ms or 0)."""


def tune(
    invoke: Invoke,
    *,
    power_values: Sequence[int] = POWER_VALUES,
    num: int = NUM,
    strategy: str = "cost",
    balanced_weight: float = DEFAULT_BALANCED_WEIGHT,
    discard_top_bottom: float = DISCARD_TOP_BOTTOM,
    architecture: str = "x86_64",
) -> PowerTuningResult:
    """A whole Power Tuning run: ``num`` invocations at each power value, then its analysis."""
    stats = []
    for value in power_values:
        results = [invoke(value) for _ in range(num)]
        stats.append(
            power_stats(
                value,
                [r[0] for r in results],
                [r[1] for r in results],
                init_ms=[r[2] for r in results],
                discard_top_bottom=discard_top_bottom,
                architecture=architecture,
            )
        )
    return analyze(stats, strategy, balanced_weight)
