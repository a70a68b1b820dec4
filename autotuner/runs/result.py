"""An ended execution's result (its description, map runs and run records) and its text for a person."""

from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from datetime import datetime
from typing import Any

import boto3

from autotuner.history import client_for, execution_runs
from autotuner.reports import function_name
from autotuner_core.cost import savings
from run_history import describe_map_run, map_runs

_CAUSE_WIDTH = 110


def execution_result(
    session: boto3.Session, table: str, described: dict[str, Any], *, endpoint_url: str | None = None
) -> dict[str, Any]:
    """An ended execution as JSON-ready values: its DescribeExecution and its run records.

    ``executionArn``, ``name``, ``status``, ``error``, ``cause``, ``startDate``, ``stopDate`` (ISO
    8601), ``output`` (the run summary, absent when the run failed), ``mapRuns`` (each Distributed
    Map run's status and DescribeMapRun's ``executionCounts``) and ``records`` (one per target).
    """
    arn = described["executionArn"]
    records = execution_runs(session, table, arn, endpoint_url=endpoint_url)
    sfn = client_for(session, "stepfunctions", None, endpoint_url)
    swept = [describe_map_run(sfn, run["mapRunArn"]) for run in map_runs(sfn, arn)]
    return {
        "executionArn": arn,
        "name": described.get("name") or arn.rsplit(":", 1)[-1],
        "status": described["status"],
        "error": described.get("error"),
        "cause": described.get("cause"),
        "startDate": _iso(described.get("startDate")),
        "stopDate": _iso(described.get("stopDate")),
        "output": json.loads(described["output"]) if described.get("output") else None,
        "mapRuns": [
            {
                "mapRunArn": run["mapRunArn"],
                "status": run.get("status"),
                "executionCounts": dict(run.get("executionCounts") or {}),
            }
            for run in swept
        ],
        "records": records,
    }


def exit_code(status: str) -> int:
    """0 for SUCCEEDED; 1 for FAILED, TIMED_OUT, ABORTED (or anything else)."""
    return 0 if status == "SUCCEEDED" else 1


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def _seconds(result: dict[str, Any]) -> float | None:
    try:
        start, stop = datetime.fromisoformat(result["startDate"]), datetime.fromisoformat(result["stopDate"])
    except (KeyError, TypeError, ValueError):
        return None
    return (stop - start).total_seconds()


def cause_message(cause: str) -> str:
    """A Lambda error's cause is a JSON document with a stack trace: the message is what a person needs."""
    try:
        document = json.loads(cause)
    except ValueError:
        return cause
    if isinstance(document, dict) and document.get("errorMessage"):
        return str(document["errorMessage"])
    return cause


# InvalidInputError: "invalid execution input (3 problems): stratgy: unknown field (got 'cost'); …"
_PROBLEMS = re.compile(r"^(?P<head>[^:]*\(\d+ problems?\)): (?P<problems>.+)$", re.DOTALL)
# PartialFailureError: "1 of 6 targets failed: <target>: <error>: <message>; …" (each target's record says it)
_PARTIAL = re.compile(r"^(?P<head>\d+ of \d+ targets? failed): ")


def error_lines(error: str | None, cause: str | None, *, indent: int, width: int = _CAUSE_WIDTH) -> list[str]:
    """The error's type and its cause for a person: the message without the stack trace, wrapped.

    Bad input lists one problem a line, each with its field path (``stratgy: unknown field``); a
    partial failure's cause only counts the failed targets, whose own errors are printed with them.
    """
    lines = [f"{'error':<{indent}}{error}"] if error else []
    if not cause:
        return lines
    message = cause_message(cause)
    problems = _PROBLEMS.match(message)
    if problems:
        lines.append(f"{'cause':<{indent}}{problems['head']}:")
        lines += [f"{'':<{indent}}  {problem}" for problem in problems["problems"].split("; ")]
        return lines
    partial = _PARTIAL.match(message)
    if partial:
        message = f"{partial['head']} (each one's error is with its record)"
    return lines + textwrap.wrap(
        message,
        width=width,
        break_on_hyphens=False,
        initial_indent=f"{'cause':<{indent}}",
        subsequent_indent=" " * indent,
    )


