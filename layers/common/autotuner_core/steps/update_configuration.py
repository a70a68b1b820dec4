"""UpdateConfiguration: apply the desired configuration to one target (or report it in a dry run)."""

from __future__ import annotations

from typing import Any

from autotuner_core.aws import pacing
from autotuner_core.documents.base import Outcome
from autotuner_core.documents.cost import StageTimings
from autotuner_core.documents.task import TargetTask, UpdatedTask, parse_update_input
from autotuner_core.observability import logger
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import step
from autotuner_core.targets import drift
from autotuner_core.targets.updater import apply_once, desired_memory


# The Lambda context bounds the idempotency record's in-progress time (updater.apply_once).
@step(parse_update_input, paced=True, charged=True, timing=StageTimings.updated, context=True)
def run(task: TargetTask, clients: Clients, settings: Settings, context: Any) -> UpdatedTask:
    # A deploy that put an earlier run's size back is recorded, not fought: nothing is applied.
    reverted = drift.check(clients.dynamodb, task, desired_memory(task), settings)
    if reverted is not None:
        logger.warning(
            "deploy reverted a tuned size",
            extra={"target": task.target.ref.arn, "reverts": reverted.reverts, "held": reverted.held},
        )
        outcome = Outcome.REVERTED_BY_DEPLOY if reverted.reverted else Outcome.SKIPPED
        return task.updated(outcome, task.target.configuration, None, drift=reverted)
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
