"""Decision quality on real measured curves: our engine against Power Tuning's own analysis, on fair terms.

``python -m benchmarks realcurves [--curves PATH] [--seeds N] [--strategies LIST] [--json]
[--tuning-only] [--worst N] [--min-improvement F] [--chart PNG --chart-curve ID]``

Each curve of the file (the format of ``benchmarks/data/real-curves.json``; at least three sizes)
spanning at least 4x in memory with coarse steps (median ratio of neighbouring sizes >= 1.3) is
replayed (emulator/curves.py: piecewise linear in log-memory, lognormal noise of sigma
0.12, 2 % spikes) and each engine tunes it once per (seed, current size). What is fair about it
(benchmarks/_realcurves_runs.py): both engines get the same range; the current size is the curve's smallest,
its measured size nearest 1,024 MB, its largest and one drawn at random, a quarter of the runs
each; the noise of the i-th invocation at a size is the same for both (common random numbers);
the first invocation of every new version is a cold start with billed INIT.

- **ours**: ``autotuner_core.decision.engine.next_round`` / ``decide``, the functions the product calls,
  at its default budget (``invocations`` 10) with the keep rule off (``minImprovement`` 0):
  Power Tuning has no keep rule, so decision quality is compared rule-free.
- **Power Tuning**: benchmarks/power_tuning.py at ``num`` 10, and at the ``num`` whose mean
  invocations are closest to ours (equal budget), on its defaults inside the range plus the
  range's ends and the current size.
- **Regret** is against the true optimum over the curve's whole range in 1 MB steps: cost is
  memory x the expected Billed Duration under the replay's noise (benchmarks/_realcurves_truth.py), speed
  the mean Duration, balanced the one definition in benchmarks/_realcurves_truth.py. Cost is the headline.
- **Churn**, apart: both engines under the same rule (default ``minImprovement`` 5 %; Power
  Tuning keeps the current size unless its own measured saving reaches it). Needless: a change
  whose true saving is below the rule; miss: the current size kept although the true saving
  reaches it; regret above the rule: cost(chosen) / cost(target) - 1, the target being the current
  size where the true saving is below the rule, else the optimum (reported, not judged).
- **Intervals**: every mean and p95 has a curve-bootstrap 95 % interval (benchmarks/_realcurves_stats.py).

Held out: the curves whose id hashes (sha256, first byte) to a multiple of 4 were never used to
choose the engine's constants; their figures are printed on their own, and so are the tuning
curves'. ``--tuning-only`` measures only the tuning curves; ``--worst`` lists tuning runs only.

The last line with ``--json`` is one JSON object: ``{"curves", "seeds", "ours": {"meanRegretPct",
"p95RegretPct", "invocations", "targetGbSeconds", "tuningUsd"}, "powerTuning": {...},
"powerTuningEqualBudget": {...}, "churn": {"ours": {"needless", "misses", "runs"}, "powerTuning":
{...}}}`` (cost strategy; invocations, GB-seconds and dollars are means per decision).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks import _realcurves_report, _realcurves_runs
from benchmarks._goals import Result, judge
from benchmarks._realcurves_runs import (
    CURRENT_KINDS,
    Draws,
    Run,
    current_sizes,
    power_values,
    run_ours,
    run_power_tuning,
)
from benchmarks._realcurves_stats import ENGINES, STRATEGIES, Outcome, Stats, evaluate, per_curve, select
from benchmarks._realcurves_truth import REPORTED_HALF_STEP_MS, SMOOTH_WIDTH_MS, TAIL_SIGMAS, Truth, expected_billed_ms
from emulator.curves import DEFAULT_CURVES_PATH, CurveRecord, load_curves

__all__ = [
    "CURRENT_KINDS",
    "DEFAULT_CURVES_PATH",
    "REPORTED_HALF_STEP_MS",
    "SMOOTH_WIDTH_MS",
    "STRATEGIES",
    "TAIL_SIGMAS",
    "Draws",
    "Outcome",
    "Run",
    "Stats",
    "Truth",
    "contract",
    "current_sizes",
    "evaluate",
    "expected_billed_ms",
    "fine_grained",
    "held_out",
    "main",
    "per_curve",
    "power_values",
    "run_ours",
    "run_power_tuning",
    "select",
    "usable",
    "validate",
]

MIN_SPAN = 4.0
COARSE_STEP = 1.3
SEEDS = 20
QUICK_SEEDS = 4
MIN_SIZES = 3


def held_out(curve_id: str) -> bool:
    """The fixed held-out set: never used to choose the engine's constants."""
    return hashlib.sha256(curve_id.encode("utf-8")).digest()[0] % 4 == 0


def fine_grained(record: CurveRecord) -> bool:
    """Neighbouring sizes closer than ``COARSE_STEP`` (median): the data README's fine-grained runs,
    whose differences between neighbours are mostly noise (one mean of ``num`` invocations each)."""
    sizes = record.memory_mb
    return statistics.median(b / a for a, b in itertools.pairwise(sizes)) < COARSE_STEP


