"""ChooseConfiguration: from everything measured, the recommendation for the strategy.

Pure: it reads the observations and writes the recommendation; it changes no function.
"""

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core.cost import run_cost
from autotuner_core.decision.analysis import choose
from autotuner_core.documents.base import parse_event
from autotuner_core.documents.task import MeasuredTask
from autotuner_core.observability import bind_execution, logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.monotonic()
    task = parse_event(MeasuredTask, event)
    bind_execution(task.execution.arn)
    tracer.put_annotation("target", task.target.ref.name)
    configurations, recommendation, later_sizes = choose(task)
    elapsed = time.time() * 1000 - task.measurement_started_ms
    metrics.add_metric(name="MeasurementDuration", unit=MetricUnit.Milliseconds, value=elapsed)
    logger.info(
        "recommendation",
        extra={"target": task.target.ref.arn, "refined": later_sizes, "summary": recommendation.summary},
    )
    # CleanupMeasurement (just before) wrote its report, its own spend included, at $.cleanup.
    cleanup_spend = [task.cleanup.report.spend] if task.cleanup.report.spend is not None else []
    return task.chosen(
        configurations,
        recommendation,
        later_sizes,
        measurement_ms=elapsed,
        spend=run_cost.charge(run_cost.add(task.spend, *cleanup_spend), busy_s=time.monotonic() - started),
    ).dump()
