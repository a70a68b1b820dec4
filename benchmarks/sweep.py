"""A fleet sweep at scale: 1,000 simulated functions swept by one execution, under Lambda's rate limits.

What it measures, plainly: two sweeps of the same fleet. The first measures **3 fixed sizes at 5
invocations** (``FIXED_INPUT``: about 20 control-plane calls a target); that is not what a user
gets. The second runs at **the engine's defaults** (``DEFAULTS_INPUT``: no ``memorySizes``, no
``invocations``), under the template's default run budget (``MaxInvocationsPerRun`` 10,000): the
sweep a user who turns the schedule on would start. Each is a goal; a sweep the budget refuses
is a goal NOT met, with the refusal as its reason (nothing here raises a limit to make it pass).

One embedded AWS per sweep holds the fleet (every function tagged ``autotune=enabled``, half
light, half I/O-bound, all at 512 MB) and enforces Lambda's control-plane limits
(emulator/limits.py: one 15 requests/second bucket shared by every control-plane call, 100/s for
GetFunction; a call above them is throttled), with the template's pacing
(ControlPlaneRequestsPerSecond 10 of the 15, GetFunctionRequestsPerSecond 50 of the 100) and
SweepMaxConcurrency 10.

Time is AWS time: the embedded AWS's clock runs at ``TIME_SCALE`` (a second of AWS time is
``TIME_SCALE`` seconds of wall time, for the rate limits, the pacing and the retry waits alike),
so rates and targets per minute are per AWS second and minute. The scale is chosen so that the
pacing, not this machine's CPU, sets the pace; the wall time is printed too.

Printed: per sweep, targets, input, status, failed targets, run records, wall and AWS seconds,
targets per minute, control-plane and GetFunction requests, throttled requests, and the achieved
control-plane rate as a ratio of the 15/s limit; the error of a sweep that failed. The full run
adds a contrast on a small fleet: the fixed sweep with the workers' pacing switched off, at a
clock fast enough for the emulation to outrun the limit. ``--quick``: 60 functions (fixed) and
20 (defaults), no contrast.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from unittest import mock

from benchmarks._goals import Goal, Result, judge
from benchmarks._table import text_table
from emulator.account import FunctionProfile, SimulatedAccount, SimulatedFunction
from emulator.limits import CONTROL_PLANE_PER_SECOND, GET_FUNCTION_PER_SECOND

FLEET = 1000
QUICK_FLEET = 60
QUICK_DEFAULTS_FLEET = 20  # at the defaults a target takes about 4 times as long: the quick run stays short
TIME_SCALE = 0.5
CONCURRENCY = "10"
_SELECT: dict[str, Any] = {"select": {"tags": {"autotune": "enabled"}}}
# every function of the fleet takes the same event: sent explicitly (a sweep skips none)
FIXED_INPUT: dict[str, Any] = _SELECT | {
    "memorySizes": [256, 512, 1024],
    "invocations": 5,
    "payload": {},
    "refine": False,
    "apply": True,
}
DEFAULTS_INPUT: dict[str, Any] = _SELECT | {"payload": {}, "apply": True}  # the engine chooses sizes and counts
INPUTS = {"3 sizes x 5": FIXED_INPUT, "defaults": DEFAULTS_INPUT}
RUN_TIMEOUT_SECONDS = 7200  # wall seconds; the fixed sweep of 1,000 took about 20 minutes here
CONTRAST_FLEET = 30
CONTRAST_TIME_SCALE = 1.0


def fleet_account(size: int, time_scale: float) -> SimulatedAccount:
    return SimulatedAccount(
        parameters={"StatusPollIntervalMs": "20", "MaxStatusWaitSeconds": "5", "SweepMaxConcurrency": CONCURRENCY},
        retry_time_scale=time_scale,
        rate_limits=True,
        update_seconds=0.0,
        functions=[
            SimulatedFunction(
                name=f"fleet-{index:05d}",
                memory_size=512,
                tags={"autotune": "enabled"},
                profile=FunctionProfile(preset="io-bound" if index % 2 else "light", seed=index),
            )
            for index in range(size)
        ],
    )


@contextmanager
def unpaced() -> Iterator[None]:
    """The workers' pacing switched off: every worker calls as fast as it can."""
    with mock.patch("autotuner_core.aws.pacing.pace", lambda workers, settings: None):
        yield


def failure_reason(error: str | None, cause: str | None) -> str:
    """A failed execution's error and the message of its cause (a Lambda error's JSON), on one line."""
    message = cause or ""
    with suppress(ValueError, AttributeError):
        message = json.loads(message).get("errorMessage", message)
    return f"{error}: {message}".strip().rstrip(":") if error else message


