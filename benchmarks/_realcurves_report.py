"""The fair benchmark's text: tables with their intervals, per-curve wins and losses, and the goals."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks._realcurves_runs import CURRENT_KINDS
from benchmarks._realcurves_stats import ENGINES, Outcome, Stats, _matrix, bootstrap, mean, p95, per_curve, select
from benchmarks._table import text_table
from emulator.curves import CurveRecord


@dataclass(frozen=True)
class Goal:
    text: str
    holds: bool
    detail: str


def _ci(value: tuple[float, float, float]) -> str:
    return f"{value[0]:.2f} [{value[1]:.2f}, {value[2]:.2f}]"


def _label(engine: str, rows: Sequence[Outcome]) -> str:
    invocations = sum(r.run.invocations for r in rows) / len(rows)
    num = {"ours": "our engine, invocations 10, rule off", "powerTuning": "Power Tuning, num 10"}.get(engine)
    if num is None:
        sizes = {len(r.run.measured_prices or {}) for r in rows}
        per = round(invocations * len(rows) / sum(len(r.run.measured_prices or {}) for r in rows))
        num = f"Power Tuning, num {per} (equal budget; {min(sizes)}-{max(sizes)} sizes)"
    return f"{num}: {invocations:.1f} invocations"


def _paired(
    ours: Sequence[Outcome], theirs: Sequence[Outcome], statistic: Callable[[np.ndarray], np.ndarray], factor: float
) -> tuple[float, float, float]:
    """ours' statistic minus factor x theirs', with its curve-bootstrap interval (the same curves resampled)."""
    _, a = _matrix(ours, lambda r: r.regret)
    _, b = _matrix(theirs, lambda r: r.regret)
    return bootstrap(lambda x, y: statistic(x) - factor * statistic(y), a, b)


def goals(rows: Sequence[Outcome], curves: set[str], label: str) -> list[Goal]:
    """The benchmark's goals on one set of curves, each with its paired curve-bootstrap interval."""
    ours, theirs, equal = (select(rows, e, curves=curves) for e in ENGINES)
    o, t, q = Stats.of(ours), Stats.of(theirs), Stats.of(equal)
    suffix = f" ({label})"
    out = []
    share = o.invocations / t.invocations
    for name, stat, mine, limit in (("mean", mean, o.mean, t.mean), ("p95", p95, o.p95, t.p95)):
        diff = _paired(ours, theirs, stat, 1.0)
        out.append(
            Goal(
                f"at <= 50 % of Power Tuning's invocations ({share:.0%}): our {name} cost regret <= its{suffix}",
                share <= 0.5 and mine[0] <= limit[0],
                f"{_ci(mine)} % vs {_ci(limit)} %; ours - its {_ci(diff)} pp",
            )
        )
    for name, stat, mine, limit, factor in (
        ("mean", mean, o.mean, q.mean, 0.75),
        ("p95", p95, o.p95, q.p95, 1.0),
    ):
        diff = _paired(ours, equal, stat, factor)
        times = f"{factor:g} x " if factor != 1 else ""
        out.append(
            Goal(
                f"at an equal budget: our {name} <= {times}Power Tuning's{suffix}",
                mine[0] <= factor * limit[0],
                f"{_ci(mine)} % vs {times}{_ci(limit)} %; ours - {times}its {_ci(diff)} pp",
            )
        )
    mine_rule, its_rule = select(rows, "ours@rule", curves=curves), select(rows, "powerTuning@rule", curves=curves)
    needless = (sum(r.needless for r in mine_rule), sum(r.needless for r in its_rule))
    misses = (sum(r.miss for r in mine_rule), sum(r.miss for r in its_rule))
    out.append(
        Goal(
            f"needless changes <= half of Power Tuning's{suffix}",
            needless[0] <= needless[1] / 2,
            f"{needless[0]} vs {needless[1]} of {len(mine_rule)} runs",
        )
    )
    out.append(
        Goal(
            f"misses <= Power Tuning's{suffix}",
            misses[0] <= misses[1],
            f"{misses[0]} vs {misses[1]} of {len(mine_rule)} runs",
        )
    )
    out.append(
        Goal(
            f"tuning dollars per decision <= Power Tuning's (num 10){suffix}",
            o.tuning_usd <= t.tuning_usd,
            f"${o.tuning_usd:.6f} vs ${t.tuning_usd:.6f} (equal budget ${q.tuning_usd:.6f})",
        )
    )
    return out


