"""The tuning benchmark's truth: noise-free cost and duration at every feasible size, and the suite's fixed terms.

See :mod:`benchmarks.tuning` for the suite and what it measures.
"""

from __future__ import annotations

import math

from autotuner_core.cost.prices import Prices, invocation_cost_usd, lambda_prices
from autotuner_core.documents.request import POWER_TUNING_SIZES_MB
from emulator.account import FunctionProfile, SimulatedAccount
from emulator.simulated_function import expected_duration_ms, memory_floor_mb

REGION = "us-east-1"
ARCHITECTURE = "arm64"
CURRENT_MEMORY_MB = 1024
TIMEOUT_S = 300
MEMORY_QUOTA_MB = SimulatedAccount().memory_quota_mb  # the default, 3,008 MB: kept
MIN_MEMORY_MB = 128
BALANCED_WEIGHT = 0.5  # the engines' default balancedWeight
STRATEGIES = ("cost", "balanced", "speed")

POWER_TUNING_TRANSITIONS = 6 + 3 * len(POWER_TUNING_SIZES_MB)  # 24


# ---------------------------------------------------------------------------------------------
# The truth: noise-free cost and duration at every feasible size
# ---------------------------------------------------------------------------------------------


def prices() -> Prices:
    return lambda_prices(REGION, ARCHITECTURE)


def feasible_sizes(profile: FunctionProfile, quota_mb: int = MEMORY_QUOTA_MB) -> range:
    """Every size from the memory floor (at least 128 MB) to the quota, in 1 MB steps."""
    return range(max(MIN_MEMORY_MB, memory_floor_mb(profile)), quota_mb + 1)


def true_duration_ms(profile: FunctionProfile, memory_mb: int) -> float:
    return expected_duration_ms(profile, memory_mb)


def true_cost_usd(profile: FunctionProfile, memory_mb: int, rates: Prices | None = None) -> float:
    """Cost of one invocation without noise: the memory size times the billed (ceil) duration."""
    billed = max(1, math.ceil(true_duration_ms(profile, memory_mb)))
    return invocation_cost_usd(memory_mb, billed, rates or prices())


def objective(
    strategy: str, profile: FunctionProfile, *, quota_mb: int = MEMORY_QUOTA_MB, weight: float = BALANCED_WEIGHT
) -> dict[int, float]:
    """What ``strategy`` minimises, at every feasible size (module docstring)."""
    rates = prices()
    sizes = feasible_sizes(profile, quota_mb)
    cost = {m: true_cost_usd(profile, m, rates) for m in sizes}
    duration = {m: true_duration_ms(profile, m) for m in sizes}
    if strategy == "cost":
        return cost
    if strategy == "speed":
        return duration
    if strategy == "balanced":
        max_cost, max_duration = max(cost.values()), max(duration.values())
        return {m: weight * cost[m] / max_cost + (1 - weight) * duration[m] / max_duration for m in sizes}
    raise ValueError(f"unknown strategy {strategy!r}; one of {', '.join(STRATEGIES)}")


def optimum(values: dict[int, float]) -> tuple[int, float]:
    """The best size and its objective; ties go to the smaller size."""
    size = min(values, key=lambda m: (values[m], m))
    return size, values[size]


def regret(values: dict[int, float], chosen: int) -> float:
    """objective(chosen) / objective(optimum) - 1; infinite for a size that runs out of memory."""
    if chosen not in values:
        return math.inf
    return values[chosen] / optimum(values)[1] - 1
