"""PrepareMeasurement: one published version and temporary alias per new size of the planner's round.

A live target is measured on its shadow copy (created in the first round, reused after), or, with
measureOnLive, in place but never below what the function was seen to use (measurement.py). An idle
one is measured on versions of itself, and right before each change of its ``$LATEST`` CloudWatch is
asked again whether anything ran ``$LATEST`` since discovery (live_traffic.recheck): if so, the
size is put back and the target fails with LiveTrafficError naming what was seen.
"""

from __future__ import annotations

from autotuner_core.aws import pacing
from autotuner_core.documents.task import MeasuringTask, PreparedRound, RoundItem
from autotuner_core.measuring import live_traffic
from autotuner_core.measuring.measurement import live_floor, prepare_candidates, run_token
from autotuner_core.measuring.shadow import IN_PLACE, SHADOW, VERSIONS, ensure_shadow
from autotuner_core.observability import logger
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import step


@step(MeasuringTask, paced=True, charged=True)
def run(task: MeasuringTask, clients: Clients, settings: Settings) -> PreparedRound:
    client = clients.lambda_
    plan = task.plan or []
    prepared = {candidate.memory_size: candidate for candidate in task.candidates or []}
    measured_on = task.target.live_traffic.measured_on if task.target.live_traffic else None
    function_arn, original = task.target.ref.arn, task.target.configuration
    floor = None
    if measured_on == IN_PLACE:
        # measureOnLive: production runs at each size set, so none below what the function uses.
        plan, floor = live_floor(plan, original.memory_size, task.observations, task.request.invocations)
    # Sizes prepared in an earlier round keep their version and alias: only new ones are created.
    new = sorted({item.memory_size for item in plan} - set(prepared))
    if new and measured_on == SHADOW:
        copy = ensure_shadow(
            client, clients.s3, function_arn, run_token(task.execution.arn), task.execution.arn, settings
        )
        function_arn, original = copy.arn, copy.configuration
    evidence = task.target.live_traffic
    recheck = None
    if measured_on == VERSIONS and evidence is not None:
        cloudwatch, ref, at = clients.cloudwatch, task.target.ref, original.memory_size

        def recheck(size: int) -> None:
            where = f"before setting $LATEST to {size} MB, and $LATEST is back at its {at} MB"
            live_traffic.recheck(cloudwatch, ref, evidence, at=where)

    if new:
        for candidate in prepare_candidates(
            client,
            function_arn,
            original,
            task.request,
            task.execution.arn,
            settings,
            sizes=new,
            floor_mb=floor,
            before_change=recheck,
            # onlyColdStarts: one version per invocation the round makes at the size, no more.
            invocations={item.memory_size: item.invocations for item in plan},
        ):
            if function_arn != task.target.ref.arn:
                candidate = candidate.pointed(function_arn=function_arn)
            prepared[candidate.memory_size] = candidate
    logger.info(
        "candidates ready",
        extra={
            "target": task.target.ref.arn,
            "measuredOn": measured_on,
            "function": function_arn,
            "sizes": new,
            "excluded": [size for size in new if prepared[size].excluded],
            "pacedSeconds": round(pacing.paced_seconds(), 3),
        },
    )
    return task.prepared(
        [prepared[size] for size in sorted(prepared)],
        [RoundItem(candidate=prepared[item.memory_size], invocations=item.invocations) for item in plan],
    )
