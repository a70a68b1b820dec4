"""Decision quality on real measured curves: our engine v2 against Power Tuning's own analysis.

``python -m benchmarks realcurves [--curves PATH] [--seeds N] [--json] [--quick] [--tuning-only] [--worst N]
[--min-improvement F]``

Each curve of the file (the format of ``benchmarks/data/real-curves.json``) spanning at least 4x in
memory with coarse steps (median ratio of neighbouring sizes >= 1.3; the fine-grained runs over
128-512 MB in 16-24 MB steps, whose neighbours differ mostly by noise, are shown in their own table
and kept out of the goals) is replayed (autotuner/embedded/curves.py: piecewise linear in log-memory, lognormal noise
of sigma 0.12, 2 % spikes), and each engine tunes it with a fixed seed:

- **ours**: ``autotuner_core.engine.next_round`` / ``decide``, the functions the product calls,
  over the curve's range (from its smallest to its largest size); the current size is the
  curve's smallest (Lambda's default of 128 MB for most of them). What is scored is the decision's
  ``memory_size``: when the minImprovement rule keeps the current size, the current size's regret.
- **Power Tuning**: benchmarks/power_tuning.py, its default powerValues that lie in the curve's
  range, ``num`` 10.

Regret is against the true optimum over the curve's whole range in 1 MB steps, on the duration
charge (the request charge is the same at every size and is left out so it does not dilute the
figures): ``regret = objective(chosen) / objective(best) - 1``. The true cost is what Lambda
bills: memory x the expected Billed Duration (each invocation's Duration rounded up to the
millisecond, at least 1 ms) under the replay's own noise model (:func:`expected_billed_ms`),
computed, never taken from what an engine measured. The true speed is the mean Duration. Each
table also shows the cost regrets under the mean-duration truth (memory x mean Duration) that
the benchmark used before, so the two can be compared.

Equal budgets: Power Tuning with ``num`` 5 (30 invocations on six sizes, our default budget) and
ours with invocations 20 (a budget of 60, Power Tuning's default).

Held out: the curves whose id hashes (sha256, first byte) to a multiple of 4 were never used to
choose the engine's constants (its ladder, round sizes, prior, thresholds); their figures are
printed separately, and so are the tuning curves (the others); ``--worst N`` lists the N worst
runs of the tuning curves, never a held-out one, and ``--tuning-only`` measures the tuning curves
only (docs/engine.md says when the held-out figures were looked at). The
parametric suite (the simulator's presets as curves, printed last) was never used for that either.

The tuning's own cost is modelled, not measured: target invocations at the Lambda price; the
tuner's own Lambda time (its measuring function waits for each target invocation: 512 MB arm64
for ours, Power Tuning's executor 128 MB x86_64); state transitions as the product counts them
(run_cost); control-plane calls with one read per wait (ours: update $LATEST, wait, publish,
create the alias and delete the version per size of each round, delete the alias per size, read
and restore $LATEST per round; Power Tuning per size: update, wait, publish, create alias,
delete alias, delete version).

The last line with ``--json`` is one JSON object: ``{"curves": N, "costTruth": "billed", "ours":
{"medianRegretPct": ..., "p95RegretPct": ..., "invocations": ..., "targetGbSeconds": ...},
"powerTuning": {...}}`` (cost strategy, default budgets, regret against the billed truth;
invocations and GB-seconds are means per run).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import itertools
import json
import math
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autotuner.embedded.curves import DEFAULT_CURVES_PATH, OUTLIER_FACTOR, Curve, CurveRecord, load_curves
from autotuner.embedded.simulated_function import PROFILES, expected_duration_ms, memory_floor_mb
from autotuner_core import engine, run_cost
from autotuner_core.models import TuningRequest
from autotuner_core.pricing import REQUEST_PRICE_USD, STEP_FUNCTIONS_TRANSITION_USD, lambda_prices
from benchmarks import power_tuning
from benchmarks._table import text_table

MIN_SPAN = 4.0
COARSE_STEP = 1.3
SEEDS = 5
QUICK_SEEDS = 2
STRATEGIES = ("cost", "balanced", "speed")
OURS_TUNER = (512, "arm64")  # template.yaml Globals: every tuner function
POWER_TUNING_EXECUTOR = (128, "x86_64")  # its template: Globals MemorySize 128, no Architectures
# Control-plane calls, one read per wait for both engines (a lower bound: a wait may poll more than once).
# Ours per size of a round: update $LATEST, wait, publish, create the alias (a size measured again finds
# its alias), delete the version; per size: delete the alias; per round: read $LATEST before, restore it
# and wait; per run: discovery's read and the read before the update.
OURS_CALLS_PER_ROUND_ITEM, OURS_CALLS_PER_SIZE, OURS_CALLS_PER_ROUND, OURS_CALLS_FIXED = 5, 1, 3, 2
PT_CALLS_PER_SIZE = 6
# State transitions as the product counts them (run_cost.counted, pinned to execution histories): the
# run's and a measured target's fixed states, four per measuring round and one per size of a round.
OURS_TRANSITIONS_FIXED = run_cost.RUN_TRANSITIONS + run_cost.MEASURED_TARGET_TRANSITIONS
# The minImprovement rule's floor (rule_floor_regret): replays per benchmark run, and where their seeds
# start (apart from the engines' own seeds).
FLOOR_REPEATS = 8
FLOOR_SEED_BASE = 1_000_000
# The request's default minImprovement: what the change counts are judged by.
MIN_IMPROVEMENT = TuningRequest.model_fields["min_improvement"].default


def held_out(curve_id: str) -> bool:
    """The fixed held-out set: never used to choose the engine's constants."""
    return hashlib.sha256(curve_id.encode("utf-8")).digest()[0] % 4 == 0


