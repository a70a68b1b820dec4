"""AnalyzeMeasurements: choose the configuration the strategy asks for."""

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core.analysis import recommend
from autotuner_core.models import TargetTask, parse_event
from autotuner_core.observability import bind_execution, logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_event(TargetTask, event)
    bind_execution(task.execution.arn)
    recommendation = recommend(
        task.configurations or [],
        strategy=task.request.strategy,
        balanced_weight=task.request.balanced_weight,
        current_memory=task.target.configuration.memory_size,
    )
    elapsed = time.time() * 1000 - (task.measurement_started_ms or time.time() * 1000)
    logger.info("recommendation", extra={"target": task.target.ref.arn, "summary": recommendation.summary})
    return task.model_copy(
        update={
            "recommendation": recommendation,
            "timings": task.timings.model_copy(update={"measurement_ms": round(elapsed, 1)}),
        }
    ).dump()
