"""ValidatePermissions' work: parse the execution input, select the targets, prove the run may run, store the list.

In this order, each read-only until the target list is stored: the request, its targets (a
selector's in this account and region, or the request's own), the payload input, every
permission the run needs (simulated), the payload objects, and the run's budget. Only then is
the target list written to S3, for the Distributed Map to read: only its location and size
travel through state.
"""

from __future__ import annotations

from typing import Any, Protocol

from autotuner_core.aws import pacing
from autotuner_core.aws.arns import parse_arn
from autotuner_core.cost import budget
from autotuner_core.documents.cost import StageTimings
from autotuner_core.documents.request import TargetRef, TuningRequest, parse_request
from autotuner_core.documents.target import PreflightResult, ValidateEvent
from autotuner_core.measuring.payloads import (
    allowed_buckets,
    check_payload_input,
    check_payload_objects,
    payload_objects,
)
from autotuner_core.observability import logger
from autotuner_core.policy.preflight import preflight_sample, required_permissions, resolve_targets, simulate
from autotuner_core.run.target_list import store_targets
from autotuner_core.settings import Settings
from autotuner_core.targets.selection import select_targets


class ValidationClients(Protocol):
    """The clients validation calls, each made on first use (a step's ``Clients``)."""

    @property
    def lambda_(self) -> Any: ...
    @property
    def cloudwatch(self) -> Any: ...
    @property
    def iam(self) -> Any: ...
    @property
    def s3(self) -> Any: ...
    @property
    def tagging(self) -> Any: ...


def validate_run(
    envelope: ValidateEvent, clients: ValidationClients, settings: Settings, *, function_arn: str
) -> PreflightResult:
    """The validated run: its request, its stored target list, its estimate and its workers.

    ``function_arn`` is the tuner function's own: its account and region are the run's (selection, payloads).
    """
    request = parse_request(envelope.input)
    targets = _targets(request, clients, settings, function_arn=function_arn)
    check_payload_input(request, targets, settings, function_arn=function_arn)
    checked = preflight_sample(targets)
    checks = required_permissions(request, checked, settings, execution_arn=envelope.execution.arn)
    calls = simulate(clients.iam, checks)
    if payload_objects(request) and not request.fixed:
        check_payload_objects(clients.s3, request, allowed_buckets(settings.payload_buckets))
    # The run budget: read-only calls, then refused before the target list (or anything) is created.
    estimate = budget.check(
        request, targets, checked, settings, lambda_client=clients.lambda_, cloudwatch=clients.cloudwatch
    )
    workers = max(1, min(settings.sweep_max_concurrency, len(targets)))
    execution = envelope.execution.with_workers(workers, targets=len(targets))
    target_list = store_targets(clients.s3, settings.sweep_bucket, execution, targets)
    logger.info(
        "pre-flight passed",
        extra={
            "targets": len(targets),
            "checkedTargets": len(checked),
            "simulations": calls,
            "workers": workers,
            "pacedSeconds": round(pacing.paced_seconds(), 3),
        },
    )
    return PreflightResult(
        execution=execution,
        request=request,
        target_count=len(targets),
        target_list=target_list,
        permission_checks=sum(len(check.actions) * len(check.resources) for check in checks),
        estimated_cost=estimate,
        max_concurrency=settings.sweep_max_concurrency,
        timings=StageTimings(),
    )


def _targets(
    request: TuningRequest, clients: ValidationClients, settings: Settings, *, function_arn: str
) -> list[TargetRef]:
    """The run's targets: those a selector selects in this account and region, or the request's own."""
    if request.select is None:
        return resolve_targets(request, function_arn=function_arn)
    partition, _, region, account, _ = parse_arn(function_arn)
    return select_targets(
        clients.tagging,
        clients.lambda_,
        request.select,
        partition=partition,
        region=region,
        account=account,
        max_targets=settings.sweep_max_targets,
    )
