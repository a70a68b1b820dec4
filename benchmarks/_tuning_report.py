"""The tuning benchmark's summaries and report: regret percentiles per engine and strategy, the goals, the table.

See :mod:`benchmarks.tuning` for the suite and what it measures.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

from benchmarks._table import text_table
from benchmarks._tuning_truth import ARCHITECTURE, MEMORY_QUOTA_MB, MIN_MEMORY_MB, POWER_TUNING_TRANSITIONS, REGION

# ---------------------------------------------------------------------------------------------
# Summaries and tables
# ---------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def _stats(runs: list[dict[str, Any]]) -> dict[str, Any]:
    regrets = [run["regret"] for run in runs]
    return {
        "runs": len(runs),
        "failed": sum(1 for run in runs if run["status"] != "SUCCEEDED"),
        "regretMedian": statistics.median(regrets),
        "regretP95": percentile(regrets, 95),
        "regretMax": max(regrets),
        "chosenMb": dict(sorted(Counter(run["chosenMb"] for run in runs if run["chosenMb"]).items())),
        "invocationsMean": statistics.fmean(run["invocations"] for run in runs),
        "transitionsMean": statistics.fmean(run["stateTransitions"] for run in runs),
        "transitionsMax": max(run["stateTransitions"] for run in runs),
        "secondsMean": statistics.fmean(run["seconds"] for run in runs),
        "targetGbSecondsMean": statistics.fmean(run.get("targetGbSeconds", 0.0) for run in runs),
        "tunerGbSecondsMean": statistics.fmean(run.get("tunerGbSeconds", 0.0) for run in runs),
        "controlPlaneCallsMean": statistics.fmean(run.get("controlPlaneCalls", 0) for run in runs),
        "tuningUsdMean": statistics.fmean(run.get("tuningUsd", 0.0) for run in runs),
    }


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Per strategy: per profile and overall statistics of each engine."""
    summary: dict[str, Any] = {}
    for strategy in dict.fromkeys(r["strategy"] for r in results):
        runs = [r for r in results if r["strategy"] == strategy]
        engines = list(dict.fromkeys(r["engine"] for r in runs))
        profiles = {}
        for profile in dict.fromkeys(r["profile"] for r in runs):
            rows = [r for r in runs if r["profile"] == profile]
            profiles[profile] = {
                "optimumMb": rows[0]["optimumMb"],
                **{engine: _stats([r for r in rows if r["engine"] == engine]) for engine in engines},
            }
        summary[strategy] = {
            "profiles": profiles,
            "overall": {engine: _stats([r for r in runs if r["engine"] == engine]) for engine in engines},
        }
    return summary


