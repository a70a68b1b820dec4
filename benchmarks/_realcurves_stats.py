"""The fair benchmark's runs and their statistics: regrets, churn, tuning cost, curve-bootstrap intervals.

:func:`evaluate` runs every (curve, seed, current size) once per engine and returns :class:`Outcome`
rows; :class:`Stats` summarises a set of them. Intervals are curve-bootstrap 95 % intervals: the
curves are resampled with replacement (:data:`BOOTSTRAP` times, a fixed generator seed), each
bringing all of its runs, and the statistic is recomputed (percentiles 2.5 and 97.5). A curve's runs
are not independent (they share its shape), so resampling runs would understate the spread.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks import _realcurves_runs, power_tuning
from benchmarks._realcurves_truth import Truth
from emulator.curves import Curve, CurveRecord

STRATEGIES = ("cost", "speed", "balanced")
BOOTSTRAP = 1000
BOOTSTRAP_SEED = 20261207
TIE_PP = 0.05  # per-curve mean regrets closer than this (percentage points) are a tie
ENGINES = ("ours", "powerTuning", "powerTuningEqualBudget")


@dataclass(frozen=True)
class Outcome:
    """One engine's decision on one (curve, seed, current size, strategy), scored against the truth."""

    engine: str
    curve: str
    seed: int
    kind: str  # which current size (_realcurves_runs.CURRENT_KINDS)
    strategy: str
    regret: float  # % against the true optimum over the whole range
    run: _realcurves_runs.Run
    current: int
    chosen: int  # what is scored: under the rule, the size kept or changed to
    # Under the minImprovement rule (churn rows only): changed for a true saving below it, kept
    # although the true saving reaches it, and the regret against the rule's own target.
    needless: bool = False
    miss: bool = False
    above_rule: float = 0.0


def evaluate(
    records: Sequence[CurveRecord],
    seeds: int,
    *,
    strategies: Sequence[str] = STRATEGIES,
    num: int = 10,
    rule: float = _realcurves_runs.MIN_IMPROVEMENT,
    progress: Callable[[str], None] | None = None,
) -> list[Outcome]:
    """Every engine on every record x seed x current size (x strategy for ours and Power Tuning at num 10).

    Rows: ``ours`` (our engine at ``num``, rule off), ``powerTuning`` (num 10),
    ``powerTuningEqualBudget`` (cost; the num whose mean invocations are closest to ours), and the
    churn rows ``ours@rule`` / ``powerTuning@rule`` (cost, both under ``rule``)."""
    rows: list[Outcome] = []
    sizes_per_run: list[int] = []
    for record in records:
        curve = Curve(record)
        truth = Truth.of(curve)
        scores = {s: truth.scores(s) for s in strategies}
        cost = truth.scores("cost")
        for seed in range(seeds):
            draws = _realcurves_runs.Draws(curve, seed)
            # Two kinds may name the same current size (the largest may be the nearest 1,024 MB): a run is
            # a function of (curve, seed, current, strategy, rule), so it is made once.
            memo: dict[tuple[object, ...], _realcurves_runs.Run] = {}
            for kind, current in _realcurves_runs.current_sizes(record, seed).items():
                sizes_per_run.append(len(_realcurves_runs.power_values(curve, current)))
                for strategy in strategies:
                    for engine in ("ours", "powerTuning"):
                        key = (engine, current, strategy)
                        if key not in memo:
                            memo[key] = (
                                _realcurves_runs.run_ours(record, curve, draws, current, strategy, num=num)
                                if engine == "ours"
                                else _realcurves_runs.run_power_tuning(record, curve, draws, current, strategy)
                            )
                        run = memo[key]
                        regret = truth.regret_pct(run.memory, strategy, scores[strategy])
                        rows.append(Outcome(engine, record.id, seed, kind, strategy, regret, run, current, run.memory))
                key = ("ours@rule", current)
                if key not in memo:
                    memo[key] = _realcurves_runs.run_ours(
                        record, curve, draws, current, "cost", num=num, min_improvement=rule
                    )
                ruled = memo[key]
                rows.append(_ruled("ours@rule", record.id, seed, kind, ruled, ruled.memory, current, truth, cost, rule))
                base = memo[("powerTuning", current, "cost")]
                kept = _realcurves_runs.power_tuning_keeps(base, current, rule)
                rows.append(_ruled("powerTuning@rule", record.id, seed, kind, base, kept, current, truth, cost, rule))
        if progress:
            progress(record.id)
    ours = [r.run.invocations for r in rows if r.engine == "ours" and r.strategy == "cost"]
    per_size = sum(sizes_per_run) / len(sizes_per_run)
    equal = min(range(1, power_tuning.NUM + 1), key=lambda n: (abs(n * per_size - sum(ours) / len(ours)), n))
    for record in records:
        curve = Curve(record)
        truth = Truth.of(curve)
        cost = truth.scores("cost")
        for seed in range(seeds):
            draws = _realcurves_runs.Draws(curve, seed)
            for kind, current in _realcurves_runs.current_sizes(record, seed).items():
                run = _realcurves_runs.run_power_tuning(record, curve, draws, current, "cost", num=equal)
                rows.append(
                    Outcome(
                        "powerTuningEqualBudget",
                        record.id,
                        seed,
                        kind,
                        "cost",
                        truth.regret_pct(run.memory, "cost", cost),
                        run,
                        current,
                        run.memory,
                    )
                )
    return rows


