"""PlanMeasurements: ask the planner for the first round (later rounds are planned by the step that measured the last).

Pure: it reads the task's observations and calls no AWS API.
"""

from __future__ import annotations

import time

from autotuner_core.decision import engine
from autotuner_core.documents.task import MeasuringTask, TargetTask
from autotuner_core.observability import logger
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import step


@step(TargetTask, charged=True)
def run(task: TargetTask, clients: Clients, settings: Settings) -> MeasuringTask:
    planned, cut = engine.plan_task(task.measuring(started_ms=time.time() * 1000))
    rounds = task.spend.rounds
    if cut:
        logger.warning("planner stopped after the round limit", extra={"target": task.target.ref.arn, "rounds": rounds})
    logger.info("round planned", extra={"target": task.target.ref.arn, "round": rounds + 1, "plan": planned.plan or []})
    return planned
