"""Run history an operator can read: the run-history table, through any boto3 Session.

The same calls serve a deployed stack and the embedded AWS; only the session's credentials and
the endpoint differ. Nothing here knows about the embedded AWS.

    outputs = resolve_stack(session, "lambda-autotuner")
    runs = target_runs(session, outputs["RunHistoryTableName"], "orders-api", limit=5)
    print(render_runs(runs, title="orders-api"))

A failed AWS call becomes ``HistoryError`` through ``run_history.aws_step``, the operator side's
one translation of botocore errors (shared with the embedded AWS, which reads runs the same way).
"""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError

from autotuner import tables
from autotuner.reports import function_name
from autotuner_core.cost import savings
from autotuner_core.documents.request import partition_for
from run_history import BY_EXECUTION_INDEX, HistoryError, aws_step, execution_records, query_items

__all__ = [
    "BY_EXECUTION_INDEX",
    "TABLE_OUTPUT",
    "HistoryError",
    "execution_runs",
    "function_arn",
    "open_session",
    "region_of",
    "render_runs",
    "resolve_stack",
    "target_runs",
]

TABLE_OUTPUT = "RunHistoryTableName"
_SUMMARY_WIDTH = 72

# A Lambda function as the tuner's input names it: name, partial ARN or ARN, optionally qualified.
_FUNCTION = re.compile(
    r"^(?:(?:arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):)?"
    r"(?P<account>\d{12}):function:)?"
    r"(?P<name>[A-Za-z0-9_-]{1,140})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
)
_EXECUTION = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):states:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):(?P<account>\d{12}):"
    r"(?:execution|express):[^:]+:[^:]+$"
)
_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:[a-z-]+:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):")


# --- AWS access -----------------------------------------------------------------------------


def open_session(*, profile: str | None = None, region: str | None = None) -> boto3.Session:
    """A boto3 Session for a named profile (or the default chain); an unknown profile is a HistoryError."""
    try:
        return boto3.Session(profile_name=profile, region_name=region)
    except BotoCoreError as error:
        raise HistoryError(str(error)) from error


def client_for(session: boto3.Session, service: str, region: str | None, endpoint_url: str | None) -> Any:
    region = region or session.region_name
    if not region:
        raise HistoryError(
            "no AWS region: pass --region or configure one (AWS_DEFAULT_REGION, or the profile's region)"
        )
    try:
        return session.client(service, region_name=region, endpoint_url=endpoint_url)
    except (BotoCoreError, ValueError) as error:  # ValueError: a malformed endpoint URL
        raise HistoryError(f"cannot create a {service} client: {error}") from error


# --- public API -----------------------------------------------------------------------------


def resolve_stack(session: boto3.Session, stack_name: str, *, endpoint_url: str | None = None) -> dict[str, str]:
    """The stack's Outputs by key; a HistoryError naming the stack if it is missing or not the tuner's."""
    cloudformation = client_for(session, "cloudformation", None, endpoint_url)
    region = cloudformation.meta.region_name
    missing = (
        f"stack {stack_name!r} does not exist in {region}: pass --stack with the name you deployed "
        "(sam deploy), --region, or --table with the run-history table's name"
    )
    with aws_step("cloudformation:DescribeStacks", f"stack {stack_name!r}", missing=missing):
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {output["OutputKey"]: output.get("OutputValue", "") for output in stacks[0].get("Outputs") or []}
    if TABLE_OUTPUT not in outputs:
        raise HistoryError(
            f"stack {stack_name!r} in {region} has no output {TABLE_OUTPUT} "
            f"(status {stacks[0].get('StackStatus', 'unknown')}): is it a Lambda Autotuner stack?"
        )
    return outputs


def region_of(arn: str) -> str | None:
    """The region an ARN names, or None for a name or partial ARN."""
    match = _ARN_REGION.match(arn)
    return match["region"] if match else None


def function_arn(
    session: boto3.Session,
    function: str,
    *,
    region: str | None = None,
    account: str | None = None,
    endpoint_url: str | None = None,
) -> str:
    """The unqualified function ARN the table is keyed by, from a name, partial ARN or ARN.

    A bare name takes ``region`` (default: the session's) and ``account`` (default: the caller's,
    from STS GetCallerIdentity); a qualifier is dropped, as records are kept per function.
    """
    match = _FUNCTION.match(function.strip())
    if match is None:
        raise HistoryError(f"{function!r} is not a Lambda function name, partial ARN or ARN")
    if match["partition"]:
        return f"arn:{match['partition']}:lambda:{match['region']}:{match['account']}:function:{match['name']}"
    region = region or session.region_name
    if not region:
        raise HistoryError(
            "no AWS region: pass --region or configure one (AWS_DEFAULT_REGION, or the profile's region)"
        )
    account = match["account"] or account
    if account is None:
        sts = client_for(session, "sts", region, endpoint_url)
        with aws_step("sts:GetCallerIdentity", "the caller"):
            account = sts.get_caller_identity()["Account"]
    return f"arn:{partition_for(region)}:lambda:{region}:{account}:function:{match['name']}"


def target_runs(
    session: boto3.Session,
    table: str,
    function: str,
    *,
    limit: int = 10,
    region: str | None = None,
    account: str | None = None,
    endpoint_url: str | None = None,
) -> list[dict[str, Any]]:
    """The latest ``limit`` run records of one function, newest first (plain JSON values).

    ``function`` is a name, partial ARN or ARN (see ``function_arn``); ``region`` defaults to
    the session's and is where the table is read.
    """
    if limit < 1:
        raise HistoryError(f"limit must be at least 1, got {limit}")
    arn = function_arn(session, function, region=region, account=account, endpoint_url=endpoint_url)
    dynamodb = client_for(session, "dynamodb", region, endpoint_url)
    return query_items(
        dynamodb,
        f"table {table!r} (runs of {arn})",
        limit,
        TableName=table,
        KeyConditionExpression="#target = :target",
        ExpressionAttributeNames={"#target": "target"},
        ExpressionAttributeValues={":target": {"S": arn}},
        ScanIndexForward=False,  # runKey starts with the execution's start time: newest first
    )