# Replay reports each Duration rounded to 0.01 ms, as Lambda does, before ceiling it: a sample
# bills more than k ms once it reaches k + 0.005 ms.
REPORTED_HALF_STEP_MS = 0.005
# A survival term beyond this many sigmas of the lognormal is below 1e-12: left out of the sums.
TAIL_SIGMAS = 7.0
# Where even the narrowest part of the distribution (the lower tail of the non-spike lognormal) is
# this many ms wide, ceil() adds half a millisecond to the mean to within far less than 1e-9 ms.
SMOOTH_WIDTH_MS = 2.0


def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2))


def _lognormal_survival(x: float, sigma: float) -> float:
    """P(L > x) for the replay's lognormal factor L (mu = -sigma^2 / 2, mean 1)."""
    if x <= 0:
        return 1.0
    return _normal_cdf((-(sigma**2) / 2 - math.log(x)) / sigma)


def _spike_survival(x: float, sigma: float, low: float, high: float) -> float:
    """P(L * U > x), U uniform on [low, high]: a spike's factor.

    Averaging P(L > x / u) over u in closed form: with v = ln u and a = ln x - mu, the integrand
    Phi((v - a) / sigma) e^v has the antiderivative e^v Phi((v - a) / sigma) - e^(a + sigma^2 / 2)
    Phi((v - a - sigma^2) / sigma)."""
    if x <= 0:
        return 1.0
    a = math.log(x) + sigma**2 / 2

    def antiderivative(v: float) -> float:
        return math.exp(v) * _normal_cdf((v - a) / sigma) - math.exp(a + sigma**2 / 2) * _normal_cdf(
            (v - a - sigma**2) / sigma
        )

    return (antiderivative(math.log(high)) - antiderivative(math.log(low))) / (high - low)


def _sum_survival(survival: Callable[[float], float], first_ms: float, last_ms: float) -> float:
    """Sum over k >= 1 of survival(k + 0.005) for a survival that is 1 below first_ms and 0 above last_ms."""
    start = max(1, math.floor(first_ms - REPORTED_HALF_STEP_MS))  # below it every term is 1
    stop = max(start, math.ceil(last_ms - REPORTED_HALF_STEP_MS))
    return start - 1 + sum(survival(k + REPORTED_HALF_STEP_MS) for k in range(start, stop + 1))


def _ceil_integral(w: float) -> float:
    """The integral of ceil(t) from 1 to w (w >= 1)."""
    n = math.ceil(w)
    return n * (n - 1) / 2 + n * (w - (n - 1)) - 1


def _billed_uniform(low_ms: float, high_ms: float) -> float:
    """E[max(1, ceil(Z - 0.005))] for Z uniform on [low_ms, high_ms]: a noiseless spike."""
    a, b = low_ms - REPORTED_HALF_STEP_MS, high_ms - REPORTED_HALF_STEP_MS
    at_one = max(0.0, min(b, 1.0) - a)  # everything up to 1 ms bills 1 ms
    above = _ceil_integral(b) - _ceil_integral(max(a, 1.0)) if b > 1 else 0.0
    return (at_one + above) / (b - a)


@functools.cache
def expected_billed_ms(
    mean_ms: float, noise: float, outlier_rate: float, spike: tuple[float, float] = OUTLIER_FACTOR
) -> float:
    """The expected Billed Duration of one replayed invocation whose curve's mean is ``mean_ms``.

    Lambda bills each invocation's Duration rounded up to the millisecond, at least 1 ms, and both
    engines rank sizes by it (Replay bills the same way). A curve that runs a few ms pays much more
    than its mean (1.2 ms bills about 2 ms), so the true cost of a size is memory x E[max(1, ceil(D))], D distributed as
    ``Curve.sample_ms`` draws it: ``mean_ms`` times a lognormal factor of sigma ``noise`` and mean 1,
    times a uniform factor in ``spike`` with probability ``outlier_rate``. Computed, not sampled
    (no seed can favour an engine): E[max(1, ceil Y)] = 1 + sum over k >= 1 of P(Y > k), with the
    lognormal's tail from erfc and the spike's in closed form, over the terms within TAIL_SIGMAS.
    Where the distribution is wide at the millisecond scale (SMOOTH_WIDTH_MS) the sum is E[D] +
    0.5 - 0.005 ms to within far less than 1e-9 ms (Euler-Maclaurin: what is left is the Fourier
    transform of a smooth density at 2 pi), so long durations are not summed term by term.
    """
    low, high = spike
    mean_factor = 1 - outlier_rate + outlier_rate * (low + high) / 2
    if noise == 0:
        # Replay multiplies by exactly 1.0: the non-spike Duration is the mean itself.
        steady = float(max(1, math.ceil(round(mean_ms, 2))))
        return (1 - outlier_rate) * steady + outlier_rate * _billed_uniform(mean_ms * low, mean_ms * high)
    lowest = mean_ms * math.exp(-(noise**2) / 2 - TAIL_SIGMAS * noise)  # the non-spike's lower tail
    highest = mean_ms * math.exp(-(noise**2) / 2 + TAIL_SIGMAS * noise)
    if lowest * noise >= SMOOTH_WIDTH_MS:
        return mean_ms * mean_factor + 0.5 - REPORTED_HALF_STEP_MS
    steady = _sum_survival(lambda t: _lognormal_survival(t / mean_ms, noise), lowest, highest)
    spiked = _sum_survival(lambda t: _spike_survival(t / mean_ms, noise, low, high), lowest * low, highest * high)
    return 1 + (1 - outlier_rate) * steady + outlier_rate * spiked


