"""DiscoverResources: resolve one target and return its current configuration."""

from __future__ import annotations

from autotuner_core.documents.cost import StageTimings
from autotuner_core.documents.task import AdmittedTarget, TargetTask
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import step
from autotuner_core.targets.discovery import discover
from autotuner_core.telemetry import step as telemetry


# The tuning's own cost starts here (run_cost.py): its spend is this invocation's.
@step(AdmittedTarget, paced=True, charged=True, timing=StageTimings.discovered, metric="ResourceValidationDuration")
def run(entry: AdmittedTarget, clients: Clients, settings: Settings) -> TargetTask:
    measures = not entry.request.fixed and not entry.request.from_telemetry
    if entry.request.from_telemetry:
        telemetry.refuse_settings(settings)
    lambda_client = clients.lambda_
    cloudwatch = clients.cloudwatch if measures else None
    # A target's autotuner:payload object is checked at discovery (HeadObject); no bucket, no S3 payloads.
    s3 = clients.s3 if settings.payload_buckets and measures else None
    (target,) = discover(lambda_client, entry.request, [entry.ref], settings, cloudwatch=cloudwatch, s3=s3)
    if entry.request.from_telemetry:
        # Telemetry mode's finding is made here; the ASL's Plan choice then records it (telemetry/step.py).
        return telemetry.found(entry.discovered(target), clients, settings)
    return entry.discovered(target)
