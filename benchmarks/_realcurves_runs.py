"""One fair run of each engine on a replayed curve: the same sizes offered, paired noise, cold starts.

- **Sizes.** Both engines get the curve's range: its smallest and largest measured size, and the
  current size. Ours gets them as ``memorySizes`` (it picks its own sizes inside); Power Tuning gets
  its default ``powerValues`` that lie inside the range plus the two ends and the current size (a
  user passes sizes that cover their range, and their current size to compare with).
- **Current size.** One of four per (curve, seed), each a quarter of the runs
  (:data:`CURRENT_KINDS`): the curve's smallest measured size, the measured size nearest 1,024 MB,
  its largest, and one of its measured sizes drawn by a stable hash of (curve, seed).
- **Common random numbers.** The Duration of the i-th invocation at a size is a function of
  (curve, seed, size, i) (:class:`Draws`: one stream per size, seeded by a stable hash, never
  Python's salted ``hash()``), so both engines see the same draws wherever they measure the same size.
- **Cold starts.** Both engines publish a fresh version for what they measure (ours: per size of
  each round; Power Tuning: per size), and the first invocation of every new version is a cold
  start: Lambda bills its INIT (Billed Duration = ceil(Init + Duration)). Init Duration is the
  record's ``initDurationMs`` (at 128 MB) where it has one, else :data:`DEFAULT_INIT_MS`, scaled
  with memory as the simulated function scales it (its CPU share runs faster up to one vCPU).
- **Tuning cost.** Counted as each product counts it: ours from ``run_cost``'s per-state constants
  (pinned to execution histories) and the control-plane calls of its measuring step; Power
  Tuning's from its state machine (Initializer, Publisher and IsCountReached per size plus one to
  restore ``$LATEST``, Branching, one Executor per size, Cleaner, Analyzer, Optimizer) and its
  functions' calls (per size: update, wait, publish, get and create the alias, the executor's
  configuration read, the cleaner's get alias, delete alias, delete version; per run: the
  initializer's read and the restore's update, wait and publish).
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from autotuner_core.cost import run_cost
from autotuner_core.cost.prices import gb_seconds, lambda_prices, lambda_usd, step_functions_usd
from autotuner_core.decision import engine, statistics
from autotuner_core.documents.request import TuningRequest
from benchmarks import power_tuning
from emulator.curves import Curve, CurveRecord
from emulator.simulated_function import INIT_CPU_SHARE, INIT_REFERENCE_MB, MB_PER_VCPU

CURRENT_KINDS = ("smallest", "nearest 1024", "largest", "random")
# Init Duration at 128 MB where a record has none: the embedded account's default cold start.
DEFAULT_INIT_MS = 150.0
OURS_TUNER = (128, "arm64")  # template.yaml: the measuring function (it waits for the target) runs at 128 MB
POWER_TUNING_EXECUTOR = (128, "x86_64")  # its template: Globals MemorySize 128, no Architectures
# Ours per size, when a round first measures it: update $LATEST, wait, publish, create the alias, and at
# clean-up delete the alias and the version (a size measured again keeps both); per round that prepares
# a new size: read $LATEST before, restore it and wait; per run: discovery's read and the read before
# the update. One read per wait (a lower bound).
OURS_CALLS_PER_SIZE, OURS_CALLS_PER_PREPARING_ROUND, OURS_CALLS_FIXED = 6, 3, 2
PT_CALLS_PER_SIZE, PT_CALLS_FIXED = 9, 4
MIN_IMPROVEMENT = TuningRequest.model_fields["min_improvement"].default


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from the parts' text, the same in every process (unlike ``hash()``)."""
    return int.from_bytes(hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest(), "big")


def current_sizes(record: CurveRecord, seed: int) -> dict[str, int]:
    """The four current sizes of (record, seed), by :data:`CURRENT_KINDS`."""
    sizes = record.memory_mb
    return {
        "smallest": sizes[0],
        "nearest 1024": min(sizes, key=lambda m: (abs(m - 1024), m)),
        "largest": sizes[-1],
        "random": sizes[stable_seed("current", record.id, seed) % len(sizes)],
    }


