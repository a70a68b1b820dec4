"""ValidatePermissions: parse the execution input, then simulate every permission the run needs."""

from time import perf_counter
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core import run_cost
from autotuner_core.clients import aws_client
from autotuner_core.models import PreflightResult, StageTimings, ValidateEvent, parse_event, parse_request
from autotuner_core.observability import bind_execution, logger, metrics, tracer
from autotuner_core.preflight import required_permissions, resolve_targets, simulate
from autotuner_core.selection import select_targets
from autotuner_core.settings import Settings

SETTINGS = Settings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = perf_counter()
    envelope = parse_event(ValidateEvent, event)
    bind_execution(envelope.execution.arn)
    request = parse_request(envelope.input)
    if request.select is not None:
        _, partition, _, region, account, *_ = context.invoked_function_arn.split(":")
        targets = select_targets(
            aws_client("resourcegroupstaggingapi"),
            aws_client("lambda"),
            request.select,
            partition=partition,
            region=region,
            account=account,
        )
    else:
        targets = resolve_targets(request, function_arn=context.invoked_function_arn)
    checks = required_permissions(request, targets, SETTINGS, execution_arn=envelope.execution.arn)
    calls = simulate(aws_client("iam"), checks)
    elapsed_ms = (perf_counter() - started) * 1000
    metrics.add_metric(name="PermissionCheckDuration", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    logger.info("pre-flight passed", extra={"targets": len(targets), "simulations": calls})
    return PreflightResult(
        execution=envelope.execution,
        request=request,
        targets=targets,
        permission_checks=sum(len(check.actions) * len(check.resources) for check in checks),
        estimated_cost=run_cost.estimate(request, len(targets)),
        max_concurrency=SETTINGS.sweep_max_concurrency,
        timings=StageTimings(validate_permissions_ms=round(elapsed_ms, 1)),
    ).dump()
