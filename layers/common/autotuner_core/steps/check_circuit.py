"""CheckCircuit: the first step for each target; an open circuit or a held lease ends it here.

One breaker read decides an open circuit, before any Lambda control-plane call or invocation.
"""

from __future__ import annotations

import time

from autotuner_core.documents.task import AdmittedTarget, TargetEntry
from autotuner_core.observability import logger
from autotuner_core.policy.breaker import BreakerStore, admit
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import step


@step(TargetEntry)
def run(entry: TargetEntry, clients: Clients, settings: Settings) -> AdmittedTarget:
    store = BreakerStore(clients.dynamodb, settings.state_table)
    now = time.time()
    admission = admit(store, entry.ref.arn, entry.execution.arn, settings.breaker_policy(entry.request), now)
    store.acquire_lease(entry.ref.arn, entry.execution.arn, now, settings.lease_seconds)
    logger.info("admitted", extra={"target": entry.ref.arn, "admission": admission.value})
    return entry.admitted(admission)