def goals(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The benchmark's goals, judged on the cost strategy."""
    if "cost" not in summary or not {"ours", "baseline"} <= set(summary["cost"]["overall"]):
        return []
    ours, base = summary["cost"]["overall"]["ours"], summary["cost"]["overall"]["baseline"]
    return [
        {
            "goal": "median regret ≤ 2 %",
            "value": f"ours {_pct(ours['regretMedian'])} (ours on Power Tuning's sizes {_pct(base['regretMedian'])})",
            "limit": "≤ 2 %",
            "met": ours["regretMedian"] <= 0.02,
        },
        {
            "goal": "p95 regret ≤ 10 %",
            "value": f"ours {_pct(ours['regretP95'])} (ours on Power Tuning's sizes {_pct(base['regretP95'])})",
            "limit": "≤ 10 %",
            "met": ours["regretP95"] <= 0.10,
        },
        {
            "goal": "no worse than our engine on Power Tuning's sizes (median and p95 regret; not Power Tuning's "
            "analysis: that is python -m benchmarks realcurves)",
            "value": f"median {_pct(ours['regretMedian'])} vs {_pct(base['regretMedian'])}, "
            f"p95 {_pct(ours['regretP95'])} vs {_pct(base['regretP95'])}",
            "limit": "≤ ours on Power Tuning's sizes, both",
            "met": ours["regretMedian"] <= base["regretMedian"] and ours["regretP95"] <= base["regretP95"],
        },
        {
            "goal": f"fewer state transitions per run than Power Tuning's 6 + 3N = {POWER_TUNING_TRANSITIONS}",
            "value": f"ours mean {ours['transitionsMean']:.1f}, max {ours['transitionsMax']} "
            f"(ours on Power Tuning's sizes: mean {base['transitionsMean']:.1f})",
            "limit": f"max < {POWER_TUNING_TRANSITIONS}",
            "met": ours["transitionsMax"] < POWER_TUNING_TRANSITIONS,
        },
    ]


def _pct(value: float) -> str:
    return "failed" if math.isinf(value) else f"{value * 100:.2f} %"


def _chosen(counts: dict[int, int]) -> str:
    return " ".join(f"{size}({count})" if count > 1 else f"{size}" for size, count in counts.items())


_DEFINITIONS = {
    "cost": "regret = cost(chosen) / cost(optimum) - 1",
    "speed": "regret = duration(chosen) / duration(optimum) - 1",
    "balanced": "regret = score(chosen) / score(optimum) - 1, score = 0.5 cost/max + 0.5 duration/max",
}


def format_report(summary: dict[str, Any], workers: int = 1) -> str:
    out: list[str] = []
    for strategy, data in summary.items():
        overall = data["overall"]
        runs = overall["ours"]["runs"] if "ours" in overall else next(iter(overall.values()))["runs"]
        out.append("")
        out.append(
            f"strategy {strategy}: {_DEFINITIONS[strategy]}; noise-free, {REGION} {ARCHITECTURE}, "
            f"optimum over {MIN_MEMORY_MB}-{MEMORY_QUOTA_MB} MB in 1 MB steps; {runs} runs per engine"
        )
        header = [
            "profile",
            "opt MB",
            "ours: chosen MB",
            "median",
            "p95",
            "on PT's sizes: chosen MB",
            "median",
            "p95",
            "invocations",
            "transitions",
            "target GB-s",
            "tuner GB-s",
            "API calls",
            "tuning $",
            "seconds",
        ]
        rows = [header]

        def row(label: str, optimum_mb: str, ours: dict[str, Any], base: dict[str, Any], chosen: bool) -> list[str]:
            return [
                label,
                optimum_mb,
                _chosen(ours["chosenMb"]) if chosen else "",
                _pct(ours["regretMedian"]),
                _pct(ours["regretP95"]),
                _chosen(base["chosenMb"]) if chosen else "",
                _pct(base["regretMedian"]),
                _pct(base["regretP95"]),
                f"{ours['invocationsMean']:.0f} / {base['invocationsMean']:.0f}",
                f"{ours['transitionsMean']:.1f} / {base['transitionsMean']:.1f}",
                f"{ours['targetGbSecondsMean']:.2f} / {base['targetGbSecondsMean']:.2f}",
                f"{ours['tunerGbSecondsMean']:.2f} / {base['tunerGbSecondsMean']:.2f}",
                f"{ours['controlPlaneCallsMean']:.0f} / {base['controlPlaneCallsMean']:.0f}",
                f"{ours['tuningUsdMean']:.5f} / {base['tuningUsdMean']:.5f}",
                f"{ours['secondsMean']:.2f} / {base['secondsMean']:.2f}",
            ]

        for profile, stats in data["profiles"].items():
            rows.append(row(profile, str(stats["optimumMb"]), stats["ours"], stats["baseline"], True))
        rows.append(row(f"ALL ({runs} runs)", "", overall["ours"], overall["baseline"], False))
        out += text_table(rows, right=set(range(1, len(header))) - {2, 5})
        failed = {engine: stats["failed"] for engine, stats in overall.items() if stats["failed"]}
        if failed:
            out.append(f"failed runs (counted as infinite regret): {failed}")
    out.append("")
    out.append(
        "invocations, transitions, target and tuner GB-seconds, control-plane calls, the tuning's dollars (Step "
        "Functions, target and tuner Lambda), seconds: ours / ours on Power Tuning's sizes, mean per run "
        "(wall seconds with "
        f"{workers} benchmark process{'es' if workers > 1 else ''} sharing the machine); "
        "p95 per profile = max over seeds"
    )
    out.append(
        f"Power Tuning's own state machine: 6 + 3N = {POWER_TUNING_TRANSITIONS} transitions for its N = 6 sizes; "
        "goals are judged on the cost strategy"
    )
    for goal in goals(summary):
        out.append(f"goal: {goal['goal']}: {goal['value']} — {'met' if goal['met'] else 'NOT met'}")
    return "\n".join(out)
