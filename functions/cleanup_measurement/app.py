"""CleanupMeasurement: delete this run's temporary aliases and versions, restore $LATEST, delete its shadow.

Runs after every measurement, on success and after any failure, and is safe to run twice. A
shadow copy (live targets) is found by its name and deleted with its code copy when its tags
say this run made it.
"""

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core.aws import pacing
from autotuner_core.aws.clients import aws_client
from autotuner_core.cost import run_cost
from autotuner_core.documents.base import parse_event
from autotuner_core.documents.cost import TuningSpend
from autotuner_core.documents.outcome import RecordEvent
from autotuner_core.measuring.measurement import clean_up, run_token
from autotuner_core.measuring.shadow import SHADOW, delete_shadow
from autotuner_core.observability import bind_execution, logger, tracer
from autotuner_core.settings import Settings

SETTINGS = Settings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.monotonic()
    # RecordEvent: on the failure path the document also carries the error being handled.
    document = parse_event(RecordEvent, event)
    bind_execution(document.execution.arn)
    pacing.pace(document.execution.workers, SETTINGS)
    if document.target is not None:
        tracer.put_annotation("target", document.target.ref.name)
    if document.target is None or document.request is None:
        return {"aliasesDeleted": 0, "versionsDeleted": 0, "restored": False, "note": "no target to clean"}
    request = document.request
    # On the failure path of an apply, the size being applied: an update Lambda accepted before the
    # failure is undone, so the failed run leaves the function as it was found.
    recommended = document.recommendation.memory_size if document.recommendation else None
    applying = request.memory_size if request.memory_size is not None else recommended
    client = aws_client("lambda")
    run_cost.count_control_plane_calls(client)
    report = clean_up(
        client,
        document.target.ref.arn,
        document.target.configuration,
        document.execution.arn,
        SETTINGS,
        applied=applying if request.apply and document.error is not None else None,
    )
    evidence = document.target.live_traffic
    if evidence is not None and evidence.measured_on == SHADOW:
        report.shadow_deleted = delete_shadow(
            client,
            aws_client("s3"),
            document.target.ref.arn,
            run_token(document.execution.arn),
            document.execution.arn,
            SETTINGS,
        )
    report.spend = run_cost.charge(
        TuningSpend(), busy_s=time.monotonic() - started, calls=run_cost.control_plane_calls()
    )
    logger.info(
        "cleaned up",
        extra={"target": document.target.ref.arn, **report.dump(), "pacedSeconds": round(pacing.paced_seconds(), 3)},
    )
    return report.dump()