def power_values(curve: Curve, current: int | None = None) -> list[int]:
    """Power Tuning's sizes: its defaults inside the range, the range's two ends and the current size."""
    inside = [v for v in power_tuning.POWER_VALUES if curve.min_mb <= v <= curve.max_mb]
    return sorted({curve.min_mb, curve.max_mb, *inside, *([current] if current is not None else [])})


def init_ms(record: CurveRecord, memory: int) -> float:
    """A cold start's Init Duration at ``memory``: the record's (or the default) at 128 MB, its CPU
    share faster with more memory up to one vCPU."""
    base = record.init_duration_ms if record.init_duration_ms is not None else DEFAULT_INIT_MS
    return base * (1 - INIT_CPU_SHARE + INIT_CPU_SHARE * INIT_REFERENCE_MB / min(memory, MB_PER_VCPU))


class Draws:
    """The paired noise of one (curve, seed): :meth:`duration` (size, i) is the same for every engine."""

    def __init__(self, curve: Curve, seed: int):
        self.curve = curve
        self.seed = seed
        self._streams: dict[int, tuple[list[float], random.Random]] = {}

    def duration(self, memory: int, index: int) -> float:
        """The Duration (ms, reported to 0.01 ms as Lambda does) of the ``index``-th invocation at ``memory``."""
        if memory not in self._streams:
            self._streams[memory] = ([], random.Random(stable_seed(self.curve.name, self.seed, memory)))
        values, rng = self._streams[memory]
        while len(values) <= index:
            values.append(round(self.curve.sample_ms(memory, rng), 2))
        return values[index]


class Replay:
    """One engine's invocations of a replayed function: (Duration, Billed Duration, Init Duration or 0)."""

    def __init__(self, record: CurveRecord, draws: Draws):
        self.record = record
        self.draws = draws
        self.counts: dict[int, int] = {}
        self.gb_seconds = 0.0
        self.billed_ms = 0.0
        self.cold_starts = 0

    @property
    def invocations(self) -> int:
        return sum(self.counts.values())

    def __call__(self, memory: int, cold: bool = False) -> tuple[float, float, float]:
        index = self.counts.get(memory, 0)
        self.counts[memory] = index + 1
        duration = self.draws.duration(memory, index)
        init = round(init_ms(self.record, memory), 2) if cold else 0.0
        billed = float(max(1, math.ceil(duration + init)))
        self.cold_starts += cold
        self.gb_seconds += gb_seconds(memory, billed)
        self.billed_ms += billed
        return duration, billed, init

    def batch(self, memory: int, count: int) -> list[tuple[float, float, float]]:
        """``count`` invocations of a newly published version: the first is a cold start."""
        return [self(memory, cold=i == 0) for i in range(count)]


@dataclass(frozen=True)
class Run:
    """What one engine chose on one (curve, seed, current size), and what deciding cost."""

    memory: int
    invocations: int
    cold_starts: int
    target_gb_seconds: float
    tuner_gb_seconds: float
    control_calls: int
    transitions: int
    dollars: float
    # Ours: the engine's decision; Power Tuning: the trimmed mean prices it measured, by size.
    decision: statistics.Decision | None = None
    measured_prices: dict[int, float] | None = None


def _dollars(replay: Replay, tuner: tuple[int, str], transitions: int) -> tuple[float, float]:
    """The tuner's own GB-seconds (it waits as long as the target runs), and the decision's dollars:
    the target's GB-seconds and requests, the tuner's Lambda time, the state transitions."""
    tuner_mb, tuner_architecture = tuner
    tuner_gb_seconds = gb_seconds(tuner_mb, replay.billed_ms)
    target = lambda_usd(replay.gb_seconds, replay.invocations, lambda_prices("us-east-1", replay.record.architecture))
    # The tuner functions' requests are not counted, for either engine (0 requests).
    tuner_usd = lambda_usd(tuner_gb_seconds, 0, lambda_prices("us-east-1", tuner_architecture))
    return tuner_gb_seconds, target + tuner_usd + step_functions_usd(transitions)


