"""A PNG of one curve under the fair benchmark: its true billed cost over the range, what each engine
measured and what each chose (cost strategy, the current size the curve's smallest, seed 0)."""

from __future__ import annotations

from pathlib import Path

from benchmarks import _realcurves_runs
from benchmarks._realcurves_truth import Truth
from emulator.curves import Curve, CurveRecord


def chart(record: CurveRecord, path: Path, seed: int = 0) -> str:
    """Draw ``record`` to ``path``; returns our decision's summary."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    curve = Curve(record)
    costs = Truth.of(curve).scores("cost")  # memory x expected Billed Duration
    cheapest = min(costs)
    current = curve.min_mb
    draws = _realcurves_runs.Draws(curve, seed)
    mine = _realcurves_runs.run_ours(record, curve, draws, current)
    theirs = _realcurves_runs.run_power_tuning(record, curve, draws, current)
    assert mine.decision is not None and theirs.measured_prices is not None
    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    sizes = list(range(curve.min_mb, curve.max_mb + 1))
    axes.plot(sizes, [c / cheapest for c in costs], color="0.6", label="true billed cost (replayed curve)")
    measured = [row for row in mine.decision.sizes if row.relative_cost is not None]
    relative = [costs[row.memory_size - curve.min_mb] / cheapest for row in measured]
    axes.scatter(
        [row.memory_size for row in measured],
        relative,
        color="tab:blue",
        zorder=3,
        label=f"ours measured ({mine.invocations} invocations)",
    )
    for row, y in zip(measured, relative, strict=True):
        axes.annotate(f"{row.invocations}x", (row.memory_size, y), textcoords="offset points", xytext=(4, 6))
    values = sorted(theirs.measured_prices)
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
    return mine.decision.summary
