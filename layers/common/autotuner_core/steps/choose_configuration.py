"""ChooseConfiguration: from everything measured, the recommendation for the strategy.

Pure: it reads the observations and writes the recommendation; it changes no function.
"""

from __future__ import annotations

import time

from aws_lambda_powertools.metrics import MetricUnit

from autotuner_core.cost import run_cost
from autotuner_core.decision.analysis import choose
from autotuner_core.documents.cost import TuningSpend
from autotuner_core.documents.target import TargetTask
from autotuner_core.observability import logger, metrics
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import step


@step(TargetTask, charged=True, metrics=True)
def run(task: TargetTask, clients: Clients, settings: Settings) -> TargetTask:
    configurations, recommendation, later_sizes = choose(task)
    elapsed = time.time() * 1000 - (task.measurement_started_ms or time.time() * 1000)
    metrics.add_metric(name="MeasurementDuration", unit=MetricUnit.Milliseconds, value=elapsed)
    logger.info(
        "recommendation",
        extra={"target": task.target.ref.arn, "refined": later_sizes, "summary": recommendation.summary},
    )
    return task.model_copy(
        update={
            "configurations": configurations,
            "refined_sizes": later_sizes or None,
            "recommendation": recommendation,
            # The raw samples have served their purpose; the statistics travel on (state size).
            "observations": None,
            "timings": task.timings.model_copy(update={"measurement_ms": round(elapsed, 1)}),
            # This invocation's own time is added by the middleware.
            "spend": run_cost.add(task.spend, *_cleanup_spend(task)),
        }
    )


def _cleanup_spend(task: TargetTask) -> list[TuningSpend]:
    # CleanupMeasurement (just before) writes its report, spend included, at $.cleanup.report.
    spent = ((task.cleanup or {}).get("report") or {}).get("spend")
    return [TuningSpend.model_validate(spent)] if spent else []
