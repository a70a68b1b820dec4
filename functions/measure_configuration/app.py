"""MeasureConfiguration: invoke one candidate's alias(es), the target's or its shadow's, and keep the samples."""

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core import run_cost
from autotuner_core.clients import aws_client
from autotuner_core.measurement import measure_candidate, measurement_client_context
from autotuner_core.models import MeasuredItem, MeasureTask, TuningSpend, parse_event
from autotuner_core.observability import bind_execution, logger, tracer
from autotuner_core.payloads import payload_for, processor_arns


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.monotonic()
    task = parse_event(MeasureTask, event)
    bind_execution(task.execution.arn)
    tracer.put_annotation("target", task.target.ref.name)
    source = task.target.payload
    payload = payload_for(task.request, source, aws_client("s3") if source and source.s3 else None, task.execution.arn)
    # A live target's candidates are its shadow copy's aliases: the candidate names the function measured.
    function_arn = task.candidate.function_arn or task.target.ref.arn
    observation, waited_ms = measure_candidate(
        aws_client("lambda"),
        function_arn,
        task.candidate,
        task.request,
        task.invocations,
        payload=payload,
        client_context=measurement_client_context(task.execution.arn),
        processors=processor_arns(task.request, function_arn=task.target.ref.arn),
    )
    spend = run_cost.charge(TuningSpend(), busy_s=time.monotonic() - started, waited_ms=waited_ms)
    return MeasuredItem(observation=observation, spend=spend).dump()
