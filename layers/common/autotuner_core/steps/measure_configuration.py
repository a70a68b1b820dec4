"""MeasureConfigurations: invoke every candidate of the round, the target's or its shadow's, keep the
samples, and plan the next round.

One invocation measures the whole round, its sizes side by side (at most ``ROUND_LANES`` at once):
one state transition a round, where a Map costs one and one more per size; and planning here (pure,
no AWS call) saves the planner's own state per round. A target measured on versions of itself is
checked for live traffic on ``$LATEST`` after each round (live_traffic.recheck): what reached it
while PrepareMeasurement moved it stops the measuring with LiveTrafficError.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from autotuner_core.cost import share as cost_share
from autotuner_core.decision import engine
from autotuner_core.documents.cost import TuningSpend
from autotuner_core.documents.task import MeasuredItem, MeasuringTask, PreparedRound, RoundItem
from autotuner_core.measuring import live_traffic
from autotuner_core.measuring.invocations import measure_candidate, measurement_client_context
from autotuner_core.measuring.payloads import payload_for, processor_arns
from autotuner_core.measuring.shadow import VERSIONS
from autotuner_core.observability import logger
from autotuner_core.policy.errors import BudgetExceededError
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
        observation, waited_ms, processor_gb_s = measure_candidate(
            client,
            function_arn,
            item.candidate,
            task.request,
            item.invocations,
            payload=payload,
            client_context=client_context,
            processors=processors,
        )
        spend = TuningSpend().with_processors(len(processors) * observation.invocations, processor_gb_s)
        return MeasuredItem(observation=observation, spend=spend), waited_ms

    items = task.round
    with ThreadPoolExecutor(max_workers=max(1, min(ROUND_LANES, len(items)))) as pool:
        results = list(pool.map(measure, items))
    waited_ms = makespan([w for _, w in results])
    evidence = task.target.live_traffic
    if evidence is not None and evidence.measured_on == VERSIONS:
        # The planner counted this round when it planned it.
        at = f"after round {task.spend.rounds}; $LATEST is at its {task.target.configuration.memory_size} MB"
        live_traffic.recheck(clients.cloudwatch, task.target.ref, evidence, at=at)
    # The next round is planned here, not in a state of its own: one state transition less per round.
    # No round starts past the target's share of the run's limits (cost/share.py).
    share = cost_share.share_of(settings, task.execution.targets)
    planned, cut = engine.plan_task(task, [item for item, _ in results], share=share, waited_ms=waited_ms)
    stopped = planned.spend.budget_stop
    if stopped:
        logger.warning("run budget stopped the measuring", extra={"target": task.target.ref.arn, "why": stopped})
        if not cost_share.decidable(planned):
            raise BudgetExceededError(
                f"the run budget stopped measuring before two sizes could be compared ({stopped}); raise "
                "MaxRunCostUsd, tune fewer targets or lower invocations"
            )
    if cut:
        logger.warning(
            "planner stopped after the round limit", extra={"target": task.target.ref.arn, "rounds": task.spend.rounds}
        )
    logger.info(
        "round measured and the next planned",
        extra={"target": task.target.ref.arn, "round": task.spend.rounds + 1, "plan": planned.plan or []},
    )
    # The tuner waits for every target invocation: it is billed at least the round's makespan.
    waited_for_targets(waited_ms)
    return planned


def makespan(waits_ms: list[float]) -> float:
    """How long the round's waits take on ROUND_LANES lanes, each size on the first lane free (as the pool runs)."""
    lanes = [0.0] * ROUND_LANES
    for wait in waits_ms:
        lanes[lanes.index(min(lanes))] += wait
    return max(lanes)