@dataclass(frozen=True)
class Truth:
    """A curve's true objectives over its whole range, 1 MB steps.

    ``durations`` are the curve's mean Durations (what a user waits: the speed truth); ``billed``
    the expected Billed Durations under the replay's noise (what Lambda charges: the cost truth,
    :func:`expected_billed_ms`). On a curve that runs a few ms the two rank sizes differently."""

    sizes: range
    durations: list[float]
    billed: list[float]

    @classmethod
    def of(cls, curve: Curve) -> Truth:
        sizes = range(curve.min_mb, curve.max_mb + 1)
        durations = [curve.duration_ms(m) for m in sizes]
        billed = [expected_billed_ms(d, curve.noise, curve.outlier_rate) for d in durations]
        return cls(sizes=sizes, durations=durations, billed=billed)

    def mean_duration_costs(self) -> list[float]:
        """memory x mean Duration: the cost truth before the billed one, shown for comparison."""
        return [m * d for m, d in zip(self.sizes, self.durations, strict=True)]

    def scores(self, strategy: str, weight: float = 0.5) -> list[float]:
        costs = [m * b for m, b in zip(self.sizes, self.billed, strict=True)]
        if strategy == "cost":
            return costs
        if strategy == "speed":
            return self.durations
        max_cost, max_duration = max(costs), max(self.durations)
        return [
            weight * c / max_cost + (1 - weight) * d / max_duration for c, d in zip(costs, self.durations, strict=True)
        ]

    def regret_pct(self, memory: int, strategy: str, scores: list[float] | None = None) -> float:
        scores = scores if scores is not None else self.scores(strategy)
        return (scores[memory - self.sizes.start] / min(scores) - 1) * 100


@dataclass(frozen=True)
class Run:
    memory: int
    invocations: int
    target_gb_seconds: float
    tuner_gb_seconds: float
    control_calls: int
    transitions: int
    dollars: float


class Replay:
    """A replayed function: invoke(memory) -> (Duration, Billed Duration, Init Duration), GB-seconds counted."""

    def __init__(self, curve: Curve, seed: int):
        self.curve = curve
        self.rng = random.Random(f"{curve.name}:{seed}")
        self.invocations = 0
        self.gb_seconds = 0.0
        self.billed_ms = 0.0
        self.sizes: set[int] = set()

    def __call__(self, memory: int) -> tuple[float, float, float]:
        duration = round(self.curve.sample_ms(memory, self.rng), 2)
        billed = float(max(1, math.ceil(duration)))
        self.invocations += 1
        self.gb_seconds += memory / 1024 * billed / 1000
        self.billed_ms += billed
        self.sizes.add(memory)
        return duration, billed, 0.0


def _dollars(replay: Replay, tuner: tuple[int, str], transitions: int, architecture: str) -> tuple[float, float]:
    """The tuner's own GB-seconds, and the run's dollars: target invocations (GB-seconds and requests),
    the tuner's Lambda time, state transitions."""
    tuner_mb, tuner_architecture = tuner
    tuner_gb_seconds = tuner_mb / 1024 * replay.billed_ms / 1000  # it waits as long as the target runs
    target = replay.gb_seconds * lambda_prices("us-east-1", architecture).gb_second_usd
    target += replay.invocations * REQUEST_PRICE_USD
    tuner_usd = tuner_gb_seconds * lambda_prices("us-east-1", tuner_architecture).gb_second_usd
    return tuner_gb_seconds, target + tuner_usd + transitions * STEP_FUNCTIONS_TRANSITION_USD


def run_ours(
    curve: Curve,
    seed: int,
    strategy: str = "cost",
    *,
    num: int = 10,
    architecture: str = "x86_64",
    min_improvement: float = MIN_IMPROVEMENT,
) -> tuple[Run, engine.Decision]:
    """Our engine on a replayed curve, through next_round/decide as the product calls them."""
    request = _request(curve, strategy, num, min_improvement)
    replay = Replay(curve, seed)
    current = curve.min_mb
    observed: dict[int, engine.SizeObservation] = {}
    rounds = round_items = 0
    while requests := engine.next_round(request, current, list(observed.values()), max_memory_mb=curve.max_mb):
        rounds += 1
        round_items += len(requests)
        for item in requests:
            results = [replay(item.memory_size) for _ in range(item.invocations)]
            seen = observed.get(item.memory_size)
            observed[item.memory_size] = engine.SizeObservation(
                memory_size=item.memory_size,
                durations_ms=[*(seen.durations_ms if seen else []), *(r[0] for r in results)],
                billed_durations_ms=[*(seen.billed_durations_ms if seen else []), *(r[1] for r in results)],
            )
    decision = engine.decide(request, current, list(observed.values()))
    transitions = OURS_TRANSITIONS_FIXED + run_cost.ROUND_TRANSITIONS * rounds + round_items
    tuner, dollars = _dollars(replay, OURS_TUNER, transitions, architecture)
    return (
        Run(
            memory=decision.memory_size,
            invocations=replay.invocations,
            target_gb_seconds=replay.gb_seconds,
            tuner_gb_seconds=tuner,
            control_calls=OURS_CALLS_PER_ROUND_ITEM * round_items
            + OURS_CALLS_PER_SIZE * len(replay.sizes)
            + OURS_CALLS_PER_ROUND * rounds
            + OURS_CALLS_FIXED,
            transitions=transitions,
            dollars=dollars,
        ),
        decision,
    )


