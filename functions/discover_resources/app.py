"""DiscoverResources: resolve one target and return its current configuration."""

from time import perf_counter
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core.aws import pacing
from autotuner_core.aws.clients import aws_client
from autotuner_core.cost import run_cost
from autotuner_core.documents.base import parse_event
from autotuner_core.documents.cost import TuningSpend
from autotuner_core.documents.target import TargetEntry, TargetTask
from autotuner_core.observability import bind_execution, logger, metrics, tracer
from autotuner_core.settings import Settings
from autotuner_core.targets.discovery import discover

SETTINGS = Settings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = perf_counter()
    entry = parse_event(TargetEntry, event)
    bind_execution(entry.execution.arn)
    pacing.pace(entry.execution.workers, SETTINGS)
    tracer.put_annotation("target", entry.ref.name)
    client = aws_client("lambda")
    run_cost.count_control_plane_calls(client)  # the tuning's own cost starts here (run_cost.py)
    cloudwatch = None if entry.request.fixed else aws_client("cloudwatch")
    # A target's autotuner:payload object is checked at discovery (HeadObject); no bucket, no S3 payloads.
    s3 = aws_client("s3") if SETTINGS.payload_buckets and not entry.request.fixed else None
    (target,) = discover(client, entry.request, [entry.ref], SETTINGS, cloudwatch=cloudwatch, s3=s3)
    elapsed_ms = (perf_counter() - started) * 1000
    metrics.add_metric(name="ResourceValidationDuration", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    return TargetTask(
        execution=entry.execution,
        request=entry.request,
        target=target,
        admission=entry.admission,
        timings=entry.timings.model_copy(update={"discover_resources_ms": round(elapsed_ms, 1)}),
        spend=run_cost.charge(TuningSpend(), busy_s=elapsed_ms / 1000, calls=run_cost.control_plane_calls()),
    ).dump()
