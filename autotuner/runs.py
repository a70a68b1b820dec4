"""Start a tuning execution, follow it to its end, and report on it: `autotuner start` / `autotuner report`.

The same calls serve a deployed stack and the embedded AWS: the state machine and the run-history
table are found through the stack's outputs (``history.resolve_stack``) with any boto3 Session;
only the session's credentials and the endpoint differ. Nothing here knows about the embedded AWS.

    tuner = resolve_tuner(session, "lambda-autotuner")
    arn = start_execution(session, tuner.state_machine_arn, {"targets": ["orders-api"]})
    described = wait_for_execution(session, arn, on_progress=print_lines)
    result = execution_result(session, tuner.table, described)
    print(render_summary(result))

AWS errors become ``HistoryError`` through ``history``'s translation, the CLI's one place for it.
"""

from __future__ import annotations

import json
import textwrap
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from autotuner.history import TABLE_OUTPUT, HistoryError, aws_step, client_for, execution_runs, resolve_stack

__all__ = [
    "DEFAULT_POLL_SECONDS",
    "STATE_MACHINE_OUTPUT",
    "TERMINAL_STATUSES",
    "ExecutionFollower",
    "InputFileError",
    "ProgressLog",
    "RunHistories",
    "StateEntered",
    "Tuner",
    "default_execution_name",
    "describe_execution",
    "describe_map_run",
    "execution_history",
    "execution_result",
    "exit_code",
    "load_input",
    "map_run_executions",
    "map_runs",
    "render_summary",
    "resolve_tuner",
    "run_histories",
    "start_execution",
    "wait_for_execution",
]

STATE_MACHINE_OUTPUT = "StateMachineArn"
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
DEFAULT_POLL_SECONDS = 1.0  # against AWS: DescribeExecution and GetExecutionHistory once a second each
_CAUSE_WIDTH = 110


# StartExecution's input: "Length Constraints: Maximum length of 262144" (Step Functions API reference).
MAX_EXECUTION_INPUT_LENGTH = 262_144


class InputFileError(Exception):
    """The execution input file cannot be read or is not JSON; nothing was sent to AWS."""


def load_input(path: str | Path) -> Any:
    """The execution input from a JSON file; an InputFileError saying why not.

    Only the JSON is checked here: the state machine validates the input model itself
    (ValidatePermissions), and its InvalidInputError names every problem with its field path.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(f"cannot read the execution input {path}: {error}") from None
    try:
        execution_input = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputFileError(
            f"the execution input {path} is not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    # What start_execution will send; AWS would refuse it with a ValidationException, so say so first.
    length = len(json.dumps(execution_input).encode("utf-16-le")) // 2
    if length > MAX_EXECUTION_INPUT_LENGTH:
        raise InputFileError(
            f"the execution input {path} is {length:,} characters as sent; StartExecution accepts at most "
            f"{MAX_EXECUTION_INPUT_LENGTH:,} (Step Functions' limit on an execution input)"
        )
    return execution_input


# --- the stack ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tuner:
    """What a deployed tuner stack's outputs name."""

    stack_name: str
    state_machine_arn: str
    table: str


def resolve_tuner(session: boto3.Session, stack_name: str, *, endpoint_url: str | None = None) -> Tuner:
    """The stack's state machine and run-history table; a HistoryError if it is missing or not the tuner's."""
    outputs = resolve_stack(session, stack_name, endpoint_url=endpoint_url)
    if not outputs.get(STATE_MACHINE_OUTPUT):
        raise HistoryError(
            f"stack {stack_name!r} has no output {STATE_MACHINE_OUTPUT}: is it a Lambda Autotuner stack?"
        )
    return Tuner(stack_name, outputs[STATE_MACHINE_OUTPUT], outputs[TABLE_OUTPUT])


# --- starting and following an execution ----------------------------------------------------------


