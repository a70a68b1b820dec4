"""AnalyzeMeasurements: choose the configuration the strategy asks for."""

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core.analysis import recommend, refinement_sizes
from autotuner_core.models import TargetTask, parse_event
from autotuner_core.observability import bind_execution, logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_event(TargetTask, event)
    bind_execution(task.execution.arn)
    configurations = sorted(
        [*(task.configurations or []), *(task.round_configurations or [])], key=lambda item: item.memory_size
    )
    if task.request.refine and task.round == 1:
        # One more round around the first round's winner; a fixed grid alone leaves gaps of up to 100 %.
        sizes = refinement_sizes(
            configurations, strategy=task.request.strategy, balanced_weight=task.request.balanced_weight
        )
        if sizes:
            logger.info("refining", extra={"target": task.target.ref.arn, "sizes": sizes})
            return task.model_copy(
                update={"configurations": configurations, "round_configurations": None, "refine_sizes": sizes}
            ).dump()
    recommendation = recommend(
        configurations,
        strategy=task.request.strategy,
        balanced_weight=task.request.balanced_weight,
        current_memory=task.target.configuration.memory_size,
    )
    elapsed = time.time() * 1000 - (task.measurement_started_ms or time.time() * 1000)
    logger.info("recommendation", extra={"target": task.target.ref.arn, "summary": recommendation.summary})
    return task.model_copy(
        update={
            "configurations": configurations,
            "round_configurations": None,
            "recommendation": recommendation,
            "timings": task.timings.model_copy(update={"measurement_ms": round(elapsed, 1)}),
        }
    ).dump()
