"""DiscoverResources: resolve one target and return its current configuration."""

from __future__ import annotations

from autotuner_core.documents.cost import TuningSpend
from autotuner_core.documents.target import TargetEntry, TargetTask
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import step
from autotuner_core.targets.discovery import discover


# The tuning's own cost starts here (run_cost.py): its spend is this invocation's.
@step(TargetEntry, paced=True, charged=True, timing="discover_resources_ms", metric="ResourceValidationDuration")
def run(entry: TargetEntry, clients: Clients, settings: Settings) -> TargetTask:
    lambda_client = clients.lambda_
    cloudwatch = None if entry.request.fixed else clients.cloudwatch
    # A target's autotuner:payload object is checked at discovery (HeadObject); no bucket, no S3 payloads.
    s3 = clients.s3 if settings.payload_buckets and not entry.request.fixed else None
    (target,) = discover(lambda_client, entry.request, [entry.ref], settings, cloudwatch=cloudwatch, s3=s3)
    return TargetTask(
        execution=entry.execution,
        request=entry.request,
        target=target,
        admission=entry.admission,
        timings=entry.timings,
        spend=TuningSpend(),
    )