def power_values(curve: Curve) -> list[int]:
    """Power Tuning's default powerValues that lie in the curve's range (the others are not offered)."""
    return [v for v in power_tuning.POWER_VALUES if curve.min_mb <= v <= curve.max_mb]


def run_power_tuning(
    curve: Curve, seed: int, strategy: str = "cost", *, num: int = power_tuning.NUM, architecture: str = "x86_64"
) -> Run:
    """Power Tuning's analysis (re-implemented) on a replayed curve."""
    replay = Replay(curve, seed)
    values = power_values(curve)
    result = power_tuning.tune(replay, power_values=values, num=num, strategy=strategy, architecture=architecture)
    tuner, dollars = _dollars(replay, POWER_TUNING_EXECUTOR, result.state_transitions, architecture)
    return Run(
        memory=result.power,
        invocations=replay.invocations,
        target_gb_seconds=replay.gb_seconds,
        tuner_gb_seconds=tuner,
        control_calls=PT_CALLS_PER_SIZE * len(values),
        transitions=result.state_transitions,
        dollars=dollars,
    )


@dataclass
class Figures:
    regrets: dict[str, list[float]]
    runs: list[Run]  # cost-strategy runs
    # Ours only, cost strategy: the regret of the best measured size, had the minImprovement rule not
    # kept the current one. What the rule costs, shown next to what is scored (the decision).
    best_regrets: list[float] = field(default_factory=list)
    # Cost strategy, the same decisions against the mean-duration truth (memory x mean Duration, not
    # billed) that the benchmark used before the billed one: shown beside it, not judged.
    mean_truth_regrets: list[float] = field(default_factory=list)
    # Cost strategy, against the current size (the curve's smallest) and its true cost: the runs
    # that changed the size, those of them whose true saving is below MIN_IMPROVEMENT (churn for
    # noise, what the rule is there to prevent), and the runs that kept it although the true
    # optimum saves at least that much (what the rule misses).
    changes: int = 0
    small_changes: int = 0
    missed: int = 0
    # Ours only, cost strategy: (regret, curve id, seed, what was measured and what was decided).
    worst: list[tuple[float, str, int, str]] = field(default_factory=list)
    # Ours only, cost strategy: the minImprovement rule's floor at the same budget
    # (rule_floor_regret), FLOOR_REPEATS replays per run so that its p95 is not one replay's luck.
    floor_regrets: list[float] = field(default_factory=list)

    def __add__(self, other: Figures) -> Figures:
        """Both sets of runs as one (every figure is a percentile, a mean or a count of runs)."""
        return Figures(
            regrets={s: self.regrets[s] + other.regrets[s] for s in self.regrets},
            runs=self.runs + other.runs,
            best_regrets=self.best_regrets + other.best_regrets,
            mean_truth_regrets=self.mean_truth_regrets + other.mean_truth_regrets,
            changes=self.changes + other.changes,
            small_changes=self.small_changes + other.small_changes,
            missed=self.missed + other.missed,
            worst=self.worst + other.worst,
            floor_regrets=self.floor_regrets + other.floor_regrets,
        )

    def count(self, memory: int, current: int, truth: Truth, scores: list[float]) -> None:
        """Add one cost-strategy decision to the change counts."""
        at_current = scores[current - truth.sizes.start]
        if memory != current:
            self.changes += 1
            self.small_changes += 1 - scores[memory - truth.sizes.start] / at_current < MIN_IMPROVEMENT
        elif 1 - min(scores) / at_current >= MIN_IMPROVEMENT:
            self.missed += 1

    def summary(self, strategy: str = "cost") -> dict[str, float]:
        values = sorted(self.regrets[strategy])
        return {
            "medianRegretPct": round(_percentile(values, 50), 3),
            "p90RegretPct": round(_percentile(values, 90), 3),
            "p95RegretPct": round(_percentile(values, 95), 3),
        }

    def means(self) -> dict[str, float]:
        n = len(self.runs)
        return {
            "invocations": round(sum(r.invocations for r in self.runs) / n, 2),
            "targetGbSeconds": round(sum(r.target_gb_seconds for r in self.runs) / n, 4),
            "tunerGbSeconds": round(sum(r.tuner_gb_seconds for r in self.runs) / n, 4),
            "controlPlaneCalls": round(sum(r.control_calls for r in self.runs) / n, 1),
            "stateTransitions": round(sum(r.transitions for r in self.runs) / n, 1),
            "tuningUsd": sum(r.dollars for r in self.runs) / n,
        }