def _ruled(
    engine: str,
    curve: str,
    seed: int,
    kind: str,
    run: _realcurves_runs.Run,
    chosen: int,
    current: int,
    truth: Truth,
    cost: list[float],
    rule: float,
) -> Outcome:
    start = truth.sizes.start
    at_current, at_chosen, lowest = cost[current - start], cost[chosen - start], min(cost)
    best_saving = 1 - lowest / at_current
    target = at_current if best_saving < rule else lowest
    return Outcome(
        engine,
        curve,
        seed,
        kind,
        "cost",
        truth.regret_pct(chosen, "cost", cost),
        run,
        current,
        chosen,
        needless=chosen != current and 1 - at_chosen / at_current < rule,
        miss=chosen == current and best_saving >= rule,
        above_rule=(at_chosen / target - 1) * 100,
    )


def select(
    rows: Sequence[Outcome],
    engine: str,
    strategy: str = "cost",
    kind: str | None = None,
    curves: set[str] | None = None,
) -> list[Outcome]:
    """The rows of one engine and strategy, optionally of one current-size kind and a set of curves."""
    return [
        r
        for r in rows
        if r.engine == engine
        and r.strategy == strategy
        and (kind is None or r.kind == kind)
        and (curves is None or r.curve in curves)
    ]


def _matrix(rows: Sequence[Outcome], value: Callable[[Outcome], float]) -> tuple[list[str], np.ndarray]:
    """Curves x their runs (the same number each: seeds x current sizes), in a stable order."""
    by_curve: dict[str, list[float]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: (r.curve, r.seed, r.kind)):
        by_curve[r.curve].append(value(r))
    names = sorted(by_curve)
    return names, np.array([by_curve[c] for c in names], dtype=float)


def _resampled(curves: int) -> np.ndarray:
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    return rng.integers(0, curves, size=(BOOTSTRAP, curves))


def bootstrap(statistic: Callable[..., np.ndarray], *matrices: np.ndarray) -> tuple[float, float, float]:
    """A statistic of whole-run arrays (one per matrix) and its curve-bootstrap 95 % interval.

    ``statistic`` takes arrays of shape (replicates, runs), one per matrix, and returns one value
    per replicate; every matrix is resampled with the same curves (paired)."""
    point = float(statistic(*(m.reshape(1, -1) for m in matrices))[0])
    index = _resampled(matrices[0].shape[0])
    samples = statistic(*(m[index].reshape(BOOTSTRAP, -1) for m in matrices))
    low, high = np.percentile(samples, [2.5, 97.5])
    return point, float(low), float(high)


def mean(values: np.ndarray) -> np.ndarray:
    return values.mean(axis=1)


def p95(values: np.ndarray) -> np.ndarray:
    return np.percentile(values, 95, axis=1)


@dataclass(frozen=True)
class Stats:
    """One engine's rows summarised: regret mean and p95 with intervals, and means per decision."""

    runs: int
    mean: tuple[float, float, float]
    p95: tuple[float, float, float]
    invocations: float
    cold_starts: float
    target_gb_seconds: float
    tuner_gb_seconds: float
    control_calls: float
    transitions: float
    tuning_usd: float

    @classmethod
    def of(cls, rows: Sequence[Outcome], value: Callable[[Outcome], float] = lambda r: r.regret) -> Stats:
        _, matrix = _matrix(rows, value)
        n = len(rows)
        return cls(
            runs=n,
            mean=bootstrap(mean, matrix),
            p95=bootstrap(p95, matrix),
            invocations=sum(r.run.invocations for r in rows) / n,
            cold_starts=sum(r.run.cold_starts for r in rows) / n,
            target_gb_seconds=sum(r.run.target_gb_seconds for r in rows) / n,
            tuner_gb_seconds=sum(r.run.tuner_gb_seconds for r in rows) / n,
            control_calls=sum(r.run.control_calls for r in rows) / n,
            transitions=sum(r.run.transitions for r in rows) / n,
            tuning_usd=sum(r.run.dollars for r in rows) / n,
        )

    def contract(self) -> dict[str, float]:
        """The JSON contract's keys for this engine."""
        return {
            "meanRegretPct": round(self.mean[0], 4),
            "p95RegretPct": round(self.p95[0], 4),
            "invocations": round(self.invocations, 2),
            "targetGbSeconds": round(self.target_gb_seconds, 4),
            "tuningUsd": round(self.tuning_usd, 7),
        }


def per_curve(ours: Sequence[Outcome], theirs: Sequence[Outcome]) -> dict[str, list[tuple[str, float, float]]]:
    """Curves where our mean regret is lower (wins), higher (losses) or within TIE_PP (ties)."""
    names, a = _matrix(ours, lambda r: r.regret)
    names_b, b = _matrix(theirs, lambda r: r.regret)
    assert names == names_b
    result: dict[str, list[tuple[str, float, float]]] = {"wins": [], "losses": [], "ties": []}
    for name, x, y in zip(names, a.mean(axis=1), b.mean(axis=1), strict=True):
        key = "ties" if abs(x - y) <= TIE_PP else "wins" if x < y else "losses"
        result[key].append((name, float(x), float(y)))
    return result
