"""CheckCircuit: the first step for each target; an open circuit or a held lease ends it here.

One breaker read decides an open circuit, before any Lambda control-plane call or invocation.
"""

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core.aws.clients import aws_client
from autotuner_core.documents.base import parse_event
from autotuner_core.documents.target import TargetEntry
from autotuner_core.observability import bind_execution, logger, tracer
from autotuner_core.policy.breaker import BreakerStore, admit
from autotuner_core.settings import Settings

SETTINGS = Settings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    entry = parse_event(TargetEntry, event)
    bind_execution(entry.execution.arn)
    tracer.put_annotation("target", entry.ref.name)
    store = BreakerStore(aws_client("dynamodb"), SETTINGS.state_table)
    now = time.time()
    admission = admit(store, entry.ref.arn, entry.execution.arn, SETTINGS.breaker_policy(entry.request), now)
    store.acquire_lease(entry.ref.arn, entry.execution.arn, now, SETTINGS.lease_seconds)
    logger.info("admitted", extra={"target": entry.ref.arn, "admission": admission.value})
    return entry.model_copy(update={"admission": admission.value}).dump()
