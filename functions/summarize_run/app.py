"""SummarizeRun: counts by outcome; fails the run when any target failed."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core.models import SummarizeEvent, parse_event
from autotuner_core.observability import bind_execution, logger, tracer
from autotuner_core.summary import summarize


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    summary_event = parse_event(SummarizeEvent, event)
    bind_execution(summary_event.execution.arn)
    return summarize(summary_event).dump()