def sweep(size: int, time_scale: float, *, paced: bool = True, label: str = "3 sizes x 5") -> dict[str, Any]:
    """One sweep execution over a fleet of ``size``, with the input ``INPUTS[label]``; the table's numbers."""
    from emulator.cloud import EmbeddedAws  # moto: imported only where it runs

    with EmbeddedAws(fleet_account(size, time_scale)) as aws:
        aws.limits.reset()
        started = time.monotonic()
        if paced:
            report = aws.run(INPUTS[label], timeout=RUN_TIMEOUT_SECONDS)
        else:
            with unpaced():
                report = aws.run(INPUTS[label], timeout=RUN_TIMEOUT_SECONDS)
        wall = time.monotonic() - started
        admitted, throttled = dict(aws.limits.admitted), dict(aws.limits.throttled)
    aws_seconds = wall / time_scale
    control_plane = admitted.get("control-plane", 0) + throttled.get("control-plane", 0)
    get_function = admitted.get("GetFunction", 0) + throttled.get("GetFunction", 0)
    failed = sum(1 for record in report.records if record.get("outcome") == "FAILED")
    outcomes: dict[str, int] = {}
    for record in report.records:
        outcomes[record["outcome"]] = outcomes.get(record["outcome"], 0) + 1
    return {
        "targets": size,
        "input": label,
        "paced": paced,
        "timeScale": time_scale,
        "status": report.status,
        "error": report.error,
        "reason": failure_reason(report.error, report.cause) if report.status != "SUCCEEDED" else "",
        "failedTargets": failed,
        "records": len(report.records),
        "outcomes": outcomes,
        "wallSeconds": round(wall, 1),
        "awsSeconds": round(aws_seconds, 1),
        "targetsPerMinute": round(size / (aws_seconds / 60), 1),
        "controlPlaneRequests": control_plane,
        "controlPlanePerTarget": round(control_plane / size, 1),
        "getFunctionRequests": get_function,
        "throttledRequests": sum(throttled.values()),
        "controlPlaneRate": round(admitted.get("control-plane", 0) / aws_seconds, 2),
        "controlPlaneRatio": round(admitted.get("control-plane", 0) / aws_seconds / CONTROL_PLANE_PER_SECOND, 2),
        "getFunctionRatio": round(admitted.get("GetFunction", 0) / aws_seconds / GET_FUNCTION_PER_SECOND, 2),
        "stateTransitions": report.state_transitions,
        # One child execution per target, read through the map run (ListMapRuns, ListExecutions).
        "childExecutions": len(report.child_histories),
    }


def format_table(rows: list[dict[str, Any]]) -> str:
    columns = [
        ("targets", "targets"),
        ("input", "input"),
        ("paced", "paced"),
        ("status", "status"),
        ("failed", "failedTargets"),
        ("records", "records"),
        ("wall s", "wallSeconds"),
        ("AWS s", "awsSeconds"),
        ("targets/min", "targetsPerMinute"),
        ("control-plane req", "controlPlaneRequests"),
        ("per target", "controlPlanePerTarget"),
        ("GetFunction req", "getFunctionRequests"),
        ("throttled", "throttledRequests"),
        ("control-plane/s", "controlPlaneRate"),
        ("÷ 15/s", "controlPlaneRatio"),
        ("GetFunction ÷ 100/s", "getFunctionRatio"),
    ]
    cells = [[name for name, _ in columns]] + [[str(row.get(key, "")) for _, key in columns] for row in rows]
    lines = text_table(cells, right=set(range(len(columns))) - {1})
    lines += [f"{row['targets']} targets, {row['input']}: {row['reason']}" for row in rows if row.get("reason")]
    return "\n".join(lines)


def goal(row: dict[str, Any], what: str) -> Goal:
    """A sweep's goal: it ended SUCCEEDED with zero failed targets, a record each, within 15/s."""
    met = (
        row["status"] == "SUCCEEDED"
        and row["failedTargets"] == 0
        and row["records"] == row["targets"]
        and row["controlPlaneRatio"] <= 1
    )
    value = (
        f"{row['status']}, {row['failedTargets']} failed, {row['records']} records, "
        f"control plane {row['controlPlaneRatio']} of 15/s"
    )
    reason = row["reason"] or (
        f"{row['failedTargets']} failed targets, {row['records']} of {row['targets']} records, "
        f"control plane at {row['controlPlaneRatio']} of 15/s"
    )
    limit = f"SUCCEEDED, 0 failed, {row['targets']} records, ≤ 1 of 15/s"
    return judge(f"{row['targets']} targets swept, {what}", value, limit, met, reason)


def main(quick: bool = False) -> Result:
    size = QUICK_FLEET if quick else FLEET
    defaults_size = QUICK_DEFAULTS_FLEET if quick else FLEET
    print(f"sweep of {size} simulated functions, clock scale {TIME_SCALE} (AWS seconds = wall / scale)", flush=True)
    print(f"  3 sizes x 5 invocations: {json.dumps(FIXED_INPUT)}", flush=True)
    fixed = sweep(size, TIME_SCALE)
    print(f"sweep of {defaults_size} at the engine's defaults: {json.dumps(DEFAULTS_INPUT)}", flush=True)
    defaults = sweep(defaults_size, TIME_SCALE, label="defaults")
    rows = [fixed, defaults]
    if not quick:
        print(
            f"contrast: {CONTRAST_FLEET} functions at clock scale {CONTRAST_TIME_SCALE}, paced and unpaced", flush=True
        )
        rows += [sweep(CONTRAST_FLEET, CONTRAST_TIME_SCALE), sweep(CONTRAST_FLEET, CONTRAST_TIME_SCALE, paced=False)]
    table = format_table(rows)
    print(table, flush=True)
    goals = [
        goal(fixed, "3 fixed sizes x 5 invocations (not the defaults)"),
        goal(defaults, "the engine's defaults under the default run budget"),
    ]
    for item in goals:
        print(f"goal: {item.name}: {item.status}", flush=True)
    return Result(goals=goals, tables={"sweep": table}, data={"inputs": INPUTS, "rows": rows})


if __name__ == "__main__":
    from benchmarks.__main__ import standalone

    sys.exit(standalone("sweep"))