def evaluate(
    records: Sequence[CurveRecord],
    *,
    seeds: int,
    strategies: Sequence[str] = STRATEGIES,
    ours_num: int | None = 10,
    pt_num: int | None = power_tuning.NUM,
    min_improvement: float = MIN_IMPROVEMENT,
) -> tuple[Figures, Figures]:
    """Both engines on every record x seed x strategy: regrets per strategy, cost-strategy runs.

    An engine whose ``num`` is None is not run (its figures stay empty)."""
    ours = Figures({s: [] for s in strategies}, [])
    theirs = Figures({s: [] for s in strategies}, [])
    for record in records:
        curve = Curve(record)
        truth = Truth.of(curve)
        mean_costs = truth.mean_duration_costs()
        for strategy in strategies:
            scores = truth.scores(strategy)
            for seed in range(seeds):
                if ours_num is not None:
                    mine, decision = run_ours(
                        curve,
                        seed,
                        strategy,
                        num=ours_num,
                        architecture=record.architecture,
                        min_improvement=min_improvement,
                    )
                    ours.regrets[strategy].append(truth.regret_pct(mine.memory, strategy, scores))
                if pt_num is not None:
                    base = run_power_tuning(curve, seed, strategy, num=pt_num, architecture=record.architecture)
                    theirs.regrets[strategy].append(truth.regret_pct(base.memory, strategy, scores))
                if strategy != "cost":
                    continue
                if ours_num is not None:
                    ours.best_regrets.append(truth.regret_pct(decision.best_memory_size, strategy, scores))
                    ours.runs.append(mine)
                    ours.mean_truth_regrets.append(truth.regret_pct(mine.memory, strategy, mean_costs))
                    ours.count(mine.memory, curve.min_mb, truth, scores)
                    measured = ", ".join(f"{row.memory_size}x{row.invocations}" for row in decision.sizes)
                    ours.worst.append((ours.regrets[strategy][-1], record.id, seed, f"{measured}: {decision.summary}"))
                    ours.floor_regrets += [
                        rule_floor_regret(
                            curve, truth, scores, FLOOR_SEED_BASE + seed * FLOOR_REPEATS + k, ours_num, min_improvement
                        )
                        for k in range(FLOOR_REPEATS)
                    ]
                if pt_num is not None:
                    theirs.runs.append(base)
                    theirs.mean_truth_regrets.append(truth.regret_pct(base.memory, strategy, mean_costs))
                    theirs.count(base.memory, curve.min_mb, truth, scores)
    return ours, theirs


def _request(curve: Curve, strategy: str, num: int, min_improvement: float) -> TuningRequest:
    return TuningRequest.model_validate(
        {
            "targets": ["replayed-curve"],
            "memorySizes": sorted({curve.min_mb, curve.max_mb}),
            "strategy": strategy,
            "invocations": num,
            "minImprovement": min_improvement,
        }
    )


def rule_floor_regret(
    curve: Curve, truth: Truth, scores: list[float], seed: int, num: int, min_improvement: float = MIN_IMPROVEMENT
) -> float:
    """The cost regret of an engine told where the true optimum lies: the minImprovement rule's floor.

    It spends the whole budget (:func:`engine.budget` at ``num``) on the current size (the curve's
    smallest) and the true optimum, half each, and decides with :func:`engine.decide` under the
    default (or the given) ``minImprovement``. No size is picked wrongly, so what remains is what the rule costs
    under the replay's noise: where the true saving lies close to ``minImprovement``, an estimate
    from that budget falls on either side of it, and a kept size scores the saving it left. It is a
    reference, not a proof: an engine that also leans on other sizes (the fitted curve) could
    estimate the saving a little better, but the rule itself is the same for every engine that keeps
    the current size below ``minImprovement``."""
    current = curve.min_mb
    optimum = truth.sizes[scores.index(min(scores))]
    if optimum == current:
        return 0.0
    request = _request(curve, "cost", num, min_improvement)
    replay = Replay(curve, seed)
    each = engine.budget(request) // 2
    observed = []
    for memory in (current, optimum):
        results = [replay(memory) for _ in range(each)]
        observed.append(
            engine.SizeObservation(
                memory_size=memory, durations_ms=[r[0] for r in results], billed_durations_ms=[r[1] for r in results]
            )
        )
    return truth.regret_pct(engine.decide(request, current, observed).memory_size, "cost", scores)


def _percentile(ordered: Sequence[float], percentile: float) -> float:
    # Linear between closest ranks, as numpy's default.
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * percentile / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def select(records: Sequence[CurveRecord], min_span: float = MIN_SPAN) -> list[CurveRecord]:
    """The curves spanning at least ``min_span`` x in memory."""
    return [r for r in records if r.memory_mb[-1] / r.memory_mb[0] >= min_span]


def fine_grained(record: CurveRecord) -> bool:
    """Neighbouring sizes closer than ``COARSE_STEP`` (median): the data README's fine-grained runs,
    whose differences between neighbours are mostly noise (one mean of ``num`` invocations each)."""
    sizes = record.memory_mb
    return statistics.median(b / a for a, b in itertools.pairwise(sizes)) < COARSE_STEP


@dataclass(frozen=True)
class Goal:
    text: str
    holds: bool
    detail: str


