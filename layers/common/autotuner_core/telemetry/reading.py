"""Read one target's production telemetry: CloudWatch metrics, then its REPORT lines through Logs Insights.

One GetMetricData call reads the function's AWS/Lambda metrics and its log group's AWS/Logs
IncomingBytes over the lookback, a day per datapoint. IncomingBytes is the estimate of what the
query will scan: a log group over the deployment's scan cap is read over the most recent days that
fit, or not at all, and the evidence says which. Then one StartQuery and GetQueryResults until the
query completes; the bytes it scanned (what Logs Insights bills) go into the evidence.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from autotuner_core.aws.calls import aws_call
from autotuner_core.aws.paging import every_page
from autotuner_core.cost import prices
from autotuner_core.documents.telemetry import LogsRead, MetricTotals, TelemetryEvidence
from autotuner_core.policy.errors import ObjectNotFoundError, ServiceUnavailableError
from autotuner_core.telemetry import queries

DAY_SECONDS = 86_400
# GetQueryResults until the query is done: DiscoverResources' Task times out at 130 s.
QUERY_DEADLINE_S = 90.0
_POLL_S = 0.5
_DONE = "Complete"
_FAILED = frozenset({"Failed", "Cancelled", "Timeout", "Unknown"})
# (query id, namespace, metric, statistic); the FunctionName dimension unless namespace is AWS/Logs.
_METRICS = (
    ("invocations", "AWS/Lambda", "Invocations", "Sum"),
    ("errors", "AWS/Lambda", "Errors", "Sum"),
    ("throttles", "AWS/Lambda", "Throttles", "Sum"),
    ("duration", "AWS/Lambda", "Duration", "Average"),
    ("concurrency", "AWS/Lambda", "ConcurrentExecutions", "Maximum"),
    ("incomingBytes", "AWS/Logs", "IncomingBytes", "Sum"),
)


def log_group_of(function_name: str, logging_config: dict[str, Any] | None) -> tuple[str, str]:
    """(log group, log format) from the function's LoggingConfig; Lambda's defaults where it names none."""
    config = logging_config or {}
    return str(config.get("LogGroup") or f"/aws/lambda/{function_name}"), str(config.get("LogFormat") or queries.TEXT)


def read(
    logs: Any,
    cloudwatch: Any,
    *,
    function_name: str,
    logging_config: dict[str, Any] | None,
    lookback_days: int,
    scan_cap_bytes: int,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
) -> TelemetryEvidence:
    log_group, log_format = log_group_of(function_name, logging_config)
    series = _metric_series(cloudwatch, function_name, log_group, lookback_days, now)
    metrics = _totals(series)
    daily_bytes = series["incomingBytes"]  # newest first
    estimate = int(sum(value for _, value in daily_bytes))
    window_days, note = _window(daily_bytes, estimate, lookback_days, scan_cap_bytes)
    read_ = LogsRead(
        log_group=log_group,
        log_format=log_format,
        estimated_bytes=estimate,
        scan_cap_bytes=scan_cap_bytes,
        window_days=window_days,
        note=note,
    )
    evidence = TelemetryEvidence(lookback_days=lookback_days, logs=read_, metrics=metrics)
    if not window_days:
        return evidence
    start = now - timedelta(days=window_days)
    try:
        with aws_call("logs:StartQuery", log_group):
            query_id = logs.start_query(
                logGroupName=log_group,
                startTime=int(start.timestamp()),
                endTime=int(now.timestamp()),
                queryString=queries.report_query(log_format),
                limit=1000,
            )["queryId"]
    except ObjectNotFoundError:
        missing = LogsRead(
            log_group=log_group,
            log_format=log_format,
            estimated_bytes=estimate,
            scan_cap_bytes=scan_cap_bytes,
            window_days=0,
            note=f"not read: log group {log_group} does not exist (the function has never logged there)",
        )
        return TelemetryEvidence(lookback_days=lookback_days, logs=missing, metrics=metrics)
    answer = _results(logs, query_id, log_group, sleep)
    statistics = answer.get("statistics") or {}
    scanned = int(statistics.get("bytesScanned", 0))
    done = LogsRead(
        log_group=log_group,
        log_format=log_format,
        estimated_bytes=estimate,
        scan_cap_bytes=scan_cap_bytes,
        window_days=window_days,
        bytes_scanned=scanned,
        scan_usd=round(prices.logs_insights_usd(scanned), 9),
        records_matched=int(statistics.get("recordsMatched", 0)),
        note=note,
    )
    sizes = queries.read_rows(answer.get("results") or [], log_format)
    return TelemetryEvidence(lookback_days=lookback_days, logs=done, metrics=metrics, sizes=sizes)


def _window(
    daily_bytes: list[tuple[datetime, float]], estimate: int, lookback_days: int, cap: int
) -> tuple[float, str | None]:
    """Days to read (0: none) and why fewer than the lookback: the newest days whose bytes fit under ``cap``."""
    if estimate <= cap:
        return float(lookback_days), None
    total, days = 0.0, 0
    for _, value in daily_bytes:
        if total + value > cap:
            break
        total, days = total + value, days + 1
    if not days:
        return 0.0, (
            f"not read: the log group took in {estimate:,} bytes in {lookback_days} days and even its last day "
            f"exceeds the scan cap of {cap:,} bytes (template parameter TelemetryMaxScanBytes)"
        )
    return float(days), (
        f"read over the last {days} of {lookback_days} days: the log group took in {estimate:,} bytes, over the "
        f"scan cap of {cap:,} bytes (template parameter TelemetryMaxScanBytes)"
    )


def _results(logs: Any, query_id: str, log_group: str, sleep: Callable[[float], None]) -> dict[str, Any]:
    deadline = time.monotonic() + QUERY_DEADLINE_S
    while True:
        with aws_call("logs:GetQueryResults", log_group):
            answer: dict[str, Any] = logs.get_query_results(queryId=query_id)
        status = answer.get("status")
        if status == _DONE:
            return answer
        if status in _FAILED:
            raise ServiceUnavailableError(f"logs:GetQueryResults on {log_group}: query {query_id} ended {status}")
        if time.monotonic() > deadline:
            raise ServiceUnavailableError(f"logs:GetQueryResults on {log_group}: query {query_id} still {status}")
        sleep(_POLL_S)


def _metric_series(
    cloudwatch: Any, function_name: str, log_group: str, lookback_days: int, now: datetime
) -> dict[str, list[tuple[datetime, float]]]:
    """Each metric's daily datapoints over the lookback, newest first; GetMetricData paged by NextToken."""
    queries_ = [
        {
            "Id": query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": namespace,
                    "MetricName": name,
                    "Dimensions": [
                        {"Name": "LogGroupName", "Value": log_group}
                        if namespace == "AWS/Logs"
                        else {"Name": "FunctionName", "Value": function_name}
                    ],
                },
                "Period": DAY_SECONDS,
                "Stat": statistic,
            },
        }
        for query_id, namespace, name, statistic in _METRICS
    ]
    series: dict[str, list[tuple[datetime, float]]] = {query_id: [] for query_id, *_ in _METRICS}
    kwargs: dict[str, Any] = {
        "MetricDataQueries": queries_,
        "StartTime": now - timedelta(days=lookback_days),
        "EndTime": now,
        "ScanBy": "TimestampDescending",
    }
    for page in every_page(cloudwatch, "get_metric_data", "cloudwatch:GetMetricData", function_name, **kwargs):
        for result in page.get("MetricDataResults", []):
            series[result["Id"]].extend(zip(result.get("Timestamps", []), result.get("Values", []), strict=False))
    for values in series.values():  # newest first across pages, too
        values.sort(key=lambda item: item[0], reverse=True)
    return series


def _totals(series: dict[str, list[tuple[datetime, float]]]) -> MetricTotals:
    # A day's Average is over that day's invocations: the lookback's average weighs each day by them.
    invocations_on = dict(series["invocations"])
    weighted = [(value, invocations_on.get(day, 0.0)) for day, value in series["duration"]]
    weight = sum(count for _, count in weighted)
    durations = [value for _, value in series["duration"]]
    duration_avg = sum(value * count for value, count in weighted) / weight if weight else None
    if duration_avg is None and durations:
        duration_avg = sum(durations) / len(durations)
    concurrency = [value for _, value in series["concurrency"]]
    return MetricTotals(
        invocations=sum(value for _, value in series["invocations"]),
        errors=sum(value for _, value in series["errors"]),
        throttles=sum(value for _, value in series["throttles"]),
        duration_avg_ms=duration_avg,
        concurrent_executions_max=max(concurrency) if concurrency else None,
        days_with_invocations=sum(1 for _, value in series["invocations"] if value > 0),
    )
