"""DiscoverResources: resolve each target and return its current configuration."""

from time import perf_counter
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core.clients import aws_client
from autotuner_core.discovery import discover
from autotuner_core.models import DiscoveryResult, PreflightResult, parse_event
from autotuner_core.observability import bind_execution, logger, metrics, tracer
from autotuner_core.settings import Settings

SETTINGS = Settings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = perf_counter()
    preflight = parse_event(PreflightResult, event)
    bind_execution(preflight.execution.arn)
    targets = discover(aws_client("lambda"), preflight.request, preflight.targets, SETTINGS)
    elapsed_ms = (perf_counter() - started) * 1000
    metrics.add_metric(name="ResourceValidationDuration", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    timings = preflight.timings.model_copy(update={"discover_resources_ms": round(elapsed_ms, 1)})
    return DiscoveryResult(
        execution=preflight.execution,
        request=preflight.request,
        targets=targets,
        estimated_cost=preflight.estimated_cost,
        timings=timings,
    ).dump()