def goals(default: tuple[Figures, Figures], equal: tuple[Figures, Figures], label: str = "") -> list[Goal]:
    """The issue's goals, each with whether it holds on these figures.

    Each p95 goal also names the minImprovement rule's floor at that budget (:func:`rule_floor_regret`)
    and says when its limit lies below it: no engine that keeps the current size below
    ``minImprovement`` can be expected to meet such a limit on these curves."""
    (ours, theirs), (ours_at_60, theirs_at_30) = default, equal
    o, t = ours.summary(), theirs.summary()
    om, tm = ours.means(), theirs.means()
    o60, t30 = ours_at_60.summary(), theirs_at_30.summary()
    floor_30 = _percentile(sorted(ours.floor_regrets), 95)
    floor_60 = _percentile(sorted(ours_at_60.floor_regrets), 95)
    suffix = f" ({label})" if label else ""

    def p95(text: str, ours_p95: float, limit: float, reference: str, floor: float) -> Goal:
        below = " (the limit is below the floor)" if limit < floor else ""
        return Goal(
            text + suffix,
            ours_p95 <= limit,
            f"{ours_p95:.2f} % vs {reference}; the minImprovement rule's floor {floor:.2f} %{below}",
        )

    return [
        Goal(f"our median cost regret <= 1 %{suffix}", o["medianRegretPct"] <= 1, f"{o['medianRegretPct']:.2f} %"),
        p95(
            "our p95 cost regret <= Power Tuning's",
            o["p95RegretPct"],
            t["p95RegretPct"],
            f"{t['p95RegretPct']:.2f} %",
            floor_30,
        ),
        Goal(
            f"<= 50 % of its invocations{suffix}",
            om["invocations"] <= 0.5 * tm["invocations"],
            f"{om['invocations']:.1f} vs {tm['invocations']:.1f}",
        ),
        Goal(
            f"<= 50 % of its target GB-seconds{suffix}",
            om["targetGbSeconds"] <= 0.5 * tm["targetGbSeconds"],
            f"{om['targetGbSeconds']:.3f} vs {tm['targetGbSeconds']:.3f}",
        ),
        p95(
            "at Power Tuning's budget (60): our p95 <= half of its p95",
            o60["p95RegretPct"],
            0.5 * t["p95RegretPct"],
            f"{t['p95RegretPct']:.2f} % / 2",
            floor_60,
        ),
        p95(
            "at our budget (30): our p95 <= half of Power Tuning's p95 (num 5)",
            o["p95RegretPct"],
            0.5 * t30["p95RegretPct"],
            f"{t30['p95RegretPct']:.2f} % / 2",
            floor_30,
        ),
    ]


def _tables(name: str, default: tuple[Figures, Figures], equal: tuple[Figures, Figures], worst: int = 0) -> list[str]:
    (ours, theirs), (ours_at_60, theirs_at_30) = default, equal
    lines = [f"-- {name} --"]
    rows = [["engine (budget)", *[f"{s} p50/p90/p95 %" for s in STRATEGIES]]]
    for label, figures in (
        ("ours (default, 30)", ours),
        ("Power Tuning (default, 60)", theirs),
        ("ours at Power Tuning's budget (60)", ours_at_60),
        ("Power Tuning at our budget (num 5, 30)", theirs_at_30),
    ):
        cells = []
        for strategy in STRATEGIES:
            s = figures.summary(strategy)
            cells.append(f"{s['medianRegretPct']:.2f} / {s['p90RegretPct']:.2f} / {s['p95RegretPct']:.2f}")
        rows.append([label, *cells])
    lines += text_table(rows, right={1, 2, 3})
    for label, figures in (("default, 30", ours), ("at 60", ours_at_60)):
        best = sorted(figures.best_regrets)
        lines.append(
            f"ours ({label}), best measured size before the minImprovement rule: cost p50/p90/p95 "
            + " / ".join(f"{_percentile(best, q):.2f}" for q in (50, 90, 95))
            + " %"
        )
    for label, figures in (("30", ours), ("60", ours_at_60)):
        floor = sorted(figures.floor_regrets)
        lines.append(
            f"the minImprovement rule's floor at {label} (an engine told the true optimum, measuring only it and "
            f"the current size, {FLOOR_REPEATS} replays a run): cost p50/p90/p95 "
            + " / ".join(f"{_percentile(floor, q):.2f}" for q in (50, 90, 95))
            + " %"
        )
    old = []
    for label, figures in (
        ("ours (30)", ours),
        ("Power Tuning (60)", theirs),
        ("ours at 60", ours_at_60),
        ("Power Tuning at num 5", theirs_at_30),
    ):
        regrets = sorted(figures.mean_truth_regrets)
        old.append(f"{label} " + " / ".join(f"{_percentile(regrets, q):.2f}" for q in (50, 90, 95)))
    lines.append(
        "the same cost decisions against the old mean-duration truth (memory x mean Duration, not billed; "
        "not judged): p50/p90/p95 % " + "; ".join(old)
    )
    rows = [["engine (cost strategy)", "invocations", "target GB-s", "tuner GB-s", "calls", "transitions", "tuning $"]]
    for label, figures in (
        ("ours (default)", ours),
        ("Power Tuning (default)", theirs),
        ("ours at 60", ours_at_60),
        ("Power Tuning at num 5", theirs_at_30),
    ):
        m = figures.means()
        rows.append(
            [
                label,
                f"{m['invocations']:.1f}",
                f"{m['targetGbSeconds']:.3f}",
                f"{m['tunerGbSeconds']:.3f}",
                f"{m['controlPlaneCalls']:.1f}",
                f"{m['stateTransitions']:.1f}",
                f"{m['tuningUsd']:.6f}",
            ]
        )
    lines += text_table(rows, right={1, 2, 3, 4, 5, 6})
    for label, figures in (("ours (default)", ours), ("Power Tuning (default)", theirs)):
        runs = len(figures.runs)
        lines.append(
            f"{label}, cost, against the current size: changed it in {figures.changes} of {runs} runs, "
            f"{figures.small_changes} of them for a true saving under {MIN_IMPROVEMENT:.0%}; kept it in "
            f"{figures.missed} runs where the optimum saves {MIN_IMPROVEMENT:.0%} or more"
        )
    if worst:
        lines.append(f"ours (default), cost, the {worst} worst runs (measured sizes x invocations: decision):")
        lines += [
            f"  {regret:6.2f} %  {curve} seed {seed}: {what}"
            for regret, curve, seed, what in sorted(ours.worst, reverse=True)[:worst]
        ]
    return lines


