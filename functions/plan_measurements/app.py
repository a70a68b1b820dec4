"""PlanMeasurements: ask the planner for the first round (later rounds are planned by the step that measured the last).

Pure: it reads the task's observations and calls no AWS API.
"""

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core.cost import run_cost
from autotuner_core.decision import planning
from autotuner_core.documents.base import parse_event
from autotuner_core.documents.target import TargetTask
from autotuner_core.observability import bind_execution, logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.monotonic()
    task = parse_event(TargetTask, event)
    bind_execution(task.execution.arn)
    tracer.put_annotation("target", task.target.ref.name)
    planned, cut = planning.plan_task(task)
    rounds = task.spend.rounds
    if cut:
        logger.warning("planner stopped after the round limit", extra={"target": task.target.ref.arn, "rounds": rounds})
    logger.info("round planned", extra={"target": task.target.ref.arn, "round": rounds + 1, "plan": planned.plan or []})
    return planned.model_copy(
        update={
            "measurement_started_ms": task.measurement_started_ms or time.time() * 1000,
            "spend": run_cost.charge(planned.spend, busy_s=time.monotonic() - started),
        }
    ).dump()