def record_error_lines(records: list[dict[str, Any]], *, indent: int, width: int = _CAUSE_WIDTH) -> list[str]:
    """Each failed or skipped record's error: ``<function>: <type>: <message>``, wrapped under ``indent``."""
    lines = []
    for record in records:
        if not record.get("errorType"):
            continue
        text = f"{function_name(record)}: {record['errorType']}"
        if record.get("errorMessage"):
            text += f": {record['errorMessage']}"
        lines += textwrap.wrap(
            text,
            width=width,
            break_on_hyphens=False,
            initial_indent=" " * indent,
            subsequent_indent=" " * (indent + 4),
        )
    return lines


MAX_SAVINGS_LINES = 10


def savings_lines(records: list[dict[str, Any]], *, indent: int, each: bool = True) -> list[str]:
    """What the run's decisions save: the biggest changes one a line (``each``), then the run's total.

    Each saving is a month's dollars at the function's traffic where its traffic is known, else per
    million of its own invocations (``autotuner_core.cost.savings``). Empty when nothing was decided.
    """
    decided = [record for record in records if record.get("outcome") in savings.DECIDED]
    if not decided:
        return []
    rows = savings.priced(decided, function_name)
    shown = rows[:MAX_SAVINGS_LINES] if each else []
    lines = [f"{row.name}: {savings.savings_text(row.savings, row.outcome)}" for row in shown]
    if each and len(rows) > MAX_SAVINGS_LINES:
        lines.append(f"and {len(rows) - MAX_SAVINGS_LINES} more changes (autotuner runs EXECUTION_ARN lists them)")
    unpriced = [record for record in decided if savings.savings_of(record) is None]
    # Measured but not priced: the current size has no measurement to compare the change with.
    unmeasured = sum(1 for record in unpriced if record.get("configurations"))
    kept = len(decided) - len(rows) - len(unpriced)
    if kept:
        lines.append(f"{kept} function{'s keep their' if kept != 1 else ' keeps its'} size: $0.00 a month")
    if len(unpriced) - unmeasured:
        lines.append(f"{len(unpriced) - unmeasured} not priced: a fixed memory size was asked for, nothing measured")
    if unmeasured:
        lines.append(f"{unmeasured} not priced: the current size was not measured, so no change can be priced")
    if rows or kept:
        lines.append(f"in all: {savings.money_summary(rows)}")
    return [f"{'savings' if index == 0 else '':<{indent}}{line}" for index, line in enumerate(lines)]


def _counts(result: dict[str, Any]) -> tuple[dict[str, int], str]:
    output = result.get("output") or {}
    if output.get("counts"):
        return dict(output["counts"]), ""
    counted = Counter(str(record.get("outcome") or "no outcome") for record in result.get("records") or [])
    return dict(sorted(counted.items())), " (from the run records)"


def run_cost_text(cost: dict[str, Any]) -> str:
    """The run's own cost in one line: what was counted, and the estimate made before it ran."""
    counted, estimated = cost.get("counted") or {}, cost.get("estimated") or {}
    text = f"{counted.get('stateTransitions', '?')} state transitions"
    if estimated.get("stateTransitions") is not None:
        text += f" (estimated up to {estimated['stateTransitions']})"
    text += f", {counted.get('targetInvocations', '?')} target invocations"
    if counted.get("targetGbSeconds") is not None:
        text += f" ({float(counted['targetGbSeconds']):.2f} GB-s)"
    if counted.get("tunerGbSeconds") is not None:
        text += f", tuner {counted.get('tunerInvocations', '?')} Lambda invocations"
        calls = counted.get("controlPlaneCalls", "?")
        text += f" ({float(counted['tunerGbSeconds']):.2f} GB-s), {calls} control-plane calls"
    if counted.get("totalUsd") is not None:
        text += f", ${counted['totalUsd']:.4f} in all"
    return text