def default_execution_name(now: datetime | None = None) -> str:
    """``autotuner-20261126-200031-3f2a9c``: sortable, readable in the run records and the results folder."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"autotuner-{moment:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def start_execution(
    session: boto3.Session,
    state_machine_arn: str,
    execution_input: Any,
    *,
    name: str | None = None,
    endpoint_url: str | None = None,
) -> str:
    """StartExecution with this input (JSON-encoded here); the execution's ARN."""
    sfn = client_for(session, "stepfunctions", None, endpoint_url)
    with aws_step("states:StartExecution", f"state machine {state_machine_arn}"):
        return sfn.start_execution(
            stateMachineArn=state_machine_arn,
            name=name or default_execution_name(),
            input=json.dumps(execution_input),
        )["executionArn"]


def describe_execution(
    session: boto3.Session, execution_arn: str, *, endpoint_url: str | None = None
) -> dict[str, Any]:
    """DescribeExecution, as boto3 returns it."""
    sfn = client_for(session, "stepfunctions", None, endpoint_url)
    with aws_step("states:DescribeExecution", f"execution {execution_arn}"):
        return sfn.describe_execution(executionArn=execution_arn)


# --- histories as Step Functions keeps them -----------------------------------------------------


def _pages(sfn: Any, operation: str, action: str, resource: str, key: str, **request: Any) -> list[dict[str, Any]]:
    """Every item of a paged Step Functions listing (boto3's paginator follows nextToken)."""
    items: list[dict[str, Any]] = []
    with aws_step(action, resource):
        for page in sfn.get_paginator(operation).paginate(**request):
            items.extend(page.get(key, []))
    return items


def execution_history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    """GetExecutionHistory, every page: the execution's events, oldest first."""
    return _pages(
        sfn,
        "get_execution_history",
        "states:GetExecutionHistory",
        f"execution {execution_arn}",
        "events",
        executionArn=execution_arn,
    )


