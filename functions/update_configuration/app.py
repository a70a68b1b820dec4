"""UpdateConfiguration: apply the desired configuration to one target (or report it in a dry run)."""

from time import perf_counter
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core.aws import pacing
from autotuner_core.aws.clients import aws_client
from autotuner_core.cost import run_cost
from autotuner_core.documents.base import parse_event
from autotuner_core.documents.target import TargetTask, UpdateResult
from autotuner_core.observability import bind_execution, logger, tracer
from autotuner_core.settings import Settings
from autotuner_core.targets.updater import apply_once

SETTINGS = Settings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = perf_counter()
    task = parse_event(TargetTask, event)
    bind_execution(task.execution.arn)
    pacing.pace(task.execution.workers, SETTINGS)
    tracer.put_annotation("target", task.target.ref.name)
    client = aws_client("lambda")
    run_cost.count_control_plane_calls(client)
    outcome, after, alias = apply_once(client, aws_client("dynamodb"), task, SETTINGS, context)
    elapsed_ms = (perf_counter() - started) * 1000
    logger.info(
        "configuration %s",
        outcome.value.lower(),
        extra={
            "target": task.target.ref.arn,
            "before": task.target.configuration.memory_size,
            "after": after.memory_size,
            "pacedSeconds": round(pacing.paced_seconds(), 3),
        },
    )
    return UpdateResult(
        **task.model_dump(exclude={"timings", "spend"}),
        outcome=outcome,
        before=task.target.configuration,
        after=after,
        alias=alias,
        timings=task.timings.model_copy(update={"update_configuration_ms": round(elapsed_ms, 1)}),
        spend=run_cost.charge(task.spend, busy_s=elapsed_ms / 1000, calls=run_cost.control_plane_calls()),
    ).dump()
