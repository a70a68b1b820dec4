"""PrepareMeasurement: one published version and temporary alias per candidate memory size."""

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core import pacing
from autotuner_core.clients import aws_client
from autotuner_core.measurement import prepare_candidates
from autotuner_core.models import TargetTask, parse_event
from autotuner_core.observability import bind_execution, logger, tracer
from autotuner_core.settings import Settings

SETTINGS = Settings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_event(TargetTask, event)
    bind_execution(task.execution.arn)
    pacing.pace(task.execution.workers, SETTINGS)
    tracer.put_annotation("target", task.target.ref.name)
    candidates = prepare_candidates(
        aws_client("lambda"),
        task.target.ref.arn,
        task.target.configuration,
        task.request,
        task.execution.arn,
        SETTINGS,
    )
    logger.info(
        "candidates ready",
        extra={
            "target": task.target.ref.arn,
            "sizes": [c.memory_size for c in candidates],
            "excluded": [c.memory_size for c in candidates if c.excluded],
            "pacedSeconds": round(pacing.paced_seconds(), 3),
        },
    )
    return task.model_copy(update={"candidates": candidates, "measurement_started_ms": time.time() * 1000}).dump()
