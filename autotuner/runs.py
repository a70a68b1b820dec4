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
import re
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
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from autotuner.history import TABLE_OUTPUT, HistoryError, aws_step, client_for, execution_runs, resolve_stack
from autotuner.reports import function_name
from autotuner_core.cost import savings

__all__ = [
    "DEFAULT_POLL_SECONDS",
    "STATE_MACHINE_OUTPUT",
    "TERMINAL_STATUSES",
    "ExecutionFollower",
    "FollowDisplay",
    "FollowUpdate",
    "InputFileError",
    "MapRunProgress",
    "ProgressLog",
    "RunFollower",
    "RunHistories",
    "StateEntered",
    "Tuner",
    "cause_message",
    "default_execution_name",
    "describe_execution",
    "describe_map_run",
    "error_lines",
    "execution_history",
    "execution_result",
    "exit_code",
    "load_input",
    "map_run_executions",
    "map_runs",
    "record_error_lines",
    "render_summary",
    "report_lines",
    "resolve_tuner",
    "run_histories",
    "savings_lines",
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

    def __init__(self, sfn: Any, execution_arn: str, started: datetime, *, scope: tuple[str, ...] = ()) -> None:
        self._sfn = sfn
        self._execution_arn = execution_arn
        self._started = started
        self._page_token: str | None = None  # the token of the last page read (None: the first page)
        self._last_id = 0
        # event id -> Map states around what follows it; a child execution starts inside its parent's Map
        self._scope_after: dict[int, tuple[str, ...]] = {0: scope}
        self._map_ended: set[int] = set()  # MapStateSucceeded/Failed/Aborted: the Map's scope is already left
        self._map_runs: list[tuple[str, tuple[str, ...]]] = []  # MapRunStarted not yet taken: (ARN, Map path)

    def take_map_runs(self) -> list[tuple[str, tuple[str, ...]]]:
        """The map runs started since the last call: each one's ARN and the path of its Map state."""
        taken, self._map_runs = self._map_runs, []
        return taken

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
        elif kind == "MapRunStarted":
            self._map_runs.append((event.get("mapRunStartedEventDetails", {}).get("mapRunArn", ""), scope))
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


@dataclass(frozen=True)
class MapRunProgress:
    """A sweep's map run as DescribeMapRun counts it: children done (ended), failed, in all; rate; time left."""

    map_run_arn: str
    path: str  # the Map state's path, ``TuneTargets``
    status: str  # RUNNING, SUCCEEDED, FAILED, ABORTED
    total: int
    succeeded: int
    failed: int  # failed, timed out or aborted
    running: int
    seconds: float  # since the map run started (to its stop, once stopped)
    stopped_at: float | None = None  # when it stopped, in seconds since the execution started

    @property
    def done(self) -> int:
        return self.succeeded + self.failed

    @property
    def rate(self) -> float:
        """Children ended per second so far."""
        return self.done / self.seconds if self.seconds > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        """At the rate so far; None before the first child has ended."""
        if self.done >= self.total:
            return 0.0
        return (self.total - self.done) / self.rate if self.rate > 0 else None

    @classmethod
    def of(
        cls, described: dict[str, Any], path: str, *, execution_started: datetime, now: datetime | None = None
    ) -> MapRunProgress:
        """From DescribeMapRun's answer; ``now`` (default: the clock) ends a running map run's time."""
        counts = described.get("executionCounts") or {}
        stopped = described.get("stopDate")
        end = stopped or now or datetime.now(UTC)
        return cls(
            map_run_arn=described["mapRunArn"],
            path=path,
            status=described.get("status", "RUNNING"),
            total=int(counts.get("total", 0)),
            succeeded=int(counts.get("succeeded", 0)),
            failed=sum(int(counts.get(key, 0)) for key in ("failed", "timedOut", "aborted")),
            running=int(counts.get("running", 0)),
            seconds=max(0.0, (end - described["startDate"]).total_seconds()),
            stopped_at=(stopped - execution_started).total_seconds() if stopped else None,
        )


@dataclass(frozen=True)
class FollowUpdate:
    """One poll: the states entered since the last (the parent's, and a single target's child's), and
    every sweep's map run counts (more than one item: its children are counted, not listed)."""

    states: list[StateEntered]
    map_runs: list[MapRunProgress]


@dataclass
class _FollowedMapRun:
    path: tuple[str, ...]
    child: ExecutionFollower | None = None
    ended: bool = False


class RunFollower:
    """Follows an execution as Step Functions keeps it: the parent's history, and its map runs.

    A Distributed Map's items run as child executions; the parent's history shows only
    ``MapRunStarted`` / ``MapRunSucceeded``. For a map run over one item (one target), the
    child's history is followed too (ListExecutions with ``mapRunArn``), its states named under
    the Map (``TuneTargets/CheckCircuit``); for a sweep, DescribeMapRun's counts are reported.
    """

    def __init__(self, sfn: Any, execution_arn: str, started: datetime) -> None:
        self._sfn = sfn
        self._started = started
        self._parent = ExecutionFollower(sfn, execution_arn, started)
        self._map_runs: dict[str, _FollowedMapRun] = {}

    def poll(self) -> FollowUpdate:
        parent = self._parent.poll()
        for map_run_arn, path in self._parent.take_map_runs():
            self._map_runs.setdefault(map_run_arn, _FollowedMapRun(path))
        children: list[StateEntered] = []
        sweeps: list[MapRunProgress] = []
        for map_run_arn, followed in self._map_runs.items():
            if followed.ended:
                continue
            described = describe_map_run(self._sfn, map_run_arn)
            total = int((described.get("itemCounts") or {}).get("total", 0))
            if total == 1 and followed.child is None:
                listed = map_run_executions(self._sfn, map_run_arn)
                if listed:
                    child_arn = listed[0]["executionArn"]
                    followed.child = ExecutionFollower(self._sfn, child_arn, self._started, scope=followed.path)
            if followed.child is not None:
                children += followed.child.poll()
            elif total > 1:
                sweeps.append(MapRunProgress.of(described, "/".join(followed.path), execution_started=self._started))
            # Once stopped, this poll has read all there is (the child's whole history, the final counts).
            followed.ended = described.get("status", "RUNNING") != "RUNNING" and (
                followed.child is not None or total != 1
            )
        # In time order; sorted() is stable, so a parent state entered in the same millisecond comes first.
        return FollowUpdate(sorted(parent + children, key=lambda state: state.seconds), sweeps)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}"