def validate(records: Sequence[CurveRecord], where: str = "curves") -> None:
    """Refuse a curve the benchmark cannot judge, naming its id and the field: fewer than MIN_SIZES
    sizes (the loader has already refused unsorted or duplicate sizes and durations that are not
    positive, in the same words)."""
    short = [
        f"[{index}] ({r.id}): memoryMb: {len(r.memory_mb)} sizes, at least {MIN_SIZES} needed"
        for index, r in enumerate(records)
        if len(r.memory_mb) < MIN_SIZES
    ]
    if short:
        raise ValueError(f"{where}: invalid curves: " + "; ".join(short))


def usable(records: Sequence[CurveRecord], min_span: float = MIN_SPAN) -> tuple[list[CurveRecord], list[CurveRecord]]:
    """The curves the goals judge (spanning ``min_span`` x with coarse steps), and those left out."""
    kept = [r for r in records if r.memory_mb[-1] / r.memory_mb[0] >= min_span and not fine_grained(r)]
    return kept, [r for r in records if r not in kept]


def contract(rows: Sequence[Outcome], curves: int, seeds: int) -> dict[str, object]:
    """The benchmark's JSON contract: cost strategy, default budgets, churn under the rule."""

    def churn(engine: str) -> dict[str, int]:
        ruled = select(rows, engine)
        return {"needless": sum(r.needless for r in ruled), "misses": sum(r.miss for r in ruled), "runs": len(ruled)}

    return {
        "curves": curves,
        "seeds": seeds,
        **{engine: Stats.of(select(rows, engine)).contract() for engine in ENGINES},
        "churn": {"ours": churn("ours@rule"), "powerTuning": churn("powerTuning@rule")},
    }


def _seeds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"--seeds must be a whole number of at least 1, got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"minImprovement must be a number from 0 to 1, got {text!r}")
    return value


def _strategies(text: str) -> tuple[str, ...]:
    chosen = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in chosen if s not in STRATEGIES]
    if unknown or "cost" not in chosen:
        raise argparse.ArgumentTypeError(
            f"--strategies: a comma list of {', '.join(STRATEGIES)} with cost, got {text!r}"
        )
    return chosen


def main(quick: bool = False, argv: Sequence[str] | None = None) -> Result:
    parser = argparse.ArgumentParser(prog="python -m benchmarks realcurves", description=__doc__.split("\n")[0])
    parser.add_argument("--curves", type=Path, default=DEFAULT_CURVES_PATH, help="a file in the data file's format")
    parser.add_argument("--seeds", type=_seeds, default=QUICK_SEEDS if quick else SEEDS, help="seeds per curve")
    parser.add_argument("--min-span", type=float, default=MIN_SPAN, help="keep curves spanning at least this x")
    parser.add_argument("--strategies", type=_strategies, default=STRATEGIES, help="comma list, cost included")
    parser.add_argument("--json", action="store_true", help="end with one JSON line (the contract)")
    parser.add_argument("--worst", type=int, default=0, help="list our N worst cost runs of the tuning curves")
    parser.add_argument("--chart", type=Path, help="draw one curve (--chart-curve) to this PNG and stop")
    parser.add_argument("--chart-curve", default="s001", help="the curve --chart draws")
    parser.add_argument(
        "--min-improvement",
        type=_fraction,
        default=_realcurves_runs.MIN_IMPROVEMENT,
        help=f"the churn rule for both engines, 0-1 (default {_realcurves_runs.MIN_IMPROVEMENT:g}, the request's)",
    )
    parser.add_argument("--tuning-only", action="store_true", help="measure only the curves that are not held out")
    args = parser.parse_args(list(argv or []))
    try:
        records = load_curves(args.curves)
        validate(records, str(args.curves))
    except ValueError as error:
        print(error, file=sys.stderr)
        raise SystemExit(2) from error
    if args.chart is not None:
        from benchmarks._realcurves_chart import chart

        record = next((r for r in records if r.id == args.chart_curve), None)
        if record is None:
            print(f"{args.curves}: no curve {args.chart_curve!r}", file=sys.stderr)
            raise SystemExit(2)
        print(chart(record, args.chart))
        return Result(goals=[])  # a drawing: nothing judged
    records, _left = usable(records, args.min_span)
    if args.tuning_only:
        records = [r for r in records if not held_out(r.id)]
    if not records:
        print(f"{args.curves}: no curve spans at least {args.min_span:g}x with coarse steps", file=sys.stderr)
        raise SystemExit(2)
    held = {r.id for r in records if held_out(r.id)}
    rows = evaluate(records, args.seeds, strategies=args.strategies, rule=args.min_improvement)
    text = "\n".join(_realcurves_report.report(rows, records, held, args, args.worst))
    print(text)
    if args.json:
        print(json.dumps(contract(rows, len(records), args.seeds)))
    goals = [
        judge(goal.text, goal.detail, "as the goal states (95 % curve-bootstrap intervals)", goal.holds, goal.detail)
        for goal in _realcurves_report.judged(rows, records, held)
    ]
    return Result(goals=goals, tables={"realcurves": text}, data={"contract": contract(rows, len(records), args.seeds)})


if __name__ == "__main__":
    from benchmarks.__main__ import standalone

    sys.exit(standalone("realcurves"))
