"""Following an execution to its end: the states it enters, in the parent and its map runs' children.

``wait_for_execution`` polls DescribeExecution; with ``on_progress``, a ``RunFollower`` reads what
changed since the last poll (``FollowUpdate``), which ``progress.FollowDisplay`` shows a person.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from autotuner.history import client_for
from run_history import aws_step, describe_map_run, map_run_executions

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
DEFAULT_POLL_SECONDS = 1.0  # against AWS: DescribeExecution and GetExecutionHistory once a second each


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