def execution_runs(
    session: boto3.Session, table: str, execution_arn: str, *, endpoint_url: str | None = None
) -> list[dict[str, Any]]:
    """Every run record of one execution (one per target), by target, through the byExecution index.

    The table is read in the session's region, or the execution's if the session has none.
    """
    match = _EXECUTION.match(execution_arn.strip())
    if match is None:
        raise HistoryError(f"{execution_arn!r} is not a Step Functions execution ARN (arn:aws:states:…:execution:…)")
    dynamodb = client_for(session, "dynamodb", session.region_name or match["region"], endpoint_url)
    return execution_records(dynamodb, table, execution_arn.strip())


# --- text -----------------------------------------------------------------------------------


def iac_lines(records: list[dict[str, Any]], *, title: str) -> list[str]:
    """What to change in each function's source (record ``iac``), one line each, under ``title``."""
    changes = [record for record in records if record.get("iac")]
    if not changes:
        return []
    lines = ["", title]
    for record in changes:
        change = record["iac"]
        lines.append(f"  {_target(record)}: set `{change['line']}` {change['where']}")
    return lines


def _started(record: dict[str, Any]) -> str:
    text = str(record.get("executionStartedAt") or str(record.get("runKey", "")).partition("#")[0])
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text or "-"
    if moment.utcoffset() is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _execution_name(record: dict[str, Any]) -> str:
    _, hash_mark, name = str(record.get("runKey", "")).partition("#")
    if hash_mark and name:
        return name
    return str(record.get("executionArn") or "-").rsplit(":", 1)[-1]


def _target(record: dict[str, Any]) -> str:
    name = function_name(record)
    return f"{name}:{record['qualifier']}" if record.get("qualifier") else name


def _memory(record: dict[str, Any]) -> str:
    before = (record.get("before") or {}).get("MemorySize")
    after = (record.get("after") or {}).get("MemorySize")
    if before is not None and after is not None and before != after:
        return f"{before} → {after}"
    if before is not None:
        return str(before)
    return "-"


def _shorten(text: str, width: int = _SUMMARY_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _detail(record: dict[str, Any]) -> str:
    if record.get("deployRevert"):
        return _shorten(str(record["deployRevert"]["message"]))
    if record.get("errorType"):
        detail = str(record["errorType"])
        if record.get("errorCategory"):
            detail += f" ({record['errorCategory']})"
        if record.get("failedStage"):
            detail += f" in {record['failedStage']}"
        return detail
    summary = (record.get("recommendation") or {}).get("summary")
    if summary:
        # The first clause says what was chosen and why; the rest (per-million projections) can wait for `runs`.
        return _shorten(str(summary).split("; ", 1)[0])
    if "memorySize" in (record.get("requested") or {}):
        return "fixed size requested, nothing measured"
    return "-"


def _duration(milliseconds: float) -> str:
    if milliseconds < 1000:
        return f"{milliseconds:.0f} ms"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s"


def _time(record: dict[str, Any]) -> str:
    if record.get("timeToFailureMs") is not None:
        return f"failed after {_duration(float(record['timeToFailureMs']))}"
    if record.get("elapsedMs") is not None:
        return _duration(float(record["elapsedMs"]))
    return "-"


_HEADER = ("started (UTC)", "execution", "target", "outcome", "memory MB", "saving", "result", "time")
_ERROR_WIDTH = 110


def render_runs(records: list[dict[str, Any]], *, title: str) -> str:
    """A table of run records, one line each, in the order given, its errors in full below it.

    Columns: the execution's start (UTC, to the second), its name, the target function, the
    outcome, memory before → after, the recommendation's summary (shortened) or the error's
    type, category and failed stage, and the time to failure or the time the run took to record it.
    """
    if not records:
        return f"{title}\n(no run records)"
    rows = [
        (
            _started(r),
            _execution_name(r),
            _target(r),
            str(r.get("outcome") or "-"),
            _memory(r),
            savings.short_text(savings.savings_of(r)),
            _detail(r),
            _time(r),
        )
        for r in records
    ]
    lines = [title, *tables.render(_HEADER, rows).splitlines()]
    # What each error says, in full: the table has room for its type only.
    erred = [record for record in records if record.get("errorType")]
    if erred:
        lines += ["", "errors:"]
        for record in erred:
            text = f"{_started(record)} {_target(record)}: {record['errorType']}"
            if record.get("errorMessage"):
                text += f": {record['errorMessage']}"
            lines += textwrap.wrap(
                text, width=_ERROR_WIDTH, break_on_hyphens=False, initial_indent="  ", subsequent_indent="      "
            )
    lines += iac_lines(records, title="in the source (its next deploy keeps the size):")
    reverted = [record for record in records if record.get("deployRevert")]
    if reverted:
        lines += ["", "deploy reverts:"]
        for record in reverted:
            text = f"{_started(record)} {_target(record)}: {record['deployRevert']['message']}"
            lines += textwrap.wrap(
                text, width=_ERROR_WIDTH, break_on_hyphens=False, initial_indent="  ", subsequent_indent="      "
            )
    has_saving = any(row[5] != "-" for row in rows)
    if has_saving:
        lines += [
            "",
            f"saving: a month ({savings.HOURS_PER_MONTH} hours) at the function's traffic of the 24 h "
            "before the run, or per million invocations (1M) where its traffic is unknown",
        ]
    return "\n".join(lines)
