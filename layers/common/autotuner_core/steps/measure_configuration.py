"""MeasureConfigurations: invoke every candidate of the round, the target's or its shadow's, keep the
samples, and plan the next round.

One invocation measures the whole round, its sizes side by side (at most ``ROUND_LANES`` at once):
one state transition a round, where a Map costs one and one more per size; and planning here (pure,
no AWS call) saves the planner's own state per round.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from autotuner_core.decision import engine
from autotuner_core.documents.cost import TuningSpend
from autotuner_core.documents.task import MeasuredItem, MeasuringTask, PreparedRound, RoundItem
from autotuner_core.measuring.invocations import measure_candidate, measurement_client_context
from autotuner_core.measuring.payloads import payload_for, processor_arns
from autotuner_core.observability import logger
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import step, waited_for_targets

# Sizes measured at once: at most 4 of a target's sizes side by side, which bounds the concurrency a round adds.
ROUND_LANES = 4


@step(PreparedRound, charged=True)
def run(task: PreparedRound, clients: Clients, settings: Settings) -> MeasuringTask:
    source = task.target.payload
    payload = payload_for(task.request, source, clients.s3 if source and source.s3 else None, task.execution.arn)
    client = clients.lambda_
    client_context = measurement_client_context(task.execution.arn)
    processors = processor_arns(task.request, function_arn=task.target.ref.arn)

    def measure(item: RoundItem) -> tuple[MeasuredItem, float]:
        # A live target's candidates are its shadow copy's aliases: the candidate names the function measured.
        function_arn = item.candidate.function_arn or task.target.ref.arn
        observation, waited_ms = measure_candidate(
            client,
            function_arn,
            item.candidate,
            task.request,
            item.invocations,
            payload=payload,
            client_context=client_context,
            processors=processors,
        )
        return MeasuredItem(observation=observation, spend=TuningSpend()), waited_ms

    items = task.round
    with ThreadPoolExecutor(max_workers=max(1, min(ROUND_LANES, len(items)))) as pool:
        results = list(pool.map(measure, items))
    # The next round is planned here, not in a state of its own: one state transition less per round.
    planned, cut = engine.plan_task(task, [item for item, _ in results])
    if cut:
        logger.warning(
            "planner stopped after the round limit", extra={"target": task.target.ref.arn, "rounds": task.spend.rounds}
        )
    logger.info(
        "round measured and the next planned",
        extra={"target": task.target.ref.arn, "round": task.spend.rounds + 1, "plan": planned.plan or []},
    )
    # The tuner waits for every target invocation: it is billed at least the round's makespan.
    waited_for_targets(makespan([w for _, w in results]))
    return planned


def makespan(waits_ms: list[float]) -> float:
    """How long the round's waits take on ROUND_LANES lanes, each size on the first lane free (as the pool runs)."""
    lanes = [0.0] * ROUND_LANES
    for wait in waits_ms:
        lanes[lanes.index(min(lanes))] += wait
    return max(lanes)