def request_for(curve: Curve, strategy: str, num: int, min_improvement: float) -> TuningRequest:
    """The request our engine gets: the curve's range, the strategy, ``num``, the rule."""
    return TuningRequest.model_validate(
        {
            "targets": ["replayed-curve"],
            "memorySizes": sorted({curve.min_mb, curve.max_mb}),
            "strategy": strategy,
            "invocations": num,
            "minImprovement": min_improvement,
        }
    )


def run_ours(
    record: CurveRecord,
    curve: Curve,
    draws: Draws,
    current: int,
    strategy: str = "cost",
    *,
    num: int = 10,
    min_improvement: float = 0.0,
) -> Run:
    """Our engine through ``next_round`` / ``decide``, the functions the product calls."""
    request = request_for(curve, strategy, num, min_improvement)
    replay = Replay(record, draws)
    observed: dict[int, engine.SizeObservation] = {}
    rounds = preparing_rounds = 0
    while items := engine.next_round(request, current, list(observed.values()), max_memory_mb=curve.max_mb):
        rounds += 1
        preparing_rounds += any(item.memory_size not in observed for item in items)
        for item in items:
            results = replay.batch(item.memory_size, item.invocations)
            seen = observed.get(item.memory_size)
            observed[item.memory_size] = engine.SizeObservation(
                memory_size=item.memory_size,
                durations_ms=[*(seen.durations_ms if seen else []), *(r[0] for r in results)],
                billed_durations_ms=[*(seen.billed_durations_ms if seen else []), *(r[1] for r in results)],
                cold_starts=(seen.cold_starts if seen else 0) + 1,
            )
    decision = statistics.decide(request, current, list(observed.values()))
    transitions = run_cost.RUN_TRANSITIONS + run_cost.measured_target_transitions(rounds)
    tuner, dollars = _dollars(replay, OURS_TUNER, transitions)
    calls = (
        OURS_CALLS_PER_SIZE * len(replay.counts) + OURS_CALLS_PER_PREPARING_ROUND * preparing_rounds + OURS_CALLS_FIXED
    )
    return Run(
        memory=decision.memory_size,
        invocations=replay.invocations,
        cold_starts=replay.cold_starts,
        target_gb_seconds=replay.gb_seconds,
        tuner_gb_seconds=tuner,
        control_calls=calls,
        transitions=transitions,
        dollars=dollars,
        decision=decision,
    )


def run_power_tuning(
    record: CurveRecord, curve: Curve, draws: Draws, current: int, strategy: str = "cost", *, num: int = 10
) -> Run:
    """Power Tuning's analysis (re-implemented) on the same range, invoked in series as it does by default."""
    replay = Replay(record, draws)
    values = power_values(curve, current)
    stats = []
    for value in values:
        results = replay.batch(value, num)
        stats.append(
            power_tuning.power_stats(
                value,
                [r[0] for r in results],
                [r[1] for r in results],
                init_ms=[r[2] for r in results],
                architecture=record.architecture,
            )
        )
    result = power_tuning.analyze(stats, strategy)
    transitions = power_tuning.state_transitions(len(values))
    tuner, dollars = _dollars(replay, POWER_TUNING_EXECUTOR, transitions)
    calls = PT_CALLS_PER_SIZE * len(values) + PT_CALLS_FIXED
    return Run(
        memory=result.power,
        invocations=replay.invocations,
        cold_starts=replay.cold_starts,
        target_gb_seconds=replay.gb_seconds,
        tuner_gb_seconds=tuner,
        control_calls=calls,
        transitions=transitions,
        dollars=dollars,
        measured_prices={s.value: s.average_price for s in stats},
    )


def power_tuning_keeps(run: Run, current: int, min_improvement: float = MIN_IMPROVEMENT) -> int:
    """Power Tuning under our rule: the current size unless its own measured saving is at least ``min_improvement``."""
    assert run.measured_prices is not None
    at_current = run.measured_prices[current]
    saving = 1 - run.measured_prices[run.memory] / at_current if at_current > 0 else 0.0
    return run.memory if saving >= min_improvement else current
