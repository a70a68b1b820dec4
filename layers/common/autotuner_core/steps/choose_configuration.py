"""ChooseConfiguration: from everything measured, the recommendation for the strategy.

Pure: it reads the observations and writes the recommendation; it changes no function.
"""

from __future__ import annotations

import time

from aws_lambda_powertools.metrics import MetricUnit

from autotuner_core.cost import run_cost
from autotuner_core.decision.analysis import choose
from autotuner_core.documents.task import ChosenTask, MeasuredTask
from autotuner_core.observability import logger, metrics
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import step


@step(MeasuredTask, charged=True, metrics=True)
def run(task: MeasuredTask, clients: Clients, settings: Settings) -> ChosenTask:
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
        # This invocation's own time is added by the middleware.
        spend=run_cost.add(task.spend, *cleanup_spend),
    )
