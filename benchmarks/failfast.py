"""Fail-fast: how long a run takes to fail on errors that are knowable at once, and what it does first.

Three scenarios, each run on the same simulated account by two flows:

``AccessDenied``
    the updater's role lacks ``lambda:UpdateFunctionConfiguration`` (``SimulatedAccount.revoke``);
    input: apply 1,024 MB to ``orders-api``.
``ResourceNotFound``
    the target does not exist; input: apply 1,024 MB to ``function:nonexistent-function``.
``InvalidInput``
    a malformed execution input (wrong types: a string for ``targets``, ``"1 GB"`` for
    ``memorySize``).

``ours``
    template.yaml and statemachine/autotuner.asl.json as they are.
``retry-everything``
    the same template and flow, except that every Task state (Map item processors included)
    has its Retry replaced by the single retrier of AWS Lambda Power Tuning's Executor
    (statemachine/statemachine.asl.json in alexcasalboni/aws-lambda-power-tuning)::

        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3, "MaxAttempts": 2, "BackoffRate": 2.0}

    (BackoffRate is that retrier's ASL default, written out). Power Tuning's numbers stand for
    "retry everything": a published retry-everything flow, with retry parameters one can read
    (a retry-everything agent measured on AWS failed after 183.2 s and 196.0 s). Catch blocks
    are unchanged: a caught error is still recorded before the run fails.

Each (scenario, flow) runs ``repeats`` times, each in a fresh embedded AWS (no breaker state or
warm handler carried over), after one untimed run that pays the process's first imports. Numbers
are medians over the repeats.

Columns:

- AWS estimate s: ``RunReport.aws_time`` (emulator/aws_time.py): the handlers' own
  compute measured here, the waits at full length, and the documented latencies in-process
  seconds lack: each tuner function's cold start (runtime init and its measured imports), each
  invocation's overhead, each state transition, each AWS request of the run (replacing the
  emulator's own time serving it).
- in-process s (full waits) = measured + unscaled retry waits - scaled retry waits
  = ``RunReport.seconds + RunReport.retry_wait_seconds * (1 - retry_time_scale)``.
  The embedded AWS sleeps each state-machine Retry wait (and SDK backoff) for
  ``retry_time_scale`` (0.01) of its length and adds the full length to ``retry_wait_seconds``;
  putting the full waits back gives the run's time with in-process handlers, transitions and
  requests. Measured from StartExecution to the terminal state.
- attempts (failing / all): TaskScheduled events of the state where the run's error arose, and of
  every Task state of the execution (records written after the failure included).
- AWS calls: every request the embedded AWS served during the execution (the state machine's
  ``lambda:Invoke`` of a tuner function included), up to the terminal state.
- mutating: calls that change a function (``interceptor.MUTATING_CALLS``).
- transitions: ``*StateEntered`` events.

ratio = retry-everything / ours, per scenario. Goals: ours reaches FAILED after one attempt of the
failing state with zero mutating calls; seconds ratio at least 10x; ours reaches FAILED within
``GOAL_AWS_SECONDS`` (5 s) of estimated AWS time in every scenario (a retry-everything agent
measured on AWS took 183-196 s).
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._asl_variants import RETRY_EVERYTHING, TEMPLATE, retry_everything_template
from benchmarks._goals import Result, judge
from benchmarks._table import text_table
from emulator.account import RevokedPermission, SimulatedAccount, SimulatedFunction

FLOWS = ("ours", "retry-everything")
GOAL_RATIO = 10.0
GOAL_AWS_SECONDS = 5.0
SEED_AGENT_SECONDS = (183.2, 196.0)  # a retry-everything agent's failed runs on AWS: the scale to beat
REPEATS = 3
QUICK_REPEATS = 1

TARGET = "orders-api"
MISSING_ARN = "arn:aws:lambda:us-east-1:123456789012:function:nonexistent-function"
APPLY = {"memorySize": 1024, "apply": True}


def _account(**changes: Any) -> SimulatedAccount:
    function = SimulatedFunction(
        name=TARGET, memory_size=512, timeout=30, architecture="arm64", tags={"autotune": "enabled"}
    )
    return SimulatedAccount(functions=[function], **changes)


@dataclass(frozen=True)
class Scenario:
    name: str
    account: SimulatedAccount
    execution_input: Any
    expected_error: str


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "AccessDenied",
            _account(
                revoke=[
                    RevokedPermission(
                        function="UpdateConfigurationFunction", actions=["lambda:UpdateFunctionConfiguration"]
                    )
                ]
            ),
            {"targets": [TARGET], **APPLY},
            "PermissionDeniedError",
        ),
        Scenario("ResourceNotFound", _account(), {"targets": [MISSING_ARN], **APPLY}, "FunctionNotFoundError"),
        Scenario("InvalidInput", _account(), {"targets": TARGET, "memorySize": "1 GB"}, "InvalidInputError"),
    )
}


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def seconds_in_aws(report: Any, retry_time_scale: float) -> float:
    """Measured seconds with every scaled retry wait put back at its full length (module docstring)."""
    return report.seconds + report.retry_wait_seconds * (1 - retry_time_scale)


def run_once(scenario: Scenario, template: Path) -> dict[str, Any]:
    """One execution of ``scenario`` in a fresh embedded AWS deployed from ``template``."""
    from emulator.cloud import EmbeddedAws  # moto: imported only where it runs

    with EmbeddedAws(scenario.account, template=template) as aws:
        report = aws.run(scenario.execution_input)
    attempts = report.task_attempts
    failed_state = report.failed_state
    return {
        "status": report.status,
        "error": report.error,
        "failedState": failed_state,
        "measuredSeconds": report.seconds,
        "retryWaitSeconds": report.retry_wait_seconds,
        "seconds": seconds_in_aws(report, scenario.account.retry_time_scale),
        "awsSeconds": report.aws_time.seconds,
        "failingAttempts": attempts.get(failed_state, 0) if failed_state else 0,
        "attempts": sum(attempts.values()),
        "taskAttempts": attempts,
        "awsCalls": sum(report.aws_calls.values()),
        "mutatingCalls": len(report.mutating_calls),
        "transitions": report.state_transitions,
        "records": len(report.records),
    }


_MEDIAN_FIELDS = (
    "measuredSeconds",
    "retryWaitSeconds",
    "seconds",
    "awsSeconds",
    "failingAttempts",
    "attempts",
    "awsCalls",
    "mutatingCalls",
    "transitions",
    "records",
)


def run_scenario(scenario: Scenario, flow: str, template: Path, repeats: int = 1) -> dict[str, Any]:
    """``repeats`` executions of one flow: medians of the numbers, the outcome of every run."""
    runs = [run_once(scenario, template) for _ in range(repeats)]
    outcomes = sorted({(run["status"], run["error"], run["failedState"]) for run in runs}, key=str)
    return {
        "scenario": scenario.name,
        "flow": flow,
        "runs": repeats,
        "outcomes": outcomes,
        "status": runs[0]["status"] if len(outcomes) == 1 else "MIXED",
        "error": runs[0]["error"] if len(outcomes) == 1 else "/".join(str(o[1]) for o in outcomes),
        "failedState": runs[0]["failedState"] if len(outcomes) == 1 else "/".join(str(o[2]) for o in outcomes),
        "taskAttempts": runs[0]["taskAttempts"],
        **{key: statistics.median(run[key] for run in runs) for key in _MEDIAN_FIELDS},
        "mutatingCallsMax": max(run["mutatingCalls"] for run in runs),
        "failingAttemptsMax": max(run["failingAttempts"] for run in runs),
    }


def run_suite(
    scenarios: list[str] | None = None, repeats: int = REPEATS, *, warm_up: bool = True
) -> list[dict[str, Any]]:
    """Every scenario under both flows; ours first, then retry-everything, per scenario."""
    chosen = [SCENARIOS[name] for name in (scenarios or list(SCENARIOS))]
    results = []
    with retry_everything_template() as variant:
        templates = {"ours": TEMPLATE, "retry-everything": variant}
        if warm_up:  # the process's first run imports the shared package and moto's interpreter
            run_once(chosen[0], TEMPLATE)
        for scenario in chosen:
            for flow in FLOWS:
                results.append(run_scenario(scenario, flow, templates[flow], repeats))
    return results


def ratios(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """retry-everything / ours for each scenario."""
    by_key = {(row["scenario"], row["flow"]): row for row in results}
    rows = []
    for scenario in dict.fromkeys(row["scenario"] for row in results):
        ours, other = by_key.get((scenario, "ours")), by_key.get((scenario, "retry-everything"))
        if ours is None or other is None:
            continue
        rows.append(
            {
                "scenario": scenario,
                **{
                    key: other[key] / ours[key] if ours[key] else float("inf")
                    for key in ("awsSeconds", "seconds", "failingAttempts", "attempts", "awsCalls", "transitions")
                },
            }
        )
    return rows


def goals(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ours = [row for row in results if row["flow"] == "ours"]
    once = [
        row
        for row in ours
        if row["status"] == "FAILED"
        and row["error"] == SCENARIOS[row["scenario"]].expected_error
        and row["failingAttemptsMax"] == 1
        and row["mutatingCallsMax"] == 0
    ]
    ratio_rows = ratios(results)
    fast = [row for row in ratio_rows if row["seconds"] >= GOAL_RATIO]
    within = [row for row in ours if row["status"] == "FAILED" and row["awsSeconds"] <= GOAL_AWS_SECONDS]
    return [
        {
            "goal": "ours: FAILED with the expected error after one attempt of the failing state, 0 mutating calls",
            "value": f"{len(once)}/{len(ours)} scenarios",
            "limit": "every scenario",
            "met": len(once) == len(ours) > 0,
        },
        {
            "goal": f"in-process s (full waits): retry-everything / ours ≥ {GOAL_RATIO:.0f}x",
            "value": ", ".join(f"{row['scenario']} {row['seconds']:.1f}x" for row in ratio_rows),
            "limit": f"≥ {GOAL_RATIO:.0f}x each",
            "met": len(fast) == len(ratio_rows) > 0,
        },
        {
            "goal": f"ours: a permanent error reaches FAILED within {GOAL_AWS_SECONDS:g} s of estimated AWS time "
            f"(seed agent: {SEED_AGENT_SECONDS[0]:g}-{SEED_AGENT_SECONDS[1]:g} s)",
            "value": ", ".join(f"{row['scenario']} {row['awsSeconds']:.2f} s" for row in ours),
            "limit": f"≤ {GOAL_AWS_SECONDS:g} s each",
            "met": len(within) == len(ours) > 0,
        },
    ]


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def format_report(results: list[dict[str, Any]]) -> str:
    header = [
        "scenario",
        "flow",
        "status",
        "error",
        "failing state",
        "AWS estimate s",
        "in-process s (full waits)",
        "measured s",
        "retry waits s",
        "attempts failing/all",
        "AWS calls",
        "mutating",
        "transitions",
        "records",
    ]
    rows = [header]
    for row in results:
        rows.append(
            [
                row["scenario"],
                row["flow"],
                row["status"],
                row["error"] or "-",
                row["failedState"] or "-",
                f"{row['awsSeconds']:.3f}",
                f"{row['seconds']:.3f}",
                f"{row['measuredSeconds']:.3f}",
                f"{row['retryWaitSeconds']:.1f}",
                f"{_number(row['failingAttempts'])} / {_number(row['attempts'])}",
                _number(row["awsCalls"]),
                _number(row["mutatingCalls"]),
                _number(row["transitions"]),
                _number(row["records"]),
            ]
        )
    out = text_table(rows, right={5, 6, 7, 8, 9, 10, 11, 12, 13})
    out.append("")
    ratio_header = [
        "ratio retry-everything / ours",
        "AWS estimate s",
        "in-process s",
        "attempts failing",
        "attempts all",
        "AWS calls",
    ]
    ratio_rows = [ratio_header]
    for row in ratios(results):
        ratio_rows.append(
            [
                row["scenario"],
                f"{row['awsSeconds']:.1f}x",
                f"{row['seconds']:.1f}x",
                f"{row['failingAttempts']:.1f}x",
                f"{row['attempts']:.1f}x",
                f"{row['awsCalls']:.1f}x",
            ]
        )
    out += text_table(ratio_rows, right={1, 2, 3, 4, 5})
    out.append("")
    runs = results[0]["runs"] if results else 0
    out.append(
        f"medians of {runs} run{'s' if runs != 1 else ''} per row, each in a fresh embedded AWS; "
        "in-process s (full waits) = measured s + retry waits x (1 - retry_time_scale)"
    )
    out.append(
        "AWS estimate = the handlers' own compute (without their in-process imports and the emulator's "
        "time serving their requests) + waits at full length + " + latency_legend()
    )
    out.append(
        "retry-everything: every Task's Retry = "
        + json.dumps(RETRY_EVERYTHING)
        + " (Power Tuning's Executor retrier; Catch blocks unchanged)"
    )
    for goal in goals(results):
        out.append(f"goal: {goal['goal']}: {goal['value']} — {'met' if goal['met'] else 'NOT met'}")
    return "\n".join(out)


def latency_legend() -> str:
    """The AWS-time model's latencies as the table's footnote (sources in aws_time.py)."""
    from emulator import aws_time

    latencies = ", ".join(
        f"{name} {latency.seconds * 1000:g} ms{' (estimate)' if latency.estimate else ''}"
        for name, latency in aws_time.LATENCIES.items()
    )
    imports = aws_time.FUNCTION_INIT_MS.values()
    return f"{latencies}; per cold start its imports, {min(imports):.0f}-{max(imports):.0f} ms (measured)"


def main(quick: bool = False) -> Result:
    started = time.monotonic()
    results = run_suite(repeats=QUICK_REPEATS if quick else REPEATS)
    report = format_report(results)
    print(report, flush=True)
    print(f"({time.monotonic() - started:.0f} s)")
    judged = [judge(g["goal"], g["value"], g["limit"], g["met"]) for g in goals(results)]
    tables = {"failfast": report.split("\n\nmedians of")[0]}
    return Result(goals=judged, tables=tables, data={"results": results})
