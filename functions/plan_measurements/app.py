"""PlanMeasurements: add the round just measured to what is known, and ask the planner for the next one.

Pure: it reads the task's observations and calls no AWS API.
"""

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core import planning, run_cost
from autotuner_core.models import MAX_MEMORY_MB, TargetTask, parse_event
from autotuner_core.observability import bind_execution, logger, tracer
from autotuner_core.payloads import planned_request


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.monotonic()
    task = parse_event(TargetTask, event)
    bind_execution(task.execution.arn)
    tracer.put_annotation("target", task.target.ref.name)
    measured = task.measured or []
    observations = planning.merge(task.observations or [], [item.observation for item in measured])
    rounds = task.spend.rounds
    # The account's memory quota is not known here: a size Lambda refuses is excluded when prepared.
    plan, cut = planning.bounded_round(
        planned_request(task.request, task.target.payload),
        task.target.configuration.memory_size,
        observations,
        rounds_done=rounds,
        max_memory_mb=MAX_MEMORY_MB,
    )
    if cut:
        logger.warning("planner stopped after the round limit", extra={"target": task.target.ref.arn, "rounds": rounds})
    logger.info("round planned", extra={"target": task.target.ref.arn, "round": rounds + 1, "plan": plan})
    spend = run_cost.add(task.spend, *(item.spend for item in measured)).model_copy(
        update={"rounds": rounds + (1 if plan else 0), "round_items": task.spend.round_items + len(plan)}
    )
    return task.model_copy(
        update={
            "observations": observations,
            "measured": None,
            "round": None,
            "plan": plan or None,
            "measurement_started_ms": task.measurement_started_ms or time.time() * 1000,
            "spend": run_cost.charge(spend, busy_s=time.monotonic() - started),
        }
    ).dump()