def measure(
    records: Sequence[CurveRecord], seeds: int, min_improvement: float = MIN_IMPROVEMENT
) -> tuple[tuple[Figures, Figures], tuple[Figures, Figures]]:
    """Default budgets, then equal budgets (ours at 60, Power Tuning at 30)."""
    default = evaluate(records, seeds=seeds, min_improvement=min_improvement)
    ours_at_60, _ = evaluate(records, seeds=seeds, ours_num=20, pt_num=None, min_improvement=min_improvement)
    _, theirs_at_30 = evaluate(records, seeds=seeds, ours_num=None, pt_num=5)
    return default, (ours_at_60, theirs_at_30)


Measured = tuple[tuple[Figures, Figures], tuple[Figures, Figures]]  # what measure() returns


def _combined(a: Measured, b: Measured) -> Measured:
    """Two sets' :func:`measure` figures as those of both sets of curves."""
    return tuple(tuple(x + y for x, y in zip(pa, pb, strict=True)) for pa, pb in zip(a, b, strict=True))  # type: ignore[return-value]


def parametric_records() -> list[CurveRecord]:
    """The simulator's preset profiles as curves (their noiseless duration every 64 MB from the memory
    floor to 3,008 MB): the parametric suite (its cost optimum is the memory floor for most presets,
    not for gc-heavy's)."""
    records = []
    for name, profile in PROFILES.items():
        floor = memory_floor_mb(profile)
        sizes = sorted({*(m for m in range(128, 3009, 64) if m >= floor), 3008})
        records.append(
            CurveRecord(
                id=f"preset:{name}",
                source="autotuner/embedded/simulated_function.py",
                memory_mb=sizes,
                mean_duration_ms=[expected_duration_ms(profile, m) for m in sizes],
            )
        )
    return records


