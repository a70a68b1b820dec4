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
from autotuner_core.documents.cost import TuningSpend
from autotuner_core.documents.target import TargetTask
from autotuner_core.observability import bind_execution, logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.monotonic()
    task = parse_event(TargetTask, event)
    bind_execution(task.execution.arn)
    tracer.put_annotation("target", task.target.ref.name)
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
            "spend": run_cost.charge(
                run_cost.add(task.spend, *_cleanup_spend(task)), busy_s=time.monotonic() - started
            ),
        }
    ).dump()


def _cleanup_spend(task: TargetTask) -> list[TuningSpend]:
    # CleanupMeasurement (just before) writes its report, spend included, at $.cleanup.report.
    spent = ((task.cleanup or {}).get("report") or {}).get("spend")
    return [TuningSpend.model_validate(spent)] if spent else []