def map_runs(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    """ListMapRuns: the Distributed Map runs an execution started."""
    return _pages(
        sfn, "list_map_runs", "states:ListMapRuns", f"execution {execution_arn}", "mapRuns", executionArn=execution_arn
    )


def map_run_executions(sfn: Any, map_run_arn: str) -> list[dict[str, Any]]:
    """ListExecutions with mapRunArn: a map run's child executions, oldest first."""
    children = _pages(
        sfn, "list_executions", "states:ListExecutions", f"map run {map_run_arn}", "executions", mapRunArn=map_run_arn
    )
    return sorted(children, key=lambda child: child["startDate"])


def describe_map_run(sfn: Any, map_run_arn: str) -> dict[str, Any]:
    """DescribeMapRun, as boto3 returns it: status, itemCounts and executionCounts."""
    with aws_step("states:DescribeMapRun", f"map run {map_run_arn}"):
        return sfn.describe_map_run(mapRunArn=map_run_arn)


@dataclass(frozen=True)
class RunHistories:
    """An execution's history and, for each map run it started, its child executions' histories."""

    parent: list[dict[str, Any]]
    map_runs: dict[str, list[str]]  # map run ARN -> its children's execution ARNs, oldest first
    children: dict[str, list[dict[str, Any]]]  # child execution ARN -> its history


def run_histories(sfn: Any, execution_arn: str) -> RunHistories:
    """The whole run as Step Functions keeps it: the parent's history, then every child's.

    A Distributed Map's items are executions of their own: found through ListMapRuns, then
    ListExecutions with each map run's ARN, and read with GetExecutionHistory.
    """
    parent = execution_history(sfn, execution_arn)
    runs: dict[str, list[str]] = {}
    children: dict[str, list[dict[str, Any]]] = {}
    for run in map_runs(sfn, execution_arn):
        arns = [child["executionArn"] for child in map_run_executions(sfn, run["mapRunArn"])]
        runs[run["mapRunArn"]] = arns
        for arn in arns:
            children[arn] = execution_history(sfn, arn)
    return RunHistories(parent, runs, children)


@dataclass(frozen=True)
class StateEntered:
    """A state entered: when (seconds since the execution started) and where (``TuneTargets/CheckCircuit``)."""

    seconds: float
    path: str


class ExecutionFollower:
    """Reads an execution's history incrementally; each ``poll`` returns the states entered since the last.

    GetExecutionHistory has no "since event N": the follower keeps the token of the last page it
    read and starts there next time, skipping the events it has already seen, so a long
    execution's history is not read again from the start on every poll. A state's path names the
    Map states around it, worked out from ``previousEventId``, as iterations interleave.
    """

    def __init__(self, sfn: Any, execution_arn: str, started: datetime) -> None:
        self._sfn = sfn
        self._execution_arn = execution_arn
        self._started = started
        self._page_token: str | None = None  # the token of the last page read (None: the first page)
        self._last_id = 0
        self._scope_after: dict[int, tuple[str, ...]] = {0: ()}  # event id -> Map states around what follows it
        self._map_ended: set[int] = set()  # MapStateSucceeded/Failed/Aborted: the Map's scope is already left

    def poll(self) -> list[StateEntered]:
        entered: list[StateEntered] = []
        token = self._page_token
        while True:
            request: dict[str, Any] = {"executionArn": self._execution_arn, "maxResults": 1000}
            if token:
                request["nextToken"] = token
            with aws_step("states:GetExecutionHistory", f"execution {self._execution_arn}"):
                page = self._sfn.get_execution_history(**request)
            self._page_token = token
            for event in page.get("events", []):
                if event["id"] > self._last_id:
                    self._last_id = event["id"]
                    state = self._read(event)
                    if state is not None:
                        entered.append(state)
            token = page.get("nextToken")
            if not token:
                return entered

    def _read(self, event: dict[str, Any]) -> StateEntered | None:
        scope = self._scope_after.get(event.get("previousEventId") or 0, ())
        kind = event["type"]
        details = event.get("stateEnteredEventDetails")
        state: StateEntered | None = None
        after = scope
        if details is not None:
            path = (*scope, details["name"])
            seconds = max(0.0, (event["timestamp"] - self._started).total_seconds())
            state = StateEntered(seconds, "/".join(path))
            if kind == "MapStateEntered":
                after = path
        elif kind in {"MapStateSucceeded", "MapStateFailed", "MapStateAborted"}:
            after = scope[:-1]
            self._map_ended.add(event["id"])
        elif kind == "MapStateExited" and event.get("previousEventId") not in self._map_ended:
            # Its previous event may be the Map's last iteration's (moto) or its MapStateSucceeded (AWS).
            after = scope[:-1]
        self._scope_after[event["id"]] = after
        return state


@dataclass
class ProgressLog:
    """Progress lines for a person: one per state entered, and for a state entered many times
    between two polls (a Map's iterations: per target, per size), one line with the count.

    ``  12.3 s  TuneTargets/CheckCircuit x4 (12 in all)``: when the first of them was entered,
    how many this time, and how many so far.
    """

    totals: Counter[str] = field(default_factory=Counter)

    def lines(self, entered: list[StateEntered]) -> list[str]:
        batch: dict[str, list[StateEntered]] = {}
        for state in entered:
            batch.setdefault(state.path, []).append(state)
        lines = []
        for path, states in batch.items():
            self.totals[path] += len(states)
            line = f"{states[0].seconds:7.1f} s  {path}"
            if len(states) > 1:
                line += f" x{len(states)}"
            if self.totals[path] > len(states):
                line += f" ({self.totals[path]} in all)"
            lines.append(line)
        return lines


def wait_for_execution(
    session: boto3.Session,
    execution_arn: str,
    *,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    on_progress: Callable[[list[StateEntered]], None] | None = None,
    timeout: float | None = None,
    endpoint_url: str | None = None,
) -> dict[str, Any]:
    """Poll DescribeExecution until the execution ends; its last DescribeExecution.

    With ``on_progress``, each poll also reads the history's new events and passes the states
    entered since the last poll (possibly none). After the end, the history is read once more,
    so every state entered is reported. ``timeout`` (seconds) raises TimeoutError.
    """
    sfn = client_for(session, "stepfunctions", None, endpoint_url)
    deadline = None if timeout is None else time.monotonic() + timeout
    follower: ExecutionFollower | None = None
    while True:
        with aws_step("states:DescribeExecution", f"execution {execution_arn}"):
            described = sfn.describe_execution(executionArn=execution_arn)
        if on_progress is not None:
            follower = follower or ExecutionFollower(sfn, execution_arn, described["startDate"])
            on_progress(follower.poll())
        if described["status"] in TERMINAL_STATUSES:
            return described
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"{execution_arn} is still {described['status']} after {timeout} s")
        time.sleep(poll_seconds)


