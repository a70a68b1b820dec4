"""Starting an execution: the input file, the tuner's stack, StartExecution and DescribeExecution."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from autotuner.history import TABLE_OUTPUT, client_for, resolve_stack
from run_history import HistoryError, aws_step

STATE_MACHINE_OUTPUT = "StateMachineArn"


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


# --- starting an execution ---------------------------------------------------------------------


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
