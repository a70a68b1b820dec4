"""CleanupMeasurement: delete this run's temporary aliases and versions, restore $LATEST, delete its shadow.

Runs after every measurement, on success and after any failure, and is safe to run twice. A
shadow copy (live targets) is found by its name and deleted with its log group and code copy
when its tags say this run made it (shadow_cleanup.py).
"""

from __future__ import annotations

from autotuner_core.aws import pacing
from autotuner_core.documents.cost import TuningSpend
from autotuner_core.documents.outcome import RecordEvent, parse_cleanup_input
from autotuner_core.documents.request import TuningRequest
from autotuner_core.documents.task import CleanupReport, MeasuringTask
from autotuner_core.measuring.measurement import clean_up, run_token
from autotuner_core.measuring.shadow import SHADOW
from autotuner_core.measuring.shadow_cleanup import delete_shadow
from autotuner_core.observability import logger
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import step


@step(parse_cleanup_input, paced=True, charged=True)
def run(document: MeasuringTask | RecordEvent, clients: Clients, settings: Settings) -> CleanupReport:
    if document.target is None or document.request is None:
        return CleanupReport(note="no target to clean")  # no spend: nothing to charge it to
    target = document.target
    report = clean_up(
        clients.lambda_,
        target.ref.arn,
        target.configuration,
        document.execution.arn,
        settings,
        applied=_applying(document.request, document) if isinstance(document, RecordEvent) else None,
    )
    evidence = target.live_traffic
    if evidence is not None and evidence.measured_on == SHADOW:
        report.shadow_deleted = delete_shadow(
            clients.lambda_,
            clients.logs,
            clients.s3,
            target.ref.arn,
            run_token(document.execution.arn),
            document.execution.arn,
            settings,
        )
    logger.info(
        "cleaned up",
        extra={"target": target.ref.arn, **report.dump(), "pacedSeconds": round(pacing.paced_seconds(), 3)},
    )
    report.spend = TuningSpend()  # this invocation's own time, added by the middleware
    return report


def _applying(request: TuningRequest, failed: RecordEvent) -> int | None:
    """On the failure path of an apply, the size being applied: an update Lambda accepted before the
    failure is undone, so the failed run leaves the function as it was found."""
    if not request.apply or failed.error is None:
        return None
    recommended = failed.recommendation.memory_size if failed.recommendation else None
    return request.memory_size if request.memory_size is not None else recommended
