"""MeasureConfiguration: invoke one candidate's alias(es) and summarise the REPORT lines."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core.clients import aws_client
from autotuner_core.measurement import measure_candidate
from autotuner_core.models import MeasureTask, parse_event
from autotuner_core.observability import bind_execution, logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_event(MeasureTask, event)
    bind_execution(task.execution.arn)
    tracer.put_annotation("target", task.target.ref.name)
    target = task.target
    stats = measure_candidate(
        aws_client("lambda"),
        target.ref.arn,
        task.candidate,
        task.request,
        region=target.ref.arn.split(":")[3],
        architecture=(target.configuration.architectures or ["x86_64"])[0],
    )
    return stats.dump()
