"""A fleet sweep at scale: 1,000 simulated functions tuned by one execution, under Lambda's rate limits.

One embedded AWS holds the fleet (every function tagged ``autotune=enabled``, half light, half
I/O-bound, all at 512 MB) and enforces Lambda's control-plane limits (emulator/limits.py:
one 15 requests/second bucket shared by every control-plane call, 100/s for GetFunction; a call
above them is throttled). One execution sweeps it::

    {"select": {"tags": {"autotune": "enabled"}}, "memorySizes": [256, 512, 1024],
     "invocations": 5, "refine": false, "apply": true}

with the template's defaults for the pacing (ControlPlaneRequestsPerSecond 10 of the 15,
GetFunctionRequestsPerSecond 50 of the 100) and SweepMaxConcurrency 10.

Time is AWS time: the embedded AWS's clock runs at ``TIME_SCALE`` (a second of AWS time is
``TIME_SCALE`` seconds of wall time, for the rate limits, the pacing and the retry waits alike),
so rates and targets per minute are per AWS second and minute. The scale is chosen so that the
pacing, not this machine's CPU, sets the pace; the wall time is printed too.

Printed: targets, status, failed targets, run records, wall and AWS seconds, targets per minute,
control-plane and GetFunction requests, throttled requests, and the achieved control-plane rate
as a ratio of the 15/s limit. The full run adds a contrast on a small fleet: the same sweep with
the workers' pacing switched off, at a clock fast enough for the emulation to outrun the limit.
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from benchmarks._table import text_table
from emulator.account import FunctionProfile, SimulatedAccount, SimulatedFunction
from emulator.limits import CONTROL_PLANE_PER_SECOND, GET_FUNCTION_PER_SECOND

FLEET = 1000
QUICK_FLEET = 60
TIME_SCALE = 0.5
CONCURRENCY = "10"
SWEEP_INPUT: dict[str, Any] = {
    "select": {"tags": {"autotune": "enabled"}},
    "memorySizes": [256, 512, 1024],
    "invocations": 5,
    "payload": {},  # every function of the fleet takes the same event: sent explicitly (a sweep skips none)
    "refine": False,
    "apply": True,
}
RUN_TIMEOUT_SECONDS = 7200  # wall seconds; the full sweep takes about 20 minutes here
CONTRAST_FLEET = 30
CONTRAST_TIME_SCALE = 1.0
RESULTS_FILE = Path(__file__).resolve().parents[1] / "results" / "bench" / "sweep.json"


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
def unpaced():
    """The workers' pacing switched off: every worker calls as fast as it can."""
    with mock.patch("autotuner_core.aws.pacing.pace", lambda workers, settings: None):
        yield


def sweep(size: int, time_scale: float, *, paced: bool = True) -> dict[str, Any]:
    """One sweep execution over a fleet of ``size``; the numbers a reader of the table needs."""
    from emulator.cloud import EmbeddedAws  # moto: imported only where it runs

    with EmbeddedAws(fleet_account(size, time_scale)) as aws:
        aws.limits.reset()
        started = time.monotonic()
        if paced:
            report = aws.run(SWEEP_INPUT, timeout=RUN_TIMEOUT_SECONDS)
        else:
            with unpaced():
                report = aws.run(SWEEP_INPUT, timeout=RUN_TIMEOUT_SECONDS)
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
        "paced": paced,
        "timeScale": time_scale,
        "status": report.status,
        "error": report.error,
        "failedTargets": failed,
        "records": len(report.records),
        "outcomes": outcomes,
        "wallSeconds": round(wall, 1),
        "awsSeconds": round(aws_seconds, 1),
        "targetsPerMinute": round(size / (aws_seconds / 60), 1),
        "controlPlaneRequests": control_plane,
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
        ("paced", "paced"),
        ("status", "status"),
        ("failed", "failedTargets"),
        ("records", "records"),
        ("wall s", "wallSeconds"),
        ("AWS s", "awsSeconds"),
        ("targets/min", "targetsPerMinute"),
        ("control-plane req", "controlPlaneRequests"),
        ("GetFunction req", "getFunctionRequests"),
        ("throttled", "throttledRequests"),
        ("control-plane/s", "controlPlaneRate"),
        ("÷ 15/s", "controlPlaneRatio"),
        ("GetFunction ÷ 100/s", "getFunctionRatio"),
    ]
    cells = [[name for name, _ in columns]] + [[str(row[key]) for _, key in columns] for row in rows]
    return "\n".join(text_table(cells, right=set(range(len(columns)))))


def main(quick: bool = False) -> int:
    started = time.monotonic()
    size = QUICK_FLEET if quick else FLEET
    print(f"sweep of {size} simulated functions, clock scale {TIME_SCALE} (AWS seconds = wall / scale)", flush=True)
    rows = [sweep(size, TIME_SCALE)]
    if not quick:
        print(
            f"contrast: {CONTRAST_FLEET} functions at clock scale {CONTRAST_TIME_SCALE}, paced and unpaced", flush=True
        )
        rows += [sweep(CONTRAST_FLEET, CONTRAST_TIME_SCALE), sweep(CONTRAST_FLEET, CONTRAST_TIME_SCALE, paced=False)]
    print(format_table(rows), flush=True)
    main_row = rows[0]
    goal = (
        main_row["status"] == "SUCCEEDED"
        and main_row["failedTargets"] == 0
        and main_row["records"] == size
        and main_row["controlPlaneRatio"] <= 1
    )
    print(
        f"goal: {size} targets, zero failed, a record each, control plane within 15/s: {'met' if goal else 'NOT met'}",
        flush=True,
    )
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(
        json.dumps(
            {
                "benchmark": "sweep",
                "generated": datetime.now(UTC).isoformat(timespec="seconds"),
                "quick": quick,
                "seconds": round(time.monotonic() - started, 1),
                "input": SWEEP_INPUT,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    return 0 if goal else 1


if __name__ == "__main__":
    sys.exit(main("--quick" in sys.argv))
