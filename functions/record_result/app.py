"""RecordResult: one run record per target per execution, on the success path and every failure path."""

from collections import Counter
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core.clients import aws_client
from autotuner_core.models import RecordEvent, RecordResponse, parse_event
from autotuner_core.observability import bind_execution, count, logger, metrics, tracer
from autotuner_core.records import build_records, now_utc, outcome_of, write_records
from autotuner_core.settings import Settings

SETTINGS = Settings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    record_event = parse_event(RecordEvent, event)
    bind_execution(record_event.execution.arn)
    records = build_records(record_event, now=now_utc(), retention_days=SETTINGS.run_record_retention_days)
    written = write_records(aws_client("dynamodb"), SETTINGS.run_history_table, records)
    for outcome, amount in Counter(record["outcome"] for record in records).items():
        count("RunOutcome", dimension="outcome", value=outcome, amount=amount)
    failures = [record for record in records if "errorCategory" in record]
    for category, amount in Counter(record["errorCategory"] for record in failures).items():
        count("ErrorsByCategory", dimension="category", value=category, amount=amount)
    if failures:
        metrics.add_metric(
            name="TimeToFailure", unit=MetricUnit.Milliseconds, value=float(failures[0]["timeToFailureMs"])
        )
    logger.info("recorded", extra={"written": written, "outcomes": [record["outcome"] for record in records]})
    return RecordResponse(
        execution=record_event.execution, records=written, outcomes=[outcome_of(record) for record in records]
    ).dump()
