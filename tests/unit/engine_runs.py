"""A seeded function for the engine tests: duration curves, observations, and next_round driven until done."""

from __future__ import annotations

import math
import random
from typing import Any

from autotuner_core.decision.engine import SizeObservation, SizeRequest, next_round
from autotuner_core.decision.statistics import Decision, decide
from autotuner_core.documents.request import TuningRequest

# Relative duration curves (ms) at the ladder's sizes; between them linear in log-memory.
CHEAPEST_AT_512 = {128: 4000.0, 256: 1500.0, 512: 500.0, 1024: 400.0, 1536: 390.0, 2048: 380.0, 3008: 370.0}
KEEPS_GETTING_FASTER = {128: 8000.0, 256: 4000.0, 512: 2000.0, 1024: 1000.0, 1536: 667.0, 2048: 500.0, 3008: 340.0}


def request(**fields: Any) -> TuningRequest:
    return TuningRequest.model_validate({"targets": ["orders-api"], **fields})


def duration_at(curve: dict[int, float], memory: int) -> float:
    sizes = sorted(curve)
    if memory in curve:
        return curve[memory]
    low = max(s for s in sizes if s < memory)
    high = min(s for s in sizes if s > memory)
    share = math.log(memory / low) / math.log(high / low)
    return curve[low] + (curve[high] - curve[low]) * share


def observe(memory: int, durations: list[float], **fields: Any) -> SizeObservation:
    return SizeObservation(
        memory_size=memory,
        durations_ms=durations,
        billed_durations_ms=[float(math.ceil(d)) for d in durations],
        **fields,
    )


def tune(
    curve: dict[int, float],
    *,
    current: int = 128,
    noise: float = 0.05,
    seed: int = 0,
    max_memory_mb: int = 3008,
    **fields: Any,
) -> tuple[Decision, list[list[SizeRequest]]]:
    """Drive next_round against a seeded function until it says done, then decide."""
    tuning = request(**fields)
    rng = random.Random(seed)
    observed: dict[int, list[float]] = {}
    rounds = []
    while True:
        current_obs = [observe(m, d) for m, d in observed.items()]
        planned = next_round(tuning, current, current_obs, max_memory_mb=max_memory_mb)
        if not planned:
            break
        rounds.append(planned)
        for item in planned:
            mean = duration_at(curve, item.memory_size)
            observed.setdefault(item.memory_size, []).extend(
                mean * rng.lognormvariate(0, noise) for _ in range(item.invocations)
            )
    return decide(tuning, current, [observe(m, d) for m, d in observed.items()]), rounds


def spent(rounds: list[list[SizeRequest]]) -> int:
    return sum(item.invocations for planned in rounds for item in planned)
