"""Distributed Map runs as AWS runs them: every item is a child execution with its own history.

moto 5.2.5's interpreter runs a Distributed Map's items on worker threads inside the parent's
environment and throws their events away: no child can be listed, described or read. AWS keeps
each child as an execution of its own (a STANDARD one here, as the ASL's ProcessorConfig says):

- the parent's history shows ``MapRunStarted`` and ``MapRunSucceeded`` / ``MapRunFailed`` and no
  state of the children (moto already writes those two events);
- a child is named with a UUID; its ARN is ``arn:aws:states:REGION:ACCOUNT:execution:MACHINE/LABEL:UUID``
  and its state machine ``…:stateMachine:MACHINE/LABEL``, under the map run
  ``…:mapRun:MACHINE/LABEL:UUID`` (Step Functions API reference, DescribeStateMachineForExecution,
  ListExecutions, MapRunListItem); inside it, ``$$.Execution`` is the child;
- its history runs from ``ExecutionStarted`` to ``ExecutionSucceeded`` / ``ExecutionFailed`` /
  ``ExecutionAborted`` / ``ExecutionTimedOut``;
- ``ListExecutions`` with ``mapRunArn`` lists the children (each with its ``mapRunArn`` and
  ``itemCount``), ``DescribeExecution`` (naming its ``mapRunArn``) and ``GetExecutionHistory``
  take a child's ARN;
- ``DescribeMapRun``'s ``itemCounts`` and ``executionCounts`` count every item from the start
  (``total``, ``pending``) and move each from ``running`` to ``succeeded`` / ``failed`` /
  ``timedOut`` / ``aborted`` as its child ends. moto counts ``total`` only once an item runs and
  never takes a failed child out of ``running``.

- a map run fails with ``States.ExceedToleratedFailureThreshold`` when more children failed
  than its ToleratedFailureCount / ToleratedFailurePercentage allow (0 by default); moto never
  fails one (see ``_check_tolerance`` for how closely).

Not modelled: item batching (one item per child here), redrive, UpdateMapRun.
"""

from __future__ import annotations

import datetime
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator import moto_adapter
from emulator.moto_adapter import (
    ActionResult,
    DistributedItemProcessorWorker,
    EventHistoryContext,
    EventManager,
    FailureEvent,
    FailureEventException,
    HistoryEventType,
    ProgramError,
    ProgramStopped,
    ProgramTimedOut,
    StatesErrorName,
    StatesErrorNameType,
    StepFunctionResponse,
    StepFunctionsInvalidToken,
    StepFunctionsParserBackend,
    StepFunctionsResourceNotFound,
    StepFunctionsValidationException,
    distributed_iteration_component,
)

__all__ = ["ChildExecution", "MapRuns", "install"]

_MAX_RESULTS = 1000  # ListExecutions' maxResults bound (API reference)
_DEFAULT_RESULTS = 100


@dataclass
class ChildExecution:
    """One child execution of a map run, with the attributes moto's responses read of an execution."""

    name: str
    execution_arn: str
    state_machine_arn: str
    map_run_arn: str
    role_arn: str
    execution_input: str
    start_date: datetime.datetime
    events: EventManager = field(default_factory=EventManager)
    status: str = "RUNNING"
    stop_date: datetime.datetime | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    output_details: dict[str, bool] = field(default_factory=lambda: {"included": True})

    def to_history_output(self) -> dict[str, Any]:
        return {"events": self.events.get_event_history()}

    def list_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "executionArn": self.execution_arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "status": self.status,
            "startDate": self.start_date,
            "mapRunArn": self.map_run_arn,
            "itemCount": 1,
        }
        if self.stop_date is not None:
            item["stopDate"] = self.stop_date
        return item