def tables(rows: Sequence[Outcome], curves: set[str], name: str, strategies: Sequence[str]) -> list[str]:
    """One set of curves: regrets with intervals, by current size, other strategies, churn, tuning cost."""
    lines = [f"-- {name} --"]
    head = ["engine (what was run)", "runs", "cost mean % [95 % CI]", "cost p95 % [95 % CI]"]
    table = [head]
    for engine in ENGINES:
        chosen = select(rows, engine, curves=curves)
        s = Stats.of(chosen)
        table.append([_label(engine, chosen), str(s.runs), _ci(s.mean), _ci(s.p95)])
    lines += text_table(table, right={1, 2, 3})
    table = [["current size", *(f"{e} mean / p95 % [95 % CI]" for e in ENGINES)]]
    for kind in CURRENT_KINDS:
        cells = []
        for engine in ENGINES:
            s = Stats.of(select(rows, engine, kind=kind, curves=curves))
            cells.append(f"{_ci(s.mean)} / {_ci(s.p95)}")
        table.append([kind, *cells])
    lines += text_table(table, right={1, 2, 3})
    for strategy in strategies:
        if strategy == "cost":
            continue
        cells = []
        for engine in ENGINES[:2]:
            s = Stats.of(select(rows, engine, strategy, curves=curves))
            cells.append(f"{engine} mean {_ci(s.mean)} %, p95 {_ci(s.p95)} %")
        lines.append(f"{strategy} regret (reported, not judged): " + "; ".join(cells))
    table = [["under the rule", "runs", "changes", "needless", "misses", "regret above the rule mean / p95 % [CI]"]]
    for engine in ("ours@rule", "powerTuning@rule"):
        ruled = select(rows, engine, curves=curves)
        above = Stats.of(ruled, lambda r: r.above_rule)
        changes = sum(r.chosen != r.current for r in ruled)
        table.append(
            [
                engine,
                str(len(ruled)),
                str(changes),
                str(sum(r.needless for r in ruled)),
                str(sum(r.miss for r in ruled)),
                f"{_ci(above.mean)} / {_ci(above.p95)}",
            ]
        )
    lines += text_table(table, right={1, 2, 3, 4})
    table = [
        [
            "tuning cost per decision",
            "invocations",
            "cold starts",
            "target GB-s",
            "tuner GB-s",
            "calls",
            "transitions",
            "dollars",
        ]
    ]
    for engine in ENGINES:
        chosen = select(rows, engine, curves=curves)
        s = Stats.of(chosen)
        table.append(
            [
                engine,
                f"{s.invocations:.1f}",
                f"{s.cold_starts:.1f}",
                f"{s.target_gb_seconds:.3f}",
                f"{s.tuner_gb_seconds:.3f}",
                f"{s.control_calls:.1f}",
                f"{s.transitions:.1f}",
                f"{s.tuning_usd:.6f}",
            ]
        )
    lines += text_table(table, right={1, 2, 3, 4, 5, 6, 7})
    for other in ENGINES[1:]:
        verdict = per_curve(select(rows, "ours", curves=curves), select(rows, other, curves=curves))
        lines.append(
            f"per curve, mean cost regret, ours vs {other} (ties within 0.05 pp): {len(verdict['wins'])} wins, "
            f"{len(verdict['losses'])} losses, {len(verdict['ties'])} ties"
        )
        for key in ("wins", "losses"):
            listed = ", ".join(f"{c} {x:.2f}/{y:.2f}" for c, x, y in sorted(verdict[key], key=lambda v: v[1] - v[2]))
            lines.append(f"  {key}: {listed or '-'}")
    return lines


def report(
    rows: Sequence[Outcome], records: Sequence[CurveRecord], held: set[str], args: argparse.Namespace, worst: int
) -> list[str]:
    """The whole text: what was run, each set's tables, the worst tuning runs and the goals."""
    everything = {r.id for r in records}
    tuning = everything - held
    runs = len(select(rows, "ours", curves=everything))
    lines = [
        f"{len(records)} curves spanning >= {args.min_span:g}x with coarse steps from {args.curves}, "
        f"{args.seeds} seeds x {len(CURRENT_KINDS)} current sizes ({', '.join(CURRENT_KINDS)}) = "
        f"{runs} runs per engine and strategy",
        f"held out ({len(held)}, never used to choose the engine's constants): {', '.join(sorted(held)) or '-'}",
        f"churn rule for both engines: minImprovement {args.min_improvement:g}",
    ]
    sets = [(f"all {len(everything)} curves", everything)]
    if held and tuning:
        sets += [(f"tuning: {len(tuning)} curves", tuning), (f"held out: {len(held)} curves", held)]
    for name, curves in sets:
        lines += tables(rows, curves, name, args.strategies)
    if worst and tuning:
        ordered = sorted(select(rows, "ours", curves=tuning), key=lambda r: -r.regret)[:worst]
        lines.append(f"ours, cost, the {worst} worst tuning runs (measured sizes x invocations: decision):")
        for r in ordered:
            assert r.run.decision is not None
            measured = ", ".join(f"{row.memory_size}x{row.invocations}" for row in r.run.decision.sizes)
            lines.append(
                f"  {r.regret:6.2f} %  {r.curve} seed {r.seed} current {r.kind}: {measured}: {r.run.decision.summary}"
            )
    lines.append("goals:")
    for goal in judged(rows, records, held):
        lines.append(f"  [{'holds' if goal.holds else 'FAILS'}] {goal.text}: {goal.detail}")
    return lines


def judged(rows: Sequence[Outcome], records: Sequence[CurveRecord], held: set[str]) -> list[Goal]:
    """Every goal, on all the curves, then on the tuning and the held-out sets when both are there."""
    everything = {r.id for r in records}
    tuning = everything - held
    sets = [("all", everything)]
    if held and tuning:
        sets += [("tuning", tuning), ("held out", held)]
    return [goal for label, curves in sets for goal in goals(rows, curves, label)]
