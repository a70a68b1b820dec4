"""Decision quality of the product end to end: the real state machine with engine v2, given its
default input and given Power Tuning's default input.

Every run is one execution of the real state machine on the embedded AWS against one simulated
target function (emulator/simulated_function.py). For each profile of the suite and
each seed (the profile's ``seed``: the noise on every Duration), two inputs decide:

``ours``
    the default execution input: ``{"targets": [<fn>], "strategy": <s>, "apply": false}``
    (engine v2 over the "standard" range 128-3,008 MB, budget 3 x 10 invocations; docs/engine.md).
``baseline``
    Power Tuning's defaults as input to the same product: ``{"targets": [<fn>], "strategy": <s>,
    "apply": false, "memorySizes": [128, 256, 512, 1024, 1536, 3008], "invocations": 10,
    "discardTopBottom": 0.2, "refine": false}``. The product measures with engine v2 whatever the
    input, and the engine takes only the range (smallest and largest size) from ``memorySizes``;
    ``refine`` changes nothing and ``discardTopBottom`` only the per-size table. Both inputs
    therefore give the engine the same range and budget, and on this suite the same decisions:
    this is **not** Power Tuning and not a grid, only a check that the product reads Power
    Tuning's input the same way; the output calls it "ours on Power Tuning's sizes". The "no worse
    than our engine on Power Tuning's sizes" goal below compares the product with itself. The
    honest Power Tuning baseline (its grid and its analysis, re-implemented) is
    ``python -m benchmarks realcurves``.

Both see the same function: same profile, same seed, current memory 1,024 MB (in both lists,
so measuring the current size adds no candidate), arm64, timeout 300 s, in an account with the
default 3,008 MB memory quota. Each engine gets its own embedded AWS, so the function's
invocation counter (and with it the noise sequence) starts from zero for both.

Scoring is noise-free. For each memory size m in 128..3008 (1 MB steps) at which the function
does not run out of memory (``memory_floor_mb``)::

    duration(m) = expected_duration_ms(profile, m)
    cost(m)     = invocation_cost_usd(m, ceil(duration(m)), us-east-1 arm64 prices)
                = GB-second price * m / 1024 * ceil(duration(m)) / 1000 + request price

and the objective of each strategy (lower is better):

- ``cost``: cost(m);
- ``speed``: duration(m);
- ``balanced`` (weight w = 0.5, the default): w * cost(m) / max cost + (1 - w) * duration(m) / max
  duration, the maxima over all feasible sizes (Power Tuning normalises by the measured
  candidates instead, so its own optimum depends on the candidate list; a fixed normalisation
  keeps the score independent of what an engine chose to measure).

Regret of a decision = objective(chosen) / objective(optimum) - 1, the optimum being the best
feasible size (ties: the smaller). Noise affects only the decision, never its score.

Per run we also count target invocations (sum of ``invocations`` over the output's
configurations, excluded ones included), state transitions (``RunReport.state_transitions``:
every *StateEntered event of the execution and of its map run's child executions, each billed) and
wall seconds. Power Tuning's own state machine
takes 6 + 3N transitions for N sizes: 24 for its six default sizes.

Percentiles are nearest-rank (p95 of five seeds is their maximum); a failed run counts as an
infinite regret. Results are printed as tables and written to results/bench-tuning.json.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autotuner_core.documents.request import POWER_TUNING_SIZES_MB
from benchmarks._goals import Result, could_not_run, judge
from benchmarks._tuning_report import format_report, goals, summarize
from benchmarks._tuning_truth import (
    ARCHITECTURE,
    BALANCED_WEIGHT,
    CURRENT_MEMORY_MB,
    MEMORY_QUOTA_MB,
    POWER_TUNING_TRANSITIONS,
    REGION,
    STRATEGIES,
    TIMEOUT_S,
    objective,
    optimum,
    prices,
    regret,
    true_cost_usd,
)
from emulator.account import PROFILE_PRESETS, FunctionProfile, SimulatedAccount, SimulatedFunction
from emulator.simulated_function import memory_floor_mb

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS_FILE = PROJECT_ROOT / "results" / "bench-tuning.json"

# What each engine adds to {"targets": [...], "strategy": ..., "apply": false}.
ENGINE_INPUTS: dict[str, dict[str, Any]] = {
    "ours": {},
    "baseline": {
        "memorySizes": list(POWER_TUNING_SIZES_MB),
        "invocations": 10,
        "discardTopBottom": 0.2,
        "refine": False,
    },
}
ENGINES = tuple(ENGINE_INPUTS)

# The embedded AWS as the tests use it (SimulatedAccount defaults), except that a configuration
# update settles at once: a wait the engine only polls through, so it changes no decision and no
# transition, only wall time.
EMBEDDED_ACCOUNT: dict[str, Any] = {
    "update_seconds": 0.0,
    "parameters": {"StatusPollIntervalMs": "10", "MaxStatusWaitSeconds": "5"},
}

# The suite: the presets, and a few shapes that make the choice harder. Seeds are set per run.
SUITE: dict[str, FunctionProfile] = {
    **{name: FunctionProfile(preset=name) for name in PROFILE_PRESETS},  # type: ignore[arg-type]
    # CPU-bound with a large I/O part: every extra MB is paid for during the wait.
    "cpu-large-io": FunctionProfile(preset="cpu-bound", io_ms=1_500),
    # Needs 700 MB, between Power Tuning's 512 and 1,024 (and the engine's ladder steps); mostly I/O,
    # so the floor is the optimum.
    "floor-700": FunctionProfile(cpu_ms=300, io_ms=400, base_memory_mb=60, working_set_mb=640, cold_start_ms=300),
    # Needs 1,100 MB, between 1,024 and 1,536.
    "floor-1100": FunctionProfile(cpu_ms=500, io_ms=300, base_memory_mb=100, working_set_mb=1_000, cold_start_ms=400),
    # A short function whose cold start (6 s Init at 128 MB) dwarfs its run.
    "cold-start-heavy": FunctionProfile(cpu_ms=40, io_ms=15, cold_start_ms=6_000),
    # I/O-bound with six times the default noise (sigma 0.3 instead of 0.05).
    "noisy-io": FunctionProfile(preset="io-bound", noise=0.3),
    # Bimodal: a fifth of the invocations miss a cache and take four times as long.
    "cache-miss": FunctionProfile(preset="cpu-bound", slow_share=0.2, slow_factor=4.0),
}
SEEDS = (1, 2, 3, 4, 5)

QUICK_PROFILES = ("io-bound", "memory-hungry", "cpu-large-io", "floor-700")
QUICK_SEEDS = (1, 2)
QUICK_STRATEGIES = ("cost",)
# The second table (balanced, speed) runs on fewer seeds: the goals are about cost.
SECONDARY_SEEDS = (1, 2, 3)


# ---------------------------------------------------------------------------------------------
# Running the engines
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    engine: str
    strategy: str
    profile: str
    seed: int

    @property
    def function_name(self) -> str:
        return f"{self.profile}-s{self.seed}"


def execution_input(engine: str, target: str, strategy: str) -> dict[str, Any]:
    """The execution input an engine runs with (module docstring)."""
    return {"targets": [target], "strategy": strategy, "apply": False, **ENGINE_INPUTS[engine]}


def simulated_function(profile_name: str, seed: int, suite: dict[str, FunctionProfile] | None = None) -> Any:
    profile = (suite or SUITE)[profile_name].model_copy(update={"seed": seed})
    return SimulatedFunction(
        name=f"{profile_name}-s{seed}",
        memory_size=CURRENT_MEMORY_MB,
        timeout=TIMEOUT_S,
        architecture=ARCHITECTURE,
        tags={"autotune": "enabled"},
        profile=profile,
    )


def run_jobs(jobs: Sequence[Job]) -> list[dict[str, Any]]:
    """Run ``jobs`` one after another in one embedded AWS holding each job's function once.

    A function is run at most once per embedded AWS, so its invocation counter (the noise
    sequence) starts at zero for every job: put the two engines' jobs in different calls.
    """
    from emulator.cloud import EmbeddedAws  # moto: imported only where it runs

    names = [job.function_name for job in jobs]
    if len(set(names)) != len(names):
        raise ValueError("each (profile, seed) may appear once per call: the noise sequence would be shared")
    account = SimulatedAccount(
        region=REGION,
        functions=[simulated_function(job.profile, job.seed) for job in jobs],
        **EMBEDDED_ACCOUNT,
    )
    results = []
    with EmbeddedAws(account) as aws:
        assert aws.account.memory_quota_mb == MEMORY_QUOTA_MB
        for job in jobs:
            report = aws.run(execution_input(job.engine, job.function_name, job.strategy))
            results.append(score(job, report))
    return results


def score(job: Job, report: Any) -> dict[str, Any]:
    """One run's result: the decision, its regret, what it used."""
    profile = SUITE[job.profile]
    values = objective(job.strategy, profile)
    best, best_value = optimum(values)
    outcome = (report.output or {}).get("outcomes", [{}])[0] if report.status == "SUCCEEDED" else {}
    configurations = outcome.get("configurations") or []
    recommendation = outcome.get("recommendation") or {}
    chosen = recommendation.get("memorySize")
    return {
        "engine": job.engine,
        "strategy": job.strategy,
        "profile": job.profile,
        "seed": job.seed,
        "function": job.function_name,
        "input": execution_input(job.engine, job.function_name, job.strategy),
        "status": report.status,
        "error": report.error,
        "chosenMb": chosen,
        "optimumMb": best,
        "chosenObjective": values.get(chosen) if chosen is not None else None,
        "optimumObjective": best_value,
        "regret": regret(values, chosen) if chosen is not None else math.inf,
        "chosenCostUsd": true_cost_usd(profile, chosen) if chosen is not None else None,
        "measuredMb": [row["memorySize"] for row in configurations],
        "excludedMb": [row["memorySize"] for row in configurations if row.get("excluded")],
        # What the engine measured, to replay other decision rules on the same measurements.
        "configurations": [
            {key: row.get(key) for key in _MEASURED if row.get(key) is not None} for row in configurations
        ],
        "invocations": sum(row.get("invocations", 0) for row in configurations),
        "stateTransitions": report.state_transitions,
        # The measuring loop's rounds, as the target's document counted them.
        "rounds": (outcome.get("spend") or {}).get("rounds", 0),
        # The tuning's own cost in full (run_cost.counted): target and tuner GB-seconds, calls, dollars.
        **_tuning_cost((report.output or {}).get("runCost", {}).get("counted") or {}),
        "seconds": round(report.seconds, 3),
    }