# --- the result ------------------------------------------------------------------------------


def execution_result(
    session: boto3.Session, table: str, described: dict[str, Any], *, endpoint_url: str | None = None
) -> dict[str, Any]:
    """An ended execution as JSON-ready values: its DescribeExecution and its run records.

    ``executionArn``, ``name``, ``status``, ``error``, ``cause``, ``startDate``, ``stopDate`` (ISO
    8601), ``output`` (the run summary, absent when the run failed) and ``records`` (one per target).
    """
    arn = described["executionArn"]
    records = execution_runs(session, table, arn, endpoint_url=endpoint_url)
    return {
        "executionArn": arn,
        "name": described.get("name") or arn.rsplit(":", 1)[-1],
        "status": described["status"],
        "error": described.get("error"),
        "cause": described.get("cause"),
        "startDate": _iso(described.get("startDate")),
        "stopDate": _iso(described.get("stopDate")),
        "output": json.loads(described["output"]) if described.get("output") else None,
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


def _cause_text(cause: str) -> str:
    """A Lambda error's cause is a JSON document with a stack trace: the message is what a person needs."""
    try:
        document = json.loads(cause)
    except ValueError:
        return cause
    if isinstance(document, dict) and document.get("errorMessage"):
        return str(document["errorMessage"])
    return cause


def _counts(result: dict[str, Any]) -> tuple[dict[str, int], str]:
    output = result.get("output") or {}
    if output.get("counts"):
        return dict(output["counts"]), ""
    counted = Counter(str(record.get("outcome") or "no outcome") for record in result.get("records") or [])
    return dict(sorted(counted.items())), " (from the run records)"


def _savings(amount: float) -> str:
    if amount >= 0:
        return f"${amount:,.2f} per million invocations, projected from the changes applied"
    return f"-${-amount:,.2f} per million invocations: the sizes applied cost more (chosen for speed)"


def _run_cost(cost: dict[str, Any]) -> str:
    counted, estimated = cost.get("counted") or {}, cost.get("estimated") or {}
    text = f"{counted.get('stateTransitions', '?')} state transitions"
    if estimated.get("stateTransitions") is not None:
        text += f" (estimated up to {estimated['stateTransitions']})"
    text += f", {counted.get('targetInvocations', '?')} target invocations"
    if counted.get("totalUsd") is not None:
        text += f", ${counted['totalUsd']:.4f} in all"
    return text


def render_summary(result: dict[str, Any]) -> str:
    """The execution in a few lines: status and time, error and cause, counts by outcome, savings, run cost."""
    lines = [f"execution  {result['executionArn']}"]
    seconds = _seconds(result)
    lines.append(f"status     {result['status']}" + (f" after {seconds:.1f} s" if seconds is not None else ""))
    if result.get("error"):
        lines.append(f"error      {result['error']}")
    if result.get("cause"):
        lines += textwrap.wrap(
            _cause_text(result["cause"]),
            width=_CAUSE_WIDTH,
            break_on_hyphens=False,
            initial_indent="cause      ",
            subsequent_indent=" " * 11,
        )
    counts, source = _counts(result)
    outcomes = ", ".join(f"{outcome} {count}" for outcome, count in counts.items()) or "none recorded"
    lines.append(f"outcomes   {outcomes}{source}")
    output = result.get("output") or {}
    if output.get("projectedSavingsPerMillionUsd") is not None:
        savings = float(output["projectedSavingsPerMillionUsd"])
        applied = counts.get("APPLIED", 0) > 0
        lines.append(f"savings    {_savings(savings) if applied or savings else 'none projected: nothing applied'}")
    if output.get("runCost"):
        lines.append(f"run cost   {_run_cost(output['runCost'])}")
    return "\n".join(lines)
