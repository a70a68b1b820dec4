"""UpdateConfiguration: apply the desired configuration to one target (or report it in a dry run)."""

from __future__ import annotations

from typing import Any

from autotuner_core.aws import pacing
from autotuner_core.documents.cost import StageTimings
from autotuner_core.documents.task import TargetTask, UpdatedTask, parse_update_input
from autotuner_core.observability import logger
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import step
from autotuner_core.targets.updater import apply_once


# The Lambda context bounds the idempotency record's in-progress time (updater.apply_once).
@step(parse_update_input, paced=True, charged=True, timing=StageTimings.updated, context=True)
def run(task: TargetTask, clients: Clients, settings: Settings, context: Any) -> UpdatedTask:
    outcome, after, alias = apply_once(clients.lambda_, clients.dynamodb, task, settings, context)
    logger.info(
        "configuration %s",
        outcome.value.lower(),
        extra={
            "target": task.target.ref.arn,
            "before": task.target.configuration.memory_size,
            "after": after.memory_size,
            "pacedSeconds": round(pacing.paced_seconds(), 3),
        },
    )
    return task.updated(outcome, after, alias)