class MapRuns:
    """The child executions of every map run in the embedded AWS, by ARN and by map run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_arn: dict[str, ChildExecution] = {}
        self._by_map_run: dict[str, list[ChildExecution]] = {}

    def add(self, child: ChildExecution) -> None:
        with self._lock:
            self._by_arn[child.execution_arn] = child
            self._by_map_run.setdefault(child.map_run_arn, []).append(child)

    def get(self, execution_arn: str) -> ChildExecution | None:
        with self._lock:
            return self._by_arn.get(execution_arn)

    def children(self, map_run_arn: str) -> list[ChildExecution]:
        """The map run's children, newest first (ListExecutions' order); KeyError for an unknown map run."""
        with self._lock:
            children = list(self._by_map_run[map_run_arn])
        return sorted(children, key=lambda child: child.start_date, reverse=True)

    def register_map_run(self, map_run_arn: str) -> None:
        with self._lock:
            self._by_map_run.setdefault(map_run_arn, [])

    def clear(self) -> None:
        with self._lock:
            self._by_arn.clear()
            self._by_map_run.clear()


def _now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


def _start_counts(record: Any, items: int) -> None:
    # Every item is known once the ItemReader has read them: counted as total and pending from the start.
    for counter in (record.item_counter, record.execution_counter):
        counter.total.count(items)
        counter.pending.count(items)


def _move(record: Any, source: str, target: str) -> None:
    for counter in (record.item_counter, record.execution_counter):
        getattr(counter, source).offset(-1)
        getattr(counter, target).count()


def _run_child(registry: MapRuns, worker: Any, env: Any, job: Any) -> None:
    """One item as a child execution: its own name, context, history and end, and the map run's counts."""
    record = worker._map_run_record
    _move(record, "pending", "running")
    env.states.context_object.context_object_data["Map"] = {"Item": {"Index": job.job_index, "Value": job.job_input}}
    env.states.reset(job.job_input)
    env.stack.append(env.states.get_input())
    worker._eval_input(env_frame=env)  # the ItemSelector: what the child receives as its input
    child_input = env.states.get_input()

    name = str(uuid.uuid4())
    machine_arn = record.map_state_machine_arn
    child = ChildExecution(
        name=name,
        execution_arn=f"{machine_arn.replace(':stateMachine:', ':execution:', 1)}:{name}",
        state_machine_arn=machine_arn,
        map_run_arn=record.map_run_arn,
        role_arn=env.aws_execution_details.role_arn,
        execution_input=json.dumps(child_input, separators=(",", ":")),
        start_date=_now(),
    )
    context = env.states.context_object.context_object_data
    context["Execution"] = {
        "Id": child.execution_arn,
        "Input": child_input,
        "Name": name,
        "RoleArn": child.role_arn,
        "StartTime": child.start_date.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    context["StateMachine"] = {"Id": machine_arn, "Name": machine_arn.rsplit(":", 1)[-1]}
    # The child's events go to its own history, numbered from 1 as any execution's are.
    env.event_manager = child.events
    env.event_history_context = EventHistoryContext.of_program_start()
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.ExecutionStarted,
        event_details={
            "executionStartedEventDetails": {
                "input": child.execution_input,
                "inputDetails": {"truncated": False},
                "roleArn": child.role_arn,
            }
        },
        update_source_event_id=False,
    )
    registry.add(child)

    outcome = "failed"
    try:
        job.job_program.eval(env)
        outcome = _end(child, env)
    finally:
        if child.status == "RUNNING":  # the interpreter itself broke: the child fails as AWS's would, at runtime
            child.status, child.error, child.cause, child.stop_date = "FAILED", "States.Runtime", None, _now()
        _move(record, "running", outcome)
        for counter in (record.item_counter, record.execution_counter):
            counter.results_written.count()
        job.job_output = json.loads(child.output) if child.output is not None else None


def _end(child: ChildExecution, env: Any) -> str:
    """Close the child's history as the program ended; the map run counter it moves to."""
    state = env.program_state()
    child.stop_date = _now()
    context = env.event_history_context
    if isinstance(state, ProgramError):
        details = dict(state.error or {})
        child.status, child.error, child.cause = "FAILED", details.get("error"), details.get("cause")
        failed = {key: value for key, value in details.items() if key in ("error", "cause")}
        env.event_manager.add_event(
            context=context,
            event_type=HistoryEventType.ExecutionFailed,
            event_details={"executionFailedEventDetails": failed},
        )
        return "failed"
    if isinstance(state, ProgramStopped):
        child.status, child.error, child.cause = "ABORTED", state.error, state.cause
        env.event_manager.add_event(
            context=context,
            event_type=HistoryEventType.ExecutionAborted,
            event_details={"executionAbortedEventDetails": {"error": state.error, "cause": state.cause}},
        )
        return "aborted"
    if isinstance(state, ProgramTimedOut):
        child.status = "TIMED_OUT"
        env.event_manager.add_event(context=context, event_type=HistoryEventType.ExecutionTimedOut)
        return "timed_out"
    child.status = "SUCCEEDED"
    child.output = json.dumps(env.states.get_input(), separators=(",", ":"))
    env.event_manager.add_event(
        context=context,
        event_type=HistoryEventType.ExecutionSucceeded,
        event_details={
            "executionSucceededEventDetails": {"output": child.output, "outputDetails": {"truncated": False}}
        },
    )
    return "succeeded"