def run_budget_text(cost: dict[str, Any]) -> str | None:
    """The pre-run estimate in one line, its figures in :func:`run_cost_text`'s order (upper bounds), or None."""
    estimated = cost.get("estimated") or {}
    if estimated.get("versionsCreated") is None:
        return None  # a run estimated before the budget existed: only transitions were estimated
    bases = Counter(item.get("basis", "?") for item in estimated.get("targets") or [])
    how = ", ".join(f"{basis} {count}" for basis, count in sorted(bases.items()))
    text = f"up to {estimated['stateTransitions']} state transitions"
    text += f", {estimated['targetInvocations']} target invocations"
    text += f" ({float(estimated.get('targetGbSeconds', 0.0)):.2f} GB-s" + (f"; bounded by {how})" if how else ")")
    text += f", tuner {estimated.get('tunerInvocations', '?')} Lambda invocations"
    text += f" ({float(estimated.get('tunerGbSeconds', 0.0)):.2f} GB-s), {estimated['versionsCreated']} versions"
    if estimated.get("shadowsCreated"):
        text += f", {estimated['shadowsCreated']} shadow functions"
    text += f", {estimated.get('controlPlaneCalls', '?')} control-plane calls, ${estimated['totalUsd']:.4f} in all"
    return text


def _map_run_counts(run: dict[str, Any]) -> str:
    counts = run.get("executionCounts") or {}
    total = int(counts.get("total", 0))
    text = f"{total} child execution{'s' if total != 1 else ''}: "
    text += f"{counts.get('succeeded', 0)} succeeded, {counts.get('failed', 0)} failed"
    for key, label in (("timedOut", "timed out"), ("aborted", "aborted"), ("running", "running")):
        if counts.get(key):
            text += f", {counts[key]} {label}"
    return text + f" ({run.get('status') or 'unknown'})"


def render_summary(result: dict[str, Any]) -> str:
    """The execution in a few lines: status and time, error and cause, its map runs' child executions,
    counts by outcome, savings, run cost."""
    lines = [f"execution  {result['executionArn']}"]
    seconds = _seconds(result)
    lines.append(f"status     {result['status']}" + (f" after {seconds:.1f} s" if seconds is not None else ""))
    lines += error_lines(result.get("error"), result.get("cause"), indent=11)
    for run in result.get("mapRuns") or []:
        lines.append(f"map run    {_map_run_counts(run)}")
    counts, source = _counts(result)
    outcomes = ", ".join(f"{outcome} {count}" for outcome, count in counts.items()) or "none recorded"
    lines.append(f"outcomes   {outcomes}{source}")
    records = result.get("records") or []
    erred = [record for record in records if record.get("errorType")]
    # A run of one failed target fails with that target's error: its cause above says it already.
    if erred and (result.get("error") == "PartialFailureError" or not result.get("cause")):
        lines.append(f"{'errors':<11}{len(erred)} target{'s' if len(erred) != 1 else ''}:")
        lines += record_error_lines(erred, indent=13)
    lines += savings_lines(records, indent=11)
    output = result.get("output") or {}
    if output.get("runCost"):
        lines.append(f"run cost   {run_cost_text(output['runCost'])}")
        budget = run_budget_text(output["runCost"])
        if budget:
            lines.append(f"estimate   {budget}")
    lines += report_lines(output, indent=11)
    return "\n".join(lines)


def report_lines(output: dict[str, Any], *, indent: int) -> list[str]:
    """Where the run's HTML report is (its S3 URI and presigned link), and any warning beside the result."""
    label = f"{{:<{indent}}}"
    lines = []
    report = output.get("report") or {}
    if report.get("s3Uri"):
        lines.append(label.format("report") + report["s3Uri"])
        if report.get("url"):
            lines.append(" " * indent + f"{report['url']} (until {report.get('urlExpiresAt', '?')})")
    lines += [label.format("warning") + str(warning) for warning in output.get("warnings") or []]
    return lines
