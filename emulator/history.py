"""Production history of a simulated function: its past days' REPORT lines and AWS/Lambda metrics.

Each day of ``functions[].history`` (account.py, HistorySegment) is invoked through the same model as
a run's invocations (simulated_function.LambdaSimulator, the function's profile, at the size of that
day), its users' calls spread evenly over the day. Each invocation's log (text lines or JSON records,
the profile's logFormat) goes into the function's log group, one stream a day, as Lambda writes it;
each day publishes Invocations, Errors, Throttles, Duration and ConcurrentExecutions (dimension
FunctionName) and the log group's AWS/Logs IncomingBytes. A day starts with new execution
environments (one cold start), as after a quiet night.
"""

from __future__ import annotations

import hashlib
import math
import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING

from emulator import moto_adapter
from emulator.account import FunctionProfile, SimulatedFunction
from emulator.interceptor import calls_made_by, unlogged
from emulator.simulated_function import LambdaSimulator

if TYPE_CHECKING:
    from emulator.cloud import EmbeddedAws

DAY_SECONDS = 86_400
MAX_HISTORY_DAYS = 90


def log_config(function: SimulatedFunction) -> dict[str, str]:
    """The function's LoggingConfig: its profile's log format, its log group or Lambda's default."""
    profile = function.profile or FunctionProfile()
    return {"LogFormat": profile.log_format, "LogGroup": function.log_group or f"/aws/lambda/{function.name}"}


def write_history(aws: EmbeddedAws, function: SimulatedFunction, *, now: float | None = None) -> None:
    """Write the function's history into its log group and CloudWatch, ending ``now`` (default: the present)."""
    days = sum(segment.days for segment in function.history)
    if not days:
        return
    if days > MAX_HISTORY_DAYS:
        raise ValueError(f"functions {function.name!r}: history spans {days} days; at most {MAX_HISTORY_DAYS}")
    now = time.time() if now is None else now
    group = log_config(function)["LogGroup"]
    account, region = aws.account.account_id, aws.account.region
    profile = function.profile or FunctionProfile()
    with unlogged():
        aws.client("logs").create_log_group(logGroupName=group)
        cloudwatch = aws.client("cloudwatch")
        log_group = moto_adapter.logs_backends[account][region].groups[group]
        day = 0
        for segment in function.history:
            size = segment.memory_size or function.memory_size
            for _ in range(segment.days):
                start = now - (days - day) * DAY_SECONDS
                messages = _one_day(function, profile, size, segment.invocations_per_day, day, start, region, account)
                stamp = datetime.fromtimestamp(start, UTC)
                stream = (
                    f"{stamp:%Y/%m/%d}/[$LATEST]{hashlib.sha256(f'{function.name}{day}'.encode()).hexdigest()[:32]}"
                )
                aws.client("logs").create_log_stream(logGroupName=group, logStreamName=stream)
                events = [{"timestamp": int(at * 1000), "message": text} for at, text, *_ in messages]
                log_group.streams[stream].put_log_events(events)  # past events: the API refuses those over 14 days old
                _publish(cloudwatch, function.name, group, start, messages)
                day += 1


def _one_day(
    function: SimulatedFunction,
    profile: FunctionProfile,
    size: int,
    count: int,
    day: int,
    start: float,
    region: str,
    account: str,
) -> list[tuple[float, str, float, bool]]:
    """(timestamp, log message, duration ms, failed) of every log event of the day, in order."""
    simulator = LambdaSimulator(time_scale=0)  # fresh environments: the day's first call is cold
    fn = SimpleNamespace(
        function_name=function.name,
        version="$LATEST",
        memory_size=size,
        timeout=function.timeout,
        account_id=account,
        region=region,
        run_time=function.runtime,
    )
    events: list[tuple[float, str, float, bool]] = []
    with calls_made_by(f"production-history-{day}"):  # its own random streams, apart from a run's callers
        for number in range(count):
            at = start + (number + 0.5) * DAY_SECONDS / count
            invocation = simulator.invoke(fn, profile, {}, identity=function.name)  # type: ignore[arg-type]
            record = simulator.invocations[-1]
            for line in str(invocation.log).splitlines():
                if line.strip():
                    events.append((at, line, record.duration_ms, invocation.error_type is not None))
    return events


def _publish(
    cloudwatch: object, name: str, group: str, start: float, events: list[tuple[float, str, float, bool]]
) -> None:
    """The day's metrics, at its middle: one datapoint per metric, as a daily period reads them."""
    reports = {at: (duration, failed) for at, text, duration, failed in events}
    durations = [duration for duration, _ in reports.values()]
    stamp = datetime.fromtimestamp(start + DAY_SECONDS / 2, UTC)
    dimensions = [{"Name": "FunctionName", "Value": name}]
    data = [
        {"MetricName": "Invocations", "Value": float(len(reports)), "Unit": "Count"},
        {"MetricName": "Errors", "Value": float(sum(failed for _, failed in reports.values())), "Unit": "Count"},
        {"MetricName": "Throttles", "Value": 0.0, "Unit": "Count"},
        # One call after another: at most one runs at a time unless a day's calls overlap.
        {
            "MetricName": "ConcurrentExecutions",
            "Value": float(max(1, math.ceil(sum(durations) / 1000 / DAY_SECONDS))) if durations else 0.0,
            "Unit": "Count",
        },
    ]
    if durations:
        data.append(
            {
                "MetricName": "Duration",
                "StatisticValues": {
                    "SampleCount": float(len(durations)),
                    "Sum": sum(durations),
                    "Minimum": min(durations),
                    "Maximum": max(durations),
                },
                "Unit": "Milliseconds",
            }
        )
    cloudwatch.put_metric_data(  # type: ignore[attr-defined]
        Namespace="AWS/Lambda", MetricData=[{**datum, "Timestamp": stamp, "Dimensions": dimensions} for datum in data]
    )
    scanned = sum(len(text.encode("utf-8")) for _, text, *_ in events)
    cloudwatch.put_metric_data(  # type: ignore[attr-defined]
        Namespace="AWS/Logs",
        MetricData=[
            {
                "MetricName": "IncomingBytes",
                "Value": float(scanned),
                "Unit": "Bytes",
                "Timestamp": stamp,
                "Dimensions": [{"Name": "LogGroupName", "Value": group}],
            }
        ],
    )