def _check_tolerance(env: Any, eval_input: Any) -> None:
    """Fail the map run, as AWS does, when more children failed than it tolerates.

    AWS fails a map run whose failed (or timed-out, or aborted) children exceed
    ToleratedFailureCount or ToleratedFailurePercentage, both 0 by default, with
    ``States.ExceedToleratedFailureThreshold`` (docs: "Setting failure thresholds for Distributed
    Map states"). moto never fails one. The two values reach here with their defaults filled
    in, so a threshold counts as exceeded when both are: a map run that declares only one of
    them is judged by it alone (the other's default, 0, is always exceeded by a failure).
    Checked when the last child has ended, not as soon as the threshold is crossed.
    """
    counts = eval_input.map_run_record.execution_counter
    failed = counts.failed.get() + counts.timed_out.get() + counts.aborted.get()
    total = counts.total.get()
    if failed == 0 or total == 0:
        return
    over_count = failed > int(eval_input.tolerated_failure_count or 0)
    over_percentage = failed * 100 / total > float(eval_input.tolerated_failure_percentage or 0)
    if not (over_count and over_percentage):
        return
    error = StatesErrorNameType.StatesExceedToleratedFailureThreshold
    raise FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=error),
            event_type=HistoryEventType.MapRunFailed,
            event_details={
                "executionFailedEventDetails": {
                    "error": error.to_name(),
                    "cause": f"The specified tolerated failure threshold was exceeded: {failed} of {total} "
                    "child executions failed",
                }
            },
        )
    )


def install(registry: MapRuns) -> list[Callable[[], None]]:
    """Make moto's Distributed Map run children as executions (through moto_adapter); the undo steps."""
    patches = moto_adapter.Patches()
    component = distributed_iteration_component.DistributedIterationComponent

    def map_run(iteration: Any, env: Any, eval_input: Any) -> None:
        registry.register_map_run(eval_input.map_run_record.map_run_arn)
        _start_counts(eval_input.map_run_record, len(env.stack[-1]))
        original_map_run(iteration, env=env, eval_input=eval_input)
        _check_tolerance(env, eval_input)

    def eval_job(worker: Any, env: Any, job: Any) -> None:
        _run_child(registry, worker, env, job)

    def describe_execution(backend: Any, execution_arn: str) -> Any:
        return registry.get(execution_arn) or original_describe(backend, execution_arn)

    def get_execution_history(backend: Any, execution_arn: str) -> Any:
        child = registry.get(execution_arn)
        return child.to_history_output() if child is not None else original_history(backend, execution_arn)

    def list_executions(response: Any) -> Any:
        map_run_arn = response._get_param("mapRunArn")
        if map_run_arn is None:
            return original_list(response)
        return _list_children(registry, response, map_run_arn)

    def describe_execution_response(response: Any) -> Any:
        result = original_describe_response(response)
        child = registry.get(response._get_param("executionArn"))
        if child is not None:  # AWS names the map run that dispatched a child execution
            result.result["mapRunArn"] = child.map_run_arn
        return result

    original_map_run = patches.patch(component, "_map_run", map_run)
    patches.patch(DistributedItemProcessorWorker, "_eval_job", eval_job)
    original_describe = patches.patch(StepFunctionsParserBackend, "describe_execution", describe_execution)
    original_history = patches.patch(StepFunctionsParserBackend, "get_execution_history", get_execution_history)
    original_list = patches.patch(StepFunctionResponse, "list_executions", list_executions)
    original_describe_response = patches.patch(StepFunctionResponse, "describe_execution", describe_execution_response)
    return [patches.undo, registry.clear]


def _list_children(registry: MapRuns, response: Any, map_run_arn: str) -> Any:
    """ListExecutions with mapRunArn: the map run's children, paged by nextToken, as AWS lists them."""
    if response._get_param("stateMachineArn"):
        raise StepFunctionsValidationException("Specify either a stateMachineArn or a mapRunArn, not both")
    max_results = response._get_int_param("maxResults") or _DEFAULT_RESULTS
    if not 0 < max_results <= _MAX_RESULTS:
        raise StepFunctionsValidationException(f"maxResults must be between 1 and {_MAX_RESULTS}, got {max_results}")
    try:
        children = registry.children(map_run_arn)
    except KeyError:
        raise StepFunctionsResourceNotFound(map_run_arn) from None
    status = response._get_param("statusFilter")
    if status:
        children = [child for child in children if child.status == status]
    token = response._get_param("nextToken")
    try:
        start = int(token) if token else 0
    except ValueError:
        raise StepFunctionsInvalidToken(repr(token)) from None
    page = children[start : start + max_results]
    result: dict[str, Any] = {"executions": [child.list_item() for child in page]}
    if start + max_results < len(children):
        result["nextToken"] = str(start + max_results)
    return ActionResult(result)
