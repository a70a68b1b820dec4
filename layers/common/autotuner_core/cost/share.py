"""Each target's share of the run's limits, and the check that stops its measuring there.

The pre-run estimate (budget.py) holds only on its assumptions: a measuring payload that runs far
longer than production's longest Duration spends more than it said. The share is what keeps a
run within ``MaxRunCostUsd``, ``MaxInvocationsPerRun`` and ``MaxVersionsPerTarget`` when that
happens: before a round starts, the target's counted spend plus the round's projection must fit
its share, or measuring stops there and the decision uses what was measured.

The share is the limit divided evenly among the run's targets (after the run's own steps), not
the target's estimate: the limit is what the user set and what the run promises; the estimate is
the guess that can be wrong, and a target that stays under the limit is not stopped for being
over a guess. The shares add up to the limit, so no target takes another's.

The projection of a round: each planned invocation at its size for the longest billed duration
measured at the nearest measured size, scaled as budget.py scales (below a size a function runs at
most proportionally longer, above it no longer; the smaller of the two bounds); with nothing
measured yet, the timeout. The processors at their average so far, the tuner waiting for all of
it, the round's state transitions and the versions it publishes. The first round is planned
before anything is measured: only the pre-run estimate bounds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autotuner_core.aws.arns import parse_arn
from autotuner_core.cost import run_cost
from autotuner_core.cost.prices import Prices, gb_seconds, lambda_prices, lambda_usd, step_functions_usd
from autotuner_core.documents.cost import TuningSpend
from autotuner_core.documents.target import Candidate, SizeObservation, SizeRequest
from autotuner_core.documents.task import MeasuringTask
from autotuner_core.settings import Settings

# A tuner step's own busy time besides its waits, as budget.py allows it (TUNER_STEP_ALLOWANCE_S).
_RUN_STEP_S = 2.0


@dataclass(frozen=True)
class Share:
    """What one target may spend: target invocations, dollars (everything its measuring costs) and versions."""

    invocations: int
    usd: float
    versions: int


@dataclass(frozen=True)
class Spent:
    invocations: int
    gb_seconds: float
    usd: float
    versions: int


def run_overhead_usd() -> float:
    """What the run's own states and steps cost besides its targets (at most)."""
    seconds = run_cost.RUN_TUNER_INVOCATIONS * _RUN_STEP_S
    tuner = lambda_usd(
        run_cost.tuner_memory_mb() / 1024 * seconds, run_cost.RUN_TUNER_INVOCATIONS, run_cost.tuner_prices()
    )
    return step_functions_usd(run_cost.RUN_TRANSITIONS) + tuner


def share_of(settings: Settings, targets: int) -> Share:
    """One of ``targets`` targets' share of the deploy-time limits."""
    count = max(1, targets)
    return Share(
        invocations=settings.max_invocations_per_run // count,
        usd=max(0.0, settings.max_run_cost_usd - run_overhead_usd()) / count,
        versions=settings.max_versions_per_target,
    )


def spent(task: MeasuringTask, observations: Sequence[SizeObservation], spend: TuningSpend, waited_ms: float) -> Spent:
    """What the target has spent so far: its invocations and GB-seconds, every dollar of it (target,
    processors, the tuner, including ``waited_ms`` not yet billed, and its states) and its versions."""
    invocations = sum(o.invocations for o in observations)
    target_gb_s = sum(gb_seconds(o.memory_size, sum(o.billed_durations_ms) + o.errors_billed_ms) for o in observations)
    tuner_gb_s = spend.tuner_gb_seconds + run_cost.tuner_memory_mb() / 1024 * waited_ms / 1000
    processor_prices = run_cost.processor_prices(task.target.ref.arn)
    usd = (
        lambda_usd(target_gb_s, invocations, _prices(task))
        + lambda_usd(spend.processor_gb_seconds, spend.processor_invocations, processor_prices)
        + lambda_usd(tuner_gb_s, spend.tuner_invocations + run_cost.TARGET_TUNER_INVOCATIONS, run_cost.tuner_prices())
        + step_functions_usd(run_cost.measured_target_transitions(spend.rounds))
    )
    return Spent(invocations, target_gb_s, usd, _versions(task.candidates or []))


