"""Telemetry mode inside DiscoverResources: the discovered target's telemetry read and its finding made.

DiscoverResources already holds the target's configuration (GetFunction, the one Lambda call of
telemetry mode besides a ListTags where GetFunction returns no tags), so the finding is made there
and the ASL's Plan choice sends the document straight to RecordTargetResult: no Lambda invocation
of the target, no change, one state fewer per target than a Task of its own would take.
"""

from __future__ import annotations

from datetime import UTC, datetime

from autotuner_core.aws.arns import parse_arn
from autotuner_core.documents.task import TargetTask
from autotuner_core.documents.telemetry import TelemetryTask
from autotuner_core.policy.errors import InvalidInputError
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.telemetry import findings, reading


def refuse_settings(settings: Settings) -> None:
    """Before any call: a scan cap of 0 would read nothing, and says so as bad input."""
    if settings.telemetry_max_scan_bytes <= 0:
        raise InvalidInputError(
            "TelemetryMaxScanBytes (TELEMETRY_MAX_SCAN_BYTES) is 0: telemetry mode could read no log group; "
            "deploy with a positive scan cap in bytes"
        )


def found(task: TargetTask, clients: Clients, settings: Settings, *, now: datetime | None = None) -> TelemetryTask:
    """The task with its telemetry and finding: outcome RECOMMENDED, source telemetry."""
    configuration = task.target.configuration
    evidence = reading.read(
        clients.logs,
        clients.cloudwatch,
        function_name=task.target.ref.name,
        logging_config=configuration.logging_config,
        lookback_days=task.request.lookback_days,
        scan_cap_bytes=settings.telemetry_max_scan_bytes,
        now=now or datetime.now(UTC),
    )
    region = parse_arn(task.target.ref.arn).region
    finding = findings.decide(
        evidence,
        memory_mb=configuration.memory_size,
        timeout_s=configuration.timeout,
        region=region,
        architecture=(configuration.architectures or ["x86_64"])[0],
    )
    return TelemetryTask.of(task, evidence, finding)
