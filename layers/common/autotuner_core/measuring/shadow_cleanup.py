"""Removing shadow copies: the run's own at clean-up, and what earlier runs left, by the orphan sweep.

A shadow leaves three things: its code copy in the tuner's bucket, its log group
(``/aws/lambda/<shadow name>``, made by Lambda at its first invocation) and the function. They go
in that order, the function last: while it exists the sweep finds it by tag and removes the rest
again. Transient failures are retried here a few times before the step's own retries take over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from autotuner_core.aws.arns import function_name
from autotuner_core.aws.calls import aws_call
from autotuner_core.aws.lambda_control import get_function
from autotuner_core.aws.paging import every_page
from autotuner_core.measuring.shadow import (
    CODE_PREFIX,
    EXECUTION_TAG,
    SHADOW_OF_TAG,
    code_key,
    made_by_tuner,
    shadow_arn,
    shadow_name,
)
from autotuner_core.policy.errors import (
    FunctionNotFoundError,
    ObjectNotFoundError,
    ServiceUnavailableError,
    ThrottledError,
    UnexpectedAwsError,
    UpdateInProgressError,
)
from autotuner_core.settings import TUNER_STACK_TAG, Settings

_RUNNING = "RUNNING"
_T = TypeVar("_T")
# Waits between attempts of one delete (seconds); the step's Retry (2 s doubling, 8 attempts) comes after.
_BACKOFF_S = (0.2, 0.5, 1.0)
_TRANSIENT = (ThrottledError, ServiceUnavailableError, UpdateInProgressError)
__all__ = ["CODE_PREFIX", "SweepReport", "delete_shadow", "log_group_name", "sweep_orphans"]


def log_group_name(name: str) -> str:
    """The log group Lambda makes for a function that sets no LoggingConfig.LogGroup (a shadow never does)."""
    return f"/aws/lambda/{name}"


def delete_shadow(
    lam: Any, logs: Any, s3: Any, target_arn: str, token: str, execution_arn: str, settings: Settings
) -> bool:
    """Delete this run's shadow of ``target_arn``, its log group and code copy; safe to run twice.

    Returns whether the function existed.
    """
    name = shadow_name(token, target_arn)
    arn = shadow_arn(target_arn, name)
    try:
        state = _retrying(lambda: get_function(lam, arn, tags_needed=True))
    except FunctionNotFoundError:
        _delete_rest(logs, s3, name, settings)
        return False
    if not made_by_tuner(state.tags, name, target_arn, settings) or state.tags.get(EXECUTION_TAG) != execution_arn:
        return False  # not the tuner's (or not this run's): never deleted
    _delete(lam, logs, s3, arn, name, settings)
    return True


def _retrying(call: Callable[[], _T]) -> _T:
    for wait in _BACKOFF_S:
        try:
            return call()
        except _TRANSIENT:
            time.sleep(wait)
    return call()


def _delete(lam: Any, logs: Any, s3: Any, arn: str, name: str, settings: Settings) -> None:
    _delete_rest(logs, s3, name, settings)

    def delete_function() -> None:
        try:
            # Unqualified: the function with its versions and aliases.
            with aws_call("lambda:DeleteFunction", arn):
                lam.delete_function(FunctionName=arn)
        except FunctionNotFoundError:
            pass  # deleted meanwhile (the sweep of another run, or a retry of this task)

    _retrying(delete_function)


def _delete_rest(logs: Any, s3: Any, name: str, settings: Settings) -> None:
    group = log_group_name(name)

    def delete_group() -> None:
        try:
            with aws_call("logs:DeleteLogGroup", group):
                logs.delete_log_group(logGroupName=group)
        except ObjectNotFoundError:
            pass  # never invoked, or deleted already

    _retrying(delete_group)
    if settings.sweep_bucket:
        key = code_key(name)

        def delete_code() -> None:
            with aws_call("s3:DeleteObject", f"{settings.sweep_bucket}/{key}"):
                s3.delete_object(Bucket=settings.sweep_bucket, Key=key)  # S3 answers 204 for a missing key too

        _retrying(delete_code)


@dataclass(frozen=True)
class SweepReport:
    """What the orphan sweep found and removed."""

    found: int = 0
    deleted: int = 0
    kept_running: int = 0


def sweep_orphans(
    tagging: Any,
    lam: Any,
    logs: Any,
    sfn: Any,
    s3: Any,
    settings: Settings,
    *,
    state_machine_arn: str,
    finished_execution: str | None = None,
) -> SweepReport:
    """Delete the shadows runs of this stack left: tagged by it, and their execution not RUNNING.

    Found by tag (``tag:GetResources``), checked by name prefix and tags again, and kept while
    the execution that made it still runs (``states:DescribeExecution``). Only executions of this
    stack's state machine are asked about: another stack's shadows are its own sweep's.
    ``finished_execution`` is the caller's own execution, whose clean-ups are all over: a shadow
    it still has is one whose clean-up failed, deleted now rather than by a later run.
    """
    executions_prefix = state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":"
    found = deleted = kept = 0
    pages = every_page(
        tagging,
        "get_resources",
        "tag:GetResources",
        "lambda:function",
        TagFilters=[{"Key": SHADOW_OF_TAG}, {"Key": TUNER_STACK_TAG, "Values": [settings.stack_name]}],
        ResourceTypeFilters=["lambda:function"],
    )
    status_of: dict[str, str] = {}
    if finished_execution:
        status_of[finished_execution] = "FINISHING"
    for page in pages:
        for item in page.get("ResourceTagMappingList", []):
            arn = item["ResourceARN"]
            name = function_name(arn)
            tags = {tag["Key"]: tag["Value"] for tag in item.get("Tags", [])}
            execution = tags.get(EXECUTION_TAG, "")
            if not made_by_tuner(tags, name, None, settings) or not execution.startswith(executions_prefix):
                continue
            found += 1
            if execution not in status_of:
                status_of[execution] = _execution_status(sfn, execution)
            if status_of[execution] == _RUNNING:
                kept += 1
                continue
            _delete(lam, logs, s3, arn, name, settings)
            deleted += 1
    return SweepReport(found=found, deleted=deleted, kept_running=kept)


def _execution_status(sfn: Any, execution_arn: str) -> str:
    try:
        with aws_call("states:DescribeExecution", execution_arn):
            return str(sfn.describe_execution(executionArn=execution_arn)["status"])
    except UnexpectedAwsError as error:
        if "ExecutionDoesNotExist" in str(error):  # past Step Functions' retention: long over
            return "GONE"
        raise