def _tuning_cost(counted: dict[str, Any]) -> dict[str, Any]:
    return {
        "targetGbSeconds": counted.get("targetGbSeconds", 0.0),
        "tunerGbSeconds": counted.get("tunerGbSeconds", 0.0),
        "controlPlaneCalls": counted.get("controlPlaneCalls", 0),
        "tuningUsd": counted.get("totalUsd", 0.0),
    }


_MEASURED = (
    "memorySize",
    "invocations",
    "meanMs",
    "billedMeanMs",
    "maxMemoryUsedMb",
    "costPerInvocationUsd",
    "excluded",
)


def run_suite(
    profiles: Iterable[str],
    seeds: Iterable[int],
    strategies: Iterable[str] = ("cost",),
    engines: Iterable[str] = ENGINES,
    *,
    workers: int = 1,
    chunk_size: int = 25,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Every engine x strategy x profile x seed, one result per run (see :func:`score`).

    Jobs are grouped by engine and strategy (one embedded AWS per chunk of up to ``chunk_size``
    jobs); ``workers`` > 1 runs chunks in that many processes (moto is process-wide).
    """
    profiles, seeds, strategies, engines = list(profiles), list(seeds), list(strategies), list(engines)
    for name in profiles:
        if name not in SUITE:
            raise ValueError(f"unknown profile {name!r}; one of {', '.join(SUITE)}")
    chunks: list[list[Job]] = []
    for engine in engines:
        for strategy in strategies:
            jobs = [Job(engine, strategy, profile, seed) for seed in seeds for profile in profiles]
            chunks += [jobs[i : i + chunk_size] for i in range(0, len(jobs), chunk_size)]
    chunks.sort(key=lambda chunk: (chunk[0].engine != "ours", -len(chunk)))  # longest first
    total = sum(len(chunk) for chunk in chunks)
    done = 0
    started = time.monotonic()
    results: list[dict[str, Any]] = []

    def collect(chunk: list[Job], chunk_results: list[dict[str, Any]]) -> None:
        nonlocal done
        done += len(chunk)
        results.extend(chunk_results)
        if progress:
            progress(
                f"  {chunk[0].engine}/{chunk[0].strategy}: {len(chunk)} runs done "
                f"({done}/{total}, {time.monotonic() - started:.0f} s)"
            )

    if workers <= 1 or len(chunks) == 1:
        for chunk in chunks:
            collect(chunk, run_jobs(chunk))
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(run_jobs, chunk): chunk for chunk in chunks}
            for future in as_completed(futures):
                collect(futures[future], future.result())
    order = {name: index for index, name in enumerate(SUITE)}
    results.sort(
        key=lambda r: (STRATEGIES.index(r["strategy"]), order[r["profile"]], r["seed"], ENGINES.index(r["engine"]))
    )
    return results


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def default_workers(quick: bool = False) -> int:
    """``BENCH_WORKERS``, else 2 processes (1 for ``--quick``: starting one costs more than it saves)."""
    return int(os.environ.get("BENCH_WORKERS", 0)) or (1 if quick else max(1, min(2, os.cpu_count() or 1)))


def main(quick: bool = False) -> Result:
    started = time.monotonic()
    workers = default_workers(quick)

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    if quick:
        results = run_suite(QUICK_PROFILES, QUICK_SEEDS, QUICK_STRATEGIES, workers=workers, progress=progress)
    else:
        results = run_suite(SUITE, SEEDS, ("cost",), workers=workers, progress=progress)
        results += run_suite(SUITE, SECONDARY_SEEDS, ("balanced", "speed"), workers=workers, progress=progress)
    summary = summarize(results)
    report = format_report(summary, workers)
    print(report, flush=True)

    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "tuning",
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "seconds": round(time.monotonic() - started, 1),
        "workers": workers,
        "settings": {
            "region": REGION,
            "architecture": ARCHITECTURE,
            "currentMemoryMb": CURRENT_MEMORY_MB,
            "timeoutSeconds": TIMEOUT_S,
            "memoryQuotaMb": MEMORY_QUOTA_MB,
            "balancedWeight": BALANCED_WEIGHT,
            "engineInputs": {engine: execution_input(engine, "<function>", "<strategy>") for engine in ENGINE_INPUTS},
            "embeddedAccount": EMBEDDED_ACCOUNT,
            "powerTuningTransitions": POWER_TUNING_TRANSITIONS,
            "prices": prices().model_dump(mode="json"),
        },
        "suite": {
            name: profile.model_dump(mode="json", exclude={"seed"}) | {"memoryFloorMb": memory_floor_mb(profile)}
            for name, profile in SUITE.items()
        },
        "summary": summary,
        "goals": goals(summary),
        "runs": results,
    }
    RESULTS_FILE.write_text(json.dumps(_finite(document), indent=2, allow_nan=False) + "\n")
    print(f"\nraw results: {RESULTS_FILE.relative_to(PROJECT_ROOT)} ({time.monotonic() - started:.0f} s)")
    judged = [judge(g["goal"], g["value"], g["limit"], g["met"]) for g in document["goals"]]
    if not judged:
        judged = [could_not_run("the cost strategy's goals", "no run of both engines on the cost strategy")]
    return Result(goals=judged, tables={"tuning": report}, data={"summary": _finite(summary)})


def _finite(value: Any) -> Any:
    """JSON has no infinity: an infinite regret (failed run, out-of-memory choice) is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