def chart(record: CurveRecord, path: Path, seed: int = 0) -> engine.Decision:
    """A PNG of one curve: its true (billed) cost per invocation over the range, what each engine measured
    (our sizes labelled with their invocation counts) and what each chose (cost strategy)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    curve = Curve(record)
    truth = Truth.of(curve)
    costs = truth.scores("cost")  # memory x expected Billed Duration
    cheapest = min(costs)
    mine, decision = run_ours(curve, seed, "cost", architecture=record.architecture)
    theirs = run_power_tuning(curve, seed, "cost", architecture=record.architecture)
    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(list(truth.sizes), [c / cheapest for c in costs], color="0.6", label="true billed cost (replayed curve)")
    measured = [row for row in decision.sizes if row.relative_cost is not None]
    axes.scatter(
        [row.memory_size for row in measured],
        [costs[row.memory_size - curve.min_mb] / cheapest for row in measured],
        color="tab:blue",
        zorder=3,
        label=f"ours measured ({mine.invocations} invocations)",
    )
    for row in measured:
        y = costs[row.memory_size - curve.min_mb] / cheapest
        axes.annotate(f"{row.invocations}x", (row.memory_size, y), textcoords="offset points", xytext=(4, 6))
    values = power_values(curve)
    axes.scatter(
        values,
        [costs[v - curve.min_mb] / cheapest for v in values],
        marker="x",
        color="tab:orange",
        zorder=3,
        label=f"Power Tuning measured ({theirs.invocations} invocations)",
    )
    for memory, colour, who in ((mine.memory, "tab:blue", "ours"), (theirs.memory, "tab:orange", "Power Tuning")):
        axes.axvline(memory, color=colour, linestyle="--", linewidth=1, label=f"{who} chose {memory} MB")
    axes.set_xscale("log", base=2)
    ticks = [m for m in (128, 256, 512, 1024, 2048, 3008, 4096, 10240) if curve.min_mb <= m <= curve.max_mb]
    axes.set_xticks(ticks, [str(m) for m in ticks])
    axes.set_xlabel("memory (MB)")
    axes.set_ylabel("cost per invocation / cheapest")
    axes.set_title(f"{record.id}: {record.workload[:70]}", fontsize=9)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    return decision


def main(quick: bool = False, argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks realcurves", description=__doc__.split("\n")[0])
    parser.add_argument("--curves", type=Path, default=DEFAULT_CURVES_PATH, help="a file in the data file's format")
    parser.add_argument("--seeds", type=int, default=QUICK_SEEDS if quick else SEEDS, help="seeds per curve")
    parser.add_argument("--min-span", type=float, default=MIN_SPAN, help="keep curves spanning at least this x")
    parser.add_argument("--json", action="store_true", help="end with one JSON line (cost strategy, default budgets)")
    parser.add_argument("--worst", type=int, default=0, help="list our N worst cost runs of each curve set")
    parser.add_argument("--chart", type=Path, help="draw one curve (--chart-curve) to this PNG and stop")
    parser.add_argument("--chart-curve", default="s001", help="the curve --chart draws")
    parser.add_argument(
        "--min-improvement",
        type=_fraction,
        default=MIN_IMPROVEMENT,
        help=f"our engine's minImprovement, 0-1 (default {MIN_IMPROVEMENT:g}, the request's; other values are checks)",
    )
    parser.add_argument(
        "--tuning-only",
        action="store_true",
        help="measure and judge only the curves that are not held out (for choosing the engine's constants)",
    )
    args = parser.parse_args(list(argv or []))
    if args.chart is not None:
        try:
            record = next(r for r in load_curves(args.curves) if r.id == args.chart_curve)
        except StopIteration:
            print(f"{args.curves}: no curve {args.chart_curve!r}", file=sys.stderr)
            return 2
        print(chart(record, args.chart).summary)
        return 0
    try:
        records = select(load_curves(args.curves), args.min_span)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    if not records:
        print(f"{args.curves}: no curve spans at least {args.min_span:g}x in memory", file=sys.stderr)
        return 2
    fine = [r for r in records if fine_grained(r)]
    records = [r for r in records if not fine_grained(r)] if len(fine) < len(records) else records
    held = [r for r in records if held_out(r.id)]
    tuned = [r for r in records if not held_out(r.id)]
    if args.tuning_only:
        if not tuned:
            print(f"{args.curves}: every curve is held out", file=sys.stderr)
            return 2
        records, held, fine = tuned, [], [f for f in fine if not held_out(f.id)]
    print(
        f"{len(records)} curves spanning >= {args.min_span:g}x with coarse steps from {args.curves}, "
        f"{args.seeds} seeds each: {', '.join(r.id for r in records)}"
    )
    if args.min_improvement != MIN_IMPROVEMENT:
        print(f"ours with minImprovement {args.min_improvement:g}, not the request's default {MIN_IMPROVEMENT:g}")
    if args.tuning_only:
        print("the held-out curves are left out (--tuning-only)")
    else:
        print(f"held out ({len(held)}, never used to choose the engine's constants): {', '.join(r.id for r in held)}")
    # Each set measured once; all curves are the two together (each run depends on its curve and seed only).
    tuned_figures = measure(tuned, args.seeds, args.min_improvement) if tuned else None
    held_figures = measure(held, args.seeds, args.min_improvement) if held else None
    if tuned_figures and held_figures:
        everything = _combined(tuned_figures, held_figures)
    else:
        everything = tuned_figures or held_figures
    assert everything is not None  # records is not empty
    what = "tuning" if args.tuning_only else "all"
    # --worst names runs of the tuning curves only: held-out runs one by one are not for choosing.
    lines = _tables(f"{what} {len(records)} curves", *everything, worst=0 if held else args.worst)
    verdicts = goals(*everything, label="tuning" if args.tuning_only else "")
    if held and tuned:
        # The tuning curves on their own: what the engine's constants may be chosen on.
        assert tuned_figures is not None and held_figures is not None
        lines += _tables(f"tuning: {len(tuned)} curves", *tuned_figures, worst=args.worst)
        verdicts += goals(*tuned_figures, label="tuning")
        lines += _tables(f"held out: {len(held)} curves", *held_figures)
        verdicts += goals(*held_figures, label="held out")
    if fine and records is not fine:
        # Shown, not judged: their optimum is often one neighbour's noise (README).
        lines += _tables(
            f"fine-grained, not in the goals: {len(fine)} curves", *measure(fine, args.seeds, args.min_improvement)
        )
    if args.curves == DEFAULT_CURVES_PATH:
        presets = parametric_records()
        lines += _tables(
            f"parametric suite (simulated presets, not in the goals): {len(presets)}",
            *measure(presets, args.seeds, args.min_improvement),
        )
    print("\n".join(lines))
    print("goals:")
    for goal in verdicts:
        print(f"  [{'holds' if goal.holds else 'FAILS'}] {goal.text}: {goal.detail}")
    if args.json:
        (ours, theirs), _ = everything
        keys = ("invocations", "targetGbSeconds")
        print(
            json.dumps(
                {
                    "curves": len(records),
                    "costTruth": "billed",
                    "ours": {**_pick(ours.summary(), ("medianRegretPct", "p95RegretPct")), **_pick(ours.means(), keys)},
                    "powerTuning": {
                        **_pick(theirs.summary(), ("medianRegretPct", "p95RegretPct")),
                        **_pick(theirs.means(), keys),
                    },
                }
            )
        )
    return 0


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"minImprovement must be a number from 0 to 1, got {text!r}")
    return value


def _pick(values: dict[str, float], keys: Sequence[str]) -> dict[str, float]:
    return {key: values[key] for key in keys}


if __name__ == "__main__":
    sys.exit(main(argv=sys.argv[1:]))
