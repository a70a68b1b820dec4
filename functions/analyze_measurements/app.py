"""AnalyzeMeasurements: refine around the first winner, then choose what the strategy asks for."""

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core import pacing
from autotuner_core.analysis import recommend
from autotuner_core.clients import aws_client
from autotuner_core.measurement import refine
from autotuner_core.models import TargetTask, parse_event
from autotuner_core.observability import bind_execution, logger, metrics, tracer
from autotuner_core.settings import Settings

SETTINGS = Settings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_event(TargetTask, event)
    bind_execution(task.execution.arn)
    pacing.pace(task.execution.workers, SETTINGS)
    tracer.put_annotation("target", task.target.ref.name)
    configurations, refined = refine(
        aws_client("lambda"),
        task.target.ref.arn,
        task.target.configuration,
        task.request,
        task.configurations or [],
        task.execution.arn,
        SETTINGS,
    )
    recommendation = recommend(
        configurations,
        strategy=task.request.strategy,
        balanced_weight=task.request.balanced_weight,
        current_memory=task.target.configuration.memory_size,
    )
    elapsed = time.time() * 1000 - (task.measurement_started_ms or time.time() * 1000)
    metrics.add_metric(name="MeasurementDuration", unit=MetricUnit.Milliseconds, value=elapsed)
    logger.info(
        "recommendation",
        extra={
            "target": task.target.ref.arn,
            "refined": refined,
            "summary": recommendation.summary,
            "pacedSeconds": round(pacing.paced_seconds(), 3),
        },
    )
    return task.model_copy(
        update={
            "configurations": configurations,
            "refined_sizes": refined or None,
            "recommendation": recommendation,
            "timings": task.timings.model_copy(update={"measurement_ms": round(elapsed, 1)}),
        }
    ).dump()