def projected(
    task: MeasuringTask, observations: Sequence[SizeObservation], spend: TuningSpend, plan: Sequence[SizeRequest]
) -> Spent:
    """What the planned round may spend at most, as the module's docstring projects it."""
    request = task.request
    invocations = sum(item.invocations for item in plan)
    target_gb_s = sum(item.invocations * _gb_s_per_invocation(task, observations, item.memory_size) for item in plan)
    # Processors (none, one or two per target invocation) as often per invocation as so far.
    processors = spend.processor_invocations / max(1, sum(o.invocations for o in observations))
    processor_calls = round(processors * invocations)
    per_call = spend.processor_gb_seconds / spend.processor_invocations if spend.processor_invocations else 0.0
    processor_gb_s = processor_calls * per_call
    # The tuner waits for the target, the processors (at 128 MB, the smallest size, the longest their
    # GB-seconds can last) and the sleeps, sequentially: the longest case.
    target_s = sum(
        item.invocations * _gb_s_per_invocation(task, observations, item.memory_size) * 1024 / item.memory_size
        for item in plan
    )
    waited_s = target_s + invocations * (request.sleep_between_runs_ms / 1000) + processor_gb_s * 1024 / 128
    steps = 2  # PrepareMeasurement and MeasureConfigurations
    tuner_gb_s = run_cost.tuner_memory_mb() / 1024 * (waited_s + steps * _RUN_STEP_S)
    prepared = {candidate.memory_size for candidate in task.candidates or []}
    copies = {item.memory_size: item.invocations if request.only_cold_starts else 1 for item in plan}
    versions = sum(count for size, count in copies.items() if size not in prepared)
    usd = (
        lambda_usd(target_gb_s, invocations, _prices(task))
        + lambda_usd(processor_gb_s, processor_calls, run_cost.processor_prices(task.target.ref.arn))
        + lambda_usd(tuner_gb_s, steps, run_cost.tuner_prices())
        + step_functions_usd(run_cost.ROUND_TRANSITIONS)
    )
    return Spent(invocations, target_gb_s, usd, versions)


def stop_reason(share: Share, so_far: Spent, next_round: Spent) -> str | None:
    """Why the next round may not start (the first quantity it would take past the share); None: it fits."""
    if so_far.invocations + next_round.invocations > share.invocations:
        return (
            f"invocations: {so_far.invocations} counted + {next_round.invocations} planned would pass this target's "
            f"share {share.invocations} of MaxInvocationsPerRun"
        )
    if so_far.versions + next_round.versions > share.versions:
        return (
            f"versions: {so_far.versions} published + {next_round.versions} planned would pass MaxVersionsPerTarget "
            f"{share.versions}"
        )
    if so_far.usd + next_round.usd > share.usd:
        return (
            f"dollars: ${so_far.usd:.6f} counted ({so_far.gb_seconds:.1f} target GB-seconds) + up to "
            f"${next_round.usd:.6f} for the next round would pass this target's share ${share.usd:.6f} of "
            "MaxRunCostUsd"
        )
    return None


def decidable(task: MeasuringTask) -> bool:
    """Whether what was measured can decide: two sizes the engine can rank (usable, above every failure)."""
    from autotuner_core.decision.statistics import by_size, estimate
    from autotuner_core.documents.request import Strategy

    request = task.request
    usable = estimate(
        by_size(task.observations), Strategy(request.strategy), request.balanced_weight, top=max(request.memory_sizes)
    )
    return len(usable) >= 2


def _gb_s_per_invocation(task: MeasuringTask, observations: Sequence[SizeObservation], memory_mb: int) -> float:
    """The most one invocation at ``memory_mb`` may bill, from what was measured (see the docstring)."""
    bounds = [
        gb_seconds(max(memory_mb, o.memory_size), max([*o.billed_durations_ms, _error_ms(o)]))
        for o in observations
        if o.billed_durations_ms or o.errors
    ]
    if not bounds:
        return gb_seconds(memory_mb, task.target.configuration.timeout * 1000)
    return min(bounds)


def _error_ms(observation: SizeObservation) -> float:
    return observation.errors_billed_ms / observation.errors if observation.errors else 0.0


def _versions(candidates: Sequence[Candidate]) -> int:
    """Versions this run has published of the target: one per alias (onlyColdStarts: one per invocation)."""
    return sum(len(candidate.aliases) for candidate in candidates if candidate.version)


def _prices(task: MeasuringTask, architecture: str | None = None) -> Prices:
    arch = architecture or (task.target.configuration.architectures or ["x86_64"])[0]
    return lambda_prices(parse_arn(task.target.ref.arn).region, arch if arch in ("x86_64", "arm64") else "x86_64")
