"""One execution as the runner reports it (``autotuner local run --json``), read as from a real stack.

A Distributed Map's items run as child executions with histories of their own; the parent's
history shows only ``MapRunStarted`` / ``MapRunSucceeded``. The report reads the parent's
history and every child's (``run_history.run_histories``: ListMapRuns, ListExecutions with
``mapRunArn``, GetExecutionHistory), so attempts, failed states and state transitions (each
child's are billed too) count the whole run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from run_history import RunHistories

if TYPE_CHECKING:
    from emulator.aws_time import AwsTimeEstimate

__all__ = ["RunReport"]

_FAILURE_EVENTS = {"TaskFailed", "TaskTimedOut", "LambdaFunctionFailed", "LambdaFunctionTimedOut"}


class RunReport:
    """One execution: its description, the histories of it and its children, the AWS calls and records."""

    def __init__(self, **fields: Any) -> None:
        self.execution_arn: str = fields["execution_arn"]
        self.status: str = fields["status"]
        self.error: str | None = fields["error"]
        self.cause: str | None = fields["cause"]
        self.output: Any = fields["output"]
        self.seconds: float = fields["seconds"]
        self.retry_wait_seconds: float = fields["retry_wait_seconds"]
        self.histories: RunHistories = fields["histories"]
        self.aws_calls: dict[str, int] = fields["aws_calls"]
        self.mutating_calls: list[str] = fields["mutating_calls"]
        self.records: list[dict[str, Any]] = fields["records"]
        # Requests of the functions' users during the run, per function and memory size, and how many
        # ran at a size other than the original or the one the run left (docs/simulated-account.md).
        self.live_invocations: dict[str, dict[int | None, int]] = fields.get("live_invocations", {})
        self.live_invocations_at_candidate_sizes: int = fields.get("live_invocations_at_candidate_sizes", 0)
        self.aws_time: AwsTimeEstimate | None = fields.get("aws_time")  # aws_time.estimate_run
        # Invocations of targets by the tuner, and its Lambda control-plane requests (interceptor.RequestLog).
        self.tuner_invocations: int = fields.get("tuner_invocations", 0)
        self.lambda_control_plane_calls: int = fields.get("lambda_control_plane_calls", 0)

    @property
    def history(self) -> list[dict[str, Any]]:
        """The parent execution's own history, as GetExecutionHistory returns it."""
        return self.histories.parent

    @property
    def child_histories(self) -> dict[str, list[dict[str, Any]]]:
        """Each child execution's history, by its ARN."""
        return self.histories.children

    def _walk(self) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
        """(history, event) for every event of the run: a map run's children where the parent started it."""
        for event in self.histories.parent:
            yield self.histories.parent, event
            if event["type"] == "MapRunStarted":
                map_run_arn = event.get("mapRunStartedEventDetails", {}).get("mapRunArn")
                for child in self.histories.map_runs.get(map_run_arn, []):
                    history = self.histories.children[child]
                    for child_event in history:
                        yield history, child_event

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event of the run, the parent's and its children's (ids repeat across executions)."""
        return [event for _, event in self._walk()]

    @property
    def task_attempts(self) -> dict[str, int]:
        """Attempts per Task state: TaskScheduled events attributed to the state that scheduled them."""
        return dict(
            Counter(_state_of(history, event) for history, event in self._walk() if event["type"] == "TaskScheduled")
        )

    @property
    def states_entered(self) -> list[str]:
        return [
            event["stateEnteredEventDetails"]["name"]
            for _, event in self._walk()
            if "stateEnteredEventDetails" in event
        ]

    @property
    def failed_state(self) -> str | None:
        """The state where the run's error first occurred, in the parent or in a child execution.

        Summarize re-raises a target's error, so the first failure with the run's error is where
        it came from; otherwise the last failure seen.
        """
        if self.status == "SUCCEEDED":
            return None
        failures = [(history, event) for history, event in self._walk() if event["type"] in _FAILURE_EVENTS]
        for history, event in failures:
            details = next((value for key, value in event.items() if key.endswith("EventDetails")), {})
            if details.get("error") == self.error:
                return _state_of(history, event)
        return _state_of(*failures[-1]) if failures else None

    @property
    def state_transitions(self) -> int:
        """State transitions billed: every state entered, in the parent and in every child."""
        return sum(1 for _, event in self._walk() if event["type"].endswith("StateEntered"))

    def as_json(self) -> dict[str, Any]:
        return {
            "executionArn": self.execution_arn,
            "status": self.status,
            "error": self.error,
            "cause": self.cause,
            "failedState": self.failed_state,
            "seconds": round(self.seconds, 3),
            "awsSeconds": round(self.aws_time.seconds, 3) if self.aws_time else None,
            "retryWaitSeconds": round(self.retry_wait_seconds, 3),
            "taskAttempts": self.task_attempts,
            "statesEntered": self.states_entered,
            "stateTransitions": self.state_transitions,
            "mapRuns": len(self.histories.map_runs),
            "childExecutions": len(self.histories.children),
            "awsCalls": self.aws_calls,
            "mutatingCalls": len(self.mutating_calls),
            "tunerInvocations": self.tuner_invocations,
            "lambdaControlPlaneCalls": self.lambda_control_plane_calls,
            "records": self.records,
            "liveInvocations": {
                name: {str(size): count for size, count in sizes.items()}
                for name, sizes in self.live_invocations.items()
            },
            "liveInvocationsAtCandidateSizes": self.live_invocations_at_candidate_sizes,
            "output": self.output,
        }


def _state_of(history: list[dict[str, Any]], event: dict[str, Any]) -> str:
    by_id = {item["id"]: item for item in history}
    current: dict[str, Any] | None = event
    while current is not None:
        if "stateEnteredEventDetails" in current:
            return current["stateEnteredEventDetails"]["name"]
        current = by_id.get(current.get("previousEventId"))
    return "?"
