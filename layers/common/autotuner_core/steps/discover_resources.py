"""DiscoverResources: resolve one target and return its current configuration."""

from __future__ import annotations

from autotuner_core.documents.cost import StageTimings
from autotuner_core.documents.task import AdmittedTarget, TargetTask
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import step
from autotuner_core.targets.discovery import discover


# The tuning's own cost starts here (run_cost.py): its spend is this invocation's.
@step(AdmittedTarget, paced=True, charged=True, timing=StageTimings.discovered, metric="ResourceValidationDuration")
def run(entry: AdmittedTarget, clients: Clients, settings: Settings) -> TargetTask:
    lambda_client = clients.lambda_
    cloudwatch = None if entry.request.fixed else clients.cloudwatch
    # A target's autotuner:payload object is checked at discovery (HeadObject); no bucket, no S3 payloads.
    s3 = clients.s3 if settings.payload_buckets and not entry.request.fixed else None
    (target,) = discover(lambda_client, entry.request, [entry.ref], settings, cloudwatch=cloudwatch, s3=s3)
    return entry.discovered(target)
