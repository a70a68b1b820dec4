"""ValidatePermissions: parse the execution input, select the targets, simulate every permission the run needs.

The target list is stored in S3 for the Distributed Map to read; only its location and size
travel through state.
"""

from time import perf_counter
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core.aws import pacing
from autotuner_core.aws.arns import parse_arn
from autotuner_core.aws.clients import aws_client
from autotuner_core.cost import budget
from autotuner_core.documents.base import parse_event
from autotuner_core.documents.cost import StageTimings
from autotuner_core.documents.request import parse_request
from autotuner_core.documents.target import PreflightResult, ValidateEvent
from autotuner_core.measuring.payloads import (
    allowed_buckets,
    check_payload_input,
    check_payload_objects,
    payload_objects,
)
from autotuner_core.observability import bind_execution, logger, metrics, tracer
from autotuner_core.policy.preflight import preflight_sample, required_permissions, resolve_targets, simulate
from autotuner_core.run.target_list import store_targets
from autotuner_core.settings import Settings
from autotuner_core.targets.selection import select_targets

SETTINGS = Settings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = perf_counter()
    envelope = parse_event(ValidateEvent, event)
    bind_execution(envelope.execution.arn)
    pacing.pace(1, SETTINGS)  # the only worker of the run at this point
    request = parse_request(envelope.input)
    if request.select is not None:
        partition, _, region, account, _ = parse_arn(context.invoked_function_arn)
        targets = select_targets(
            aws_client("resourcegroupstaggingapi"),
            aws_client("lambda"),
            request.select,
            partition=partition,
            region=region,
            account=account,
            max_targets=SETTINGS.sweep_max_targets,
        )
    else:
        targets = resolve_targets(request, function_arn=context.invoked_function_arn)
    check_payload_input(request, targets, SETTINGS, function_arn=context.invoked_function_arn)
    checked = preflight_sample(targets)
    checks = required_permissions(request, checked, SETTINGS, execution_arn=envelope.execution.arn)
    calls = simulate(aws_client("iam"), checks)
    if payload_objects(request) and not request.fixed:
        check_payload_objects(aws_client("s3"), request, allowed_buckets(SETTINGS.payload_buckets))
    # The run budget: read-only calls, then refused before the target list (or anything) is created.
    estimate = budget.check(
        request,
        targets,
        checked,
        SETTINGS,
        lambda_client=aws_client("lambda"),
        cloudwatch=aws_client("cloudwatch"),
    )
    workers = max(1, min(SETTINGS.sweep_max_concurrency, len(targets)))
    execution = envelope.execution.model_copy(update={"workers": workers})
    target_list = store_targets(aws_client("s3"), SETTINGS.sweep_bucket, execution, targets)
    elapsed_ms = (perf_counter() - started) * 1000
    metrics.add_metric(name="PermissionCheckDuration", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    logger.info(
        "pre-flight passed",
        extra={
            "targets": len(targets),
            "checkedTargets": len(checked),
            "simulations": calls,
            "workers": workers,
            "pacedSeconds": round(pacing.paced_seconds(), 3),
        },
    )
    return PreflightResult(
        execution=execution,
        request=request,
        target_count=len(targets),
        target_list=target_list,
        permission_checks=sum(len(check.actions) * len(check.resources) for check in checks),
        estimated_cost=estimate,
        max_concurrency=SETTINGS.sweep_max_concurrency,
        timings=StageTimings(validate_permissions_ms=round(elapsed_ms, 1)),
    ).dump()
