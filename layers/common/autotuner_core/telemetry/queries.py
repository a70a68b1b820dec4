"""The Logs Insights queries telemetry mode sends, one per log format, and how their rows are read.

Both group the function's REPORT records by memory size, so a size change within the window gives
one row per size: a measured curve. Logs Insights reports the text format's ``@memorySize`` and
``@maxMemoryUsed`` in bytes (1 MB = 1,000,000 bytes); the JSON format's ``record.metrics`` keep MB.
The embedded AWS (emulator/logs_insights.py) accepts exactly these queries' grammar.
"""

from __future__ import annotations

from typing import Any

from autotuner_core.documents.telemetry import SizeTelemetry

TEXT = "Text"
JSON = "JSON"
BYTES_PER_MB = 1_000_000

# (output name, aggregate over the text format's fields, over the JSON format's)
_AGGREGATES: tuple[tuple[str, str, str], ...] = (
    ("invocations", "count(*)", "count(*)"),
    ("durationP50", "pct(@duration, 50)", "pct(record.metrics.durationMs, 50)"),
    ("durationP90", "pct(@duration, 90)", "pct(record.metrics.durationMs, 90)"),
    ("durationP99", "pct(@duration, 99)", "pct(record.metrics.durationMs, 99)"),
    ("billedAvg", "avg(@billedDuration)", "avg(record.metrics.billedDurationMs)"),
    ("billedP99", "pct(@billedDuration, 99)", "pct(record.metrics.billedDurationMs, 99)"),
    ("maxUsedP99", "pct(@maxMemoryUsed, 99)", "pct(record.metrics.maxMemoryUsedMB, 99)"),
    ("maxUsedMax", "max(@maxMemoryUsed)", "max(record.metrics.maxMemoryUsedMB)"),
    ("coldStarts", "count(@initDuration)", "count(record.metrics.initDurationMs)"),
    ("initAvg", "avg(@initDuration)", "avg(record.metrics.initDurationMs)"),
    ("timeouts", 'sum(strcontains(@message, "Status: timeout"))', 'sum(strcontains(record.status, "timeout"))'),
    (
        "outOfMemory",
        'sum(strcontains(@message, "Runtime.OutOfMemory"))',
        'sum(strcontains(record.errorType, "Runtime.OutOfMemory"))',
    ),
)
_FILTER = {TEXT: 'filter @type = "REPORT"', JSON: 'filter type = "platform.report"'}
_BY = {TEXT: "@memorySize", JSON: "record.metrics.memorySizeMB"}


def report_query(log_format: str) -> str:
    """The query for a log group of ``log_format`` (LoggingConfig.LogFormat: Text or JSON)."""
    if log_format not in _FILTER:
        raise ValueError(f"log format {log_format!r} is not Text or JSON")
    column = 1 if log_format == TEXT else 2
    stats = ", ".join(f"{aggregate[column]} as {aggregate[0]}" for aggregate in _AGGREGATES)
    return f"{_FILTER[log_format]}\n| stats {stats} by {_BY[log_format]}"


def read_rows(rows: list[list[dict[str, str]]], log_format: str) -> list[SizeTelemetry]:
    """GetQueryResults' ``results`` as one SizeTelemetry per memory size, smallest first."""
    scale = BYTES_PER_MB if log_format == TEXT else 1

    def to_mb(value: float) -> float:
        return value / scale

    sizes = []
    for row in rows:
        cells = {cell["field"]: cell.get("value") for cell in row}
        size = _number(cells, _BY[log_format])
        if size is None:
            continue

        def number(name: str, cells: dict[str, Any] = cells) -> float:
            value = _number(cells, name)
            return 0.0 if value is None else value

        init = _number(cells, "initAvg")
        sizes.append(
            SizeTelemetry(
                memory_size=round(to_mb(size)),
                invocations=int(number("invocations")),
                duration_p50_ms=number("durationP50"),
                duration_p90_ms=number("durationP90"),
                duration_p99_ms=number("durationP99"),
                billed_duration_avg_ms=number("billedAvg"),
                billed_duration_p99_ms=number("billedP99"),
                max_memory_used_p99_mb=to_mb(number("maxUsedP99")),
                max_memory_used_max_mb=to_mb(number("maxUsedMax")),
                cold_starts=int(number("coldStarts")),
                init_duration_avg_ms=init,
                timeouts=int(number("timeouts")),
                out_of_memory=int(number("outOfMemory")),
            )
        )
    return sorted(sizes, key=lambda size: size.memory_size)


def _number(cells: dict[str, Any], name: str) -> float | None:
    value = cells.get(name)
    if value in (None, ""):
        return None
    return float(value)