class FollowDisplay:
    """What ``autotuner start --wait`` shows: a line per state (``ProgressLog``) and a progress bar per sweep.

    The bar (rich) says how many of the sweep's children are done, how many failed, of how many,
    at what rate and with how much time left, from DescribeMapRun's counts. On a terminal it is
    redrawn in place below the state lines; elsewhere (a file, a pipe, a CI log) it is printed as
    a line whenever its counts change.
    """

    def __init__(self, stream: Any) -> None:
        self._console = Console(file=stream, markup=False, highlight=False, emoji=False)
        self._log = ProgressLog()
        self._bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[done]}/{task.fields[all]} done, {task.fields[failed]} failed"),
            TextColumn("{task.fields[rate]}/s"),
            TextColumn("{task.fields[left]} left"),
            console=self._console,
        )
        self._tasks: dict[str, TaskID] = {}
        self._shown: dict[str, tuple[int, int, int, str]] = {}
        self._live = False

    def show(self, update: FollowUpdate) -> None:
        # States entered after a sweep stopped (Summarize) follow its final bar.
        stops = [sweep.stopped_at for sweep in update.map_runs if sweep.stopped_at is not None]
        before = [state for state in update.states if not stops or state.seconds <= min(stops)]
        self._print(before)
        self._draw(update.map_runs)
        self._print(update.states[len(before) :])

    def _print(self, states: list[StateEntered]) -> None:
        for line in self._log.lines(states):
            self._console.print(line, soft_wrap=True)

    def _draw(self, sweeps: list[MapRunProgress]) -> None:
        for sweep in sweeps:
            fields = {
                "done": sweep.done,
                "all": sweep.total,
                "failed": sweep.failed,
                "rate": f"{sweep.rate:.1f}",
                "left": _clock(sweep.seconds_left),
            }
            task = self._tasks.get(sweep.map_run_arn)
            if task is None:
                task = self._bars.add_task(sweep.path, total=sweep.total, completed=sweep.done, **fields)
                self._tasks[sweep.map_run_arn] = task
            else:
                self._bars.update(task, total=sweep.total, completed=sweep.done, **fields)
            if self._console.is_terminal:
                if not self._live:
                    self._bars.start()
                    self._live = True
                continue
            counts = (sweep.done, sweep.failed, sweep.total, sweep.status)
            if self._shown.get(sweep.map_run_arn) != counts:
                self._shown[sweep.map_run_arn] = counts
                shown = [item for item in self._bars.tasks if item.id == task]
                self._console.print(self._bars.make_tasks_table(shown))

    def close(self) -> None:
        """Leave the bars as they ended (on a terminal, the live display stops)."""
        if self._live:
            self._bars.stop()
            self._live = False


def wait_for_execution(
    session: boto3.Session,
    execution_arn: str,
    *,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    on_progress: Callable[[FollowUpdate], None] | None = None,
    timeout: float | None = None,
    endpoint_url: str | None = None,
) -> dict[str, Any]:
    """Poll DescribeExecution until the execution ends; its last DescribeExecution.

    With ``on_progress``, each poll also reads the history's new events and its map runs
    (``RunFollower``) and passes what changed since the last poll: the states entered (possibly
    none) and each sweep's counts. After the end, the histories are read once more, so every
    state entered is reported. ``timeout`` (seconds) raises TimeoutError.
    """
    sfn = client_for(session, "stepfunctions", None, endpoint_url)
    deadline = None if timeout is None else time.monotonic() + timeout
    follower: RunFollower | None = None
    while True:
        with aws_step("states:DescribeExecution", f"execution {execution_arn}"):
            described = sfn.describe_execution(executionArn=execution_arn)
        if on_progress is not None:
            follower = follower or RunFollower(sfn, execution_arn, described["startDate"])
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
