"""RecordResult: one run record per target per execution, on the success path and every failure path.

It also tells the target's circuit breaker how the run went and gives back the target's lease,
so the breaker always agrees with the recorded outcomes.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from autotuner_core.documents.base import Outcome
from autotuner_core.documents.outcome import RecordEvent, RecordResponse, TargetOutcome
from autotuner_core.observability import count, logger, metrics, tracer
from autotuner_core.policy.breaker import BreakerStore, CircuitState, settle
from autotuner_core.run.events import publish_completed
from autotuner_core.run.records import breaker_verdict, build_records, now_utc, outcome_of, write_records
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import step


# The trace is annotated from the records, which name the target on every path (annotate=False).
@step(RecordEvent, metrics=True, annotate=False)
def run(record_event: RecordEvent, clients: Clients, settings: Settings) -> RecordResponse:
    records = build_records(record_event, now=now_utc(), retention_days=settings.run_record_retention_days)
    dynamodb = clients.dynamodb
    written = write_records(dynamodb, settings.run_history_table, records)
    store = BreakerStore(dynamodb, settings.state_table)
    policy = settings.breaker_policy(record_event.request)
    now = time.time()
    for record in records:
        verdict = breaker_verdict(record)
        if verdict is None:
            continue
        breaker = settle(store, record["target"], record_event.execution.arn, policy, now, succeeded=verdict)
        if breaker.state is CircuitState.OPEN and breaker.opened_at == now:  # opened by this record
            count("CircuitOpened", dimension="outcome", value=record["outcome"])
            logger.warning("circuit opened", extra={"target": record["target"], "failures": breaker.failures})
    if record_event.target is not None or record_event.ref is not None:
        # Whether or not CheckCircuit got to report its admission (it may have taken the lease and then
        # failed): the release is conditional on this execution holding the lease, so it is always safe.
        store.release_lease(records[0]["target"], record_event.execution.arn)
    if settings.event_bus_name:
        publish_completed(clients.events, settings.event_bus_name, settings.event_source, records)
    outcomes = [outcome_of(record) for record in records]
    _emit(records, outcomes)
    tracer.put_annotation("target", records[0]["target"].rsplit(":", 1)[-1])
    tracer.put_annotation("outcome", records[0]["outcome"])
    if "errorCategory" in records[0]:
        tracer.put_annotation("errorCategory", records[0]["errorCategory"])
    logger.info("recorded", extra={"written": written, "outcomes": [record["outcome"] for record in records]})
    return RecordResponse(execution=record_event.execution, records=written, outcomes=outcomes)


def _emit(records: list[dict[str, Any]], outcomes: list[TargetOutcome]) -> None:
    for outcome, amount in Counter(record["outcome"] for record in records).items():
        count("RunOutcome", dimension="outcome", value=outcome, amount=amount)
    failures = [record for record in records if record["outcome"] == "FAILED"]
    for category, amount in Counter(record["errorCategory"] for record in failures).items():
        count("ErrorsByCategory", dimension="category", value=category, amount=amount)
    if failures:
        metrics.add_metric(
            name="TimeToFailure", unit=MetricUnit.Milliseconds, value=float(failures[0]["timeToFailureMs"])
        )
    for outcome in outcomes:
        change = outcome.recommendation.projected_change_per_million_usd if outcome.recommendation else None
        if outcome.outcome is Outcome.APPLIED and change is not None:
            # A log line per function, not a metric: any statistic over functions would add per-million
            # figures of functions with different traffic. The dashboard lists these lines.
            logger.info(
                "applied change",
                extra={
                    "target": outcome.target,
                    "memoryBeforeMb": outcome.memory_before,
                    "memoryAfterMb": outcome.memory_after,
                    "projectedSavingsPerMillionUsd": round(-change, 6),
                },
            )
