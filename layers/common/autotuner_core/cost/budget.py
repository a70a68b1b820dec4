"""The run budget: an upper bound on what a run may spend, checked before anything is created.

(Over 400 lines: the estimate of each quantity and its reads stay beside the assumptions below.)

ValidatePermissions estimates, per target and for the run: target invocations, target
GB-seconds, versions and shadow functions created, Lambda control-plane calls, state
transitions and dollars, and refuses the run (InvalidInputError) when the estimate is over a
deploy-time limit (template parameters MaxInvocationsPerRun, MaxRunCostUsd,
MaxVersionsPerTarget). Nothing has been created at that point: the run fails with no mutating call.

Every number is an upper bound of what the run's own documents count at the end
(``run_cost.counted``), on these assumptions, which the README repeats:

- Invocations: the engine never spends more than its budget (``engine.budget``) per target.
- GB-seconds per invocation: at most ``max(largest candidate, current size)`` x a duration. The
  duration is CloudWatch's ``Maximum`` of ``AWS/Lambda Duration`` over the last
  :data:`DURATION_WINDOW_DAYS` days (basis ``duration``) times :data:`DURATION_MARGIN` (a
  measurement payload may do more work than production traffic), capped at the timeout; with no
  recent Duration, the timeout (basis ``timeout``). The ``max(...)`` holds because a function's
  CPU share grows with memory: below the current size it runs at most proportionally longer
  (the same GB-seconds), above it no longer. Every cold start adds Lambda's 10 s INIT limit.
- Control-plane calls (Lambda's, and the live-traffic checks' CloudWatch reads): every status
  wait polls for :data:`SETTLE_S` (or until its deadline, if sooner); a change that takes longer
  to settle polls more. SDK and state-machine retries come on top (they happen only on errors).
- Processors: one invocation of each per target invocation, each bounded as a target is (its memory,
  its recent Duration x the margin or its timeout), one INIT per lane and round.
- This is an estimate: a measuring payload that runs longer than the margin allows spends more.
  What bounds the run is share.py, which stops a target's measuring at its share of the limits.
- The tuner's own time: it waits for every target invocation (sequentially, the longest case), its
  processors and every ``sleepBetweenRunsMs``
  and for every status wait to its deadline, and each of its invocations computes for at most
  :data:`TUNER_STEP_ALLOWANCE_S` besides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from autotuner_core.aws.arns import parse_arn
from autotuner_core.aws.lambda_control import get_function
from autotuner_core.aws.paging import every_page
from autotuner_core.cost import run_cost
from autotuner_core.cost.prices import lambda_prices, lambda_usd, memory_gb, step_functions_usd
from autotuner_core.decision import engine
from autotuner_core.documents.base import MAX_MEMORY_MB
from autotuner_core.documents.cost import RunCost, TargetEstimate
from autotuner_core.documents.request import TargetRef, TuningRequest
from autotuner_core.documents.target import FunctionConfiguration
from autotuner_core.measuring.payloads import processor_arns
from autotuner_core.measuring.shadow import role_patterns
from autotuner_core.policy import permissions
from autotuner_core.policy.errors import FunctionNotFoundError, InvalidInputError
from autotuner_core.settings import Settings

DURATION_WINDOW_DAYS = 14
DURATION_MARGIN = 2.0
INIT_LIMIT_S = 10.0  # Lambda's INIT phase limit for on-demand functions; billed since August 2025
_PARALLEL_LANES = 16  # measuring/invocations.py: invocations of one size run at most 16 at a time
_METRIC_QUERIES_PER_CALL = 500  # GetMetricData's limit
MAX_LISTED_TARGETS = 10  # runs up to this many targets carry each target's estimate (about 400 bytes each)
# A Lambda configuration change or version usually settles within a few seconds: status waits are
# counted at this long. The one assumption that is not a strict bound (a slower change polls more).
SETTLE_S = 5.0

# Lambda control-plane calls, polls not included (they are added per status wait below).
# Discovery makes each Lambda action the manifest grants its step once, and two of them twice:
# ListEventSourceMappings for the function and for :$LATEST, ListAliases for a second page. An alias
# on $LATEST adds its own three reads: such a target is live.
DISCOVERY_CALLED_TWICE = ("lambda:ListEventSourceMappings", "lambda:ListAliases")
DISCOVERY_CALLS = len(permissions.control_plane_actions("DiscoverResources")) + len(DISCOVERY_CALLED_TWICE)
# CloudWatch reads of the live-traffic checks (live_traffic.py), counted with the control-plane calls:
# discovery's GetMetricData and GetMetricStatistics, then one GetMetricData right before each change
# of $LATEST (one per version) and after each round. One GetMetricData holds a function's $LATEST
# series while it has fewer than 498 aliases.
LIVE_DISCOVERY_READS = 2
ROUND_CALLS, ROUND_WAITS = 2, 3  # PrepareMeasurement: settle, restore $LATEST (update, settle)
VERSION_CALLS, VERSION_WAITS = 5, 2  # update, settle, publish, wait Active, alias (a retried alias: GetFunction)
CLEANUP_CALLS, CLEANUP_WAITS = 4, 2  # list pages, restore, a last GetFunction (+2 deletes per version below)
APPLY_CALLS, APPLY_WAITS = 9, 3  # read again, update, settle, verify, publish + alias for `alias`
SHADOW_CALLS, SHADOW_WAITS = 6, 2  # read code, create, wait Active, tag, delete (the shadow part's steps)
# Busy time each tuner invocation is allowed besides its waits: a cold start's imports take under
# a second (python -m benchmarks coldstart), the steps' own work milliseconds.
TUNER_STEP_ALLOWANCE_S = 2.0
# Tuner invocations of a target that is not measured (a fixed memorySize, or a function discovery
# does not find): CheckCircuit, DiscoverResources, UpdateConfiguration (or CleanupAfterFailure),
# RecordTargetResult.
FIXED_TUNER_STEPS = 4


@dataclass(frozen=True)
class ProcessorBound:
    """A preProcessor's or postProcessor's bound: its memory, and the longest one invocation may take."""

    memory_mb: int
    seconds: float


def read_processors(
    client: Any, cloudwatch: Any, request: TuningRequest, targets: Sequence[TargetRef]
) -> list[ProcessorBound]:
    """Each processor's memory and duration bound, as a target's (its recent Duration x the margin, or its timeout)."""
    if not targets or request.fixed:
        return []
    arns = processor_arns(request, function_arn=targets[0].arn)  # processors are in the targets' account
    refs = [TargetRef(given=arn, name=parse_arn(arn).name, arn=arn) for arn in arns.values()]
    durations = read_max_durations(cloudwatch, refs)
    bounds = []
    for ref in refs:
        configuration = get_function(client, ref.arn).configuration
        longest = durations.get(ref.arn)
        seconds = float(configuration.timeout)
        if longest is not None:
            seconds = min(seconds, longest / 1000 * DURATION_MARGIN)
        bounds.append(ProcessorBound(configuration.memory_size, seconds))
    return bounds


def read_configurations(client: Any, targets: Sequence[TargetRef]) -> dict[str, FunctionConfiguration | None]:
    """Each target's configuration (GetFunction, read-only); None for a function that does not exist.

    A missing function is discovery's error to report (FunctionNotFoundError, with its record): it
    is never measured, so it costs nothing here.
    """
    found: dict[str, FunctionConfiguration | None] = {}
    for target in targets:
        try:
            found[target.arn] = get_function(client, target.arn).configuration
        except FunctionNotFoundError:
            found[target.arn] = None
    return found


def read_max_durations(
    cloudwatch: Any, targets: Sequence[TargetRef], *, now: datetime | None = None
) -> dict[str, float]:
    """Target ARN -> the largest ``AWS/Lambda Duration`` (ms) of the last days, where CloudWatch has one.

    One GetMetricData call per 500 targets; a function with no recent invocation has no datapoint.
    """
    end = now or datetime.now(UTC)
    start = end - timedelta(days=DURATION_WINDOW_DAYS)
    found: dict[str, float] = {}
    for first in range(0, len(targets), _METRIC_QUERIES_PER_CALL):
        chunk = list(targets[first : first + _METRIC_QUERIES_PER_CALL])
        queries = [
            {
                "Id": f"d{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Duration",
                        "Dimensions": [{"Name": "FunctionName", "Value": target.name}],
                    },
                    "Period": DURATION_WINDOW_DAYS * 86_400,
                    "Stat": "Maximum",
                },
                "ReturnData": True,
            }
            for index, target in enumerate(chunk)
        ]
        request = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
        for page in every_page(cloudwatch, "get_metric_data", "cloudwatch:GetMetricData", "*", **request):
            for result in page.get("MetricDataResults", []):
                values = result.get("Values") or []
                if values:
                    target = chunk[int(result["Id"][1:])]
                    found[target.arn] = max(found.get(target.arn, 0.0), max(values))
    return found


def _polls(settings: Settings) -> int:
    """GetFunction calls one status wait is counted at: one per interval while a change settles
    (:data:`SETTLE_S`), and the last; never more than until the wait's deadline."""
    poll_ms = settings.status_poll_interval_ms
    deadline = math.floor(settings.max_status_wait_seconds * 1000 / poll_ms) + 2
    return min(deadline, math.floor(SETTLE_S * 1000 / poll_ms) + 2)


def estimate_target(
    request: TuningRequest,
    target: TargetRef,
    configuration: FunctionConfiguration | None,
    max_duration_ms: float | None,
    settings: Settings,
    *,
    shadows: bool,
    processors: Sequence[ProcessorBound] = (),
) -> TargetEstimate:
    """One target's upper bounds (see the module's docstring for what each assumes)."""
    polls = _polls(settings)
    apply_calls = (APPLY_CALLS + APPLY_WAITS * polls) if request.apply else 0
    if request.fixed or configuration is None:
        # A fixed size measures nothing: the function is not read for the estimate (an open circuit
        # then skips it without any Lambda call). A missing one fails at discovery.
        fixed = request.fixed
        transitions = run_cost.FIXED_TARGET_TRANSITIONS
        waits = APPLY_WAITS if fixed and request.apply else 0
        seconds = _tuner_seconds(0.0, FIXED_TUNER_STEPS, waits, settings)
        tuner_gb_seconds = run_cost.tuner_memory_mb() / 1024 * seconds
        tuner_usd = lambda_usd(tuner_gb_seconds, FIXED_TUNER_STEPS, run_cost.tuner_prices())
        return TargetEstimate(
            target=target.arn,
            target_invocations=0,
            target_gb_seconds=0.0,
            basis="fixed" if fixed else "not-found",
            versions_created=1 if fixed and request.alias else 0,
            control_plane_calls=DISCOVERY_CALLS + (apply_calls if fixed else 0),
            state_transitions=transitions,
            tuner_invocations=FIXED_TUNER_STEPS,
            tuner_gb_seconds=round(tuner_gb_seconds, 6),
            tuner_lambda_usd=tuner_usd,
            total_usd=step_functions_usd(transitions) + tuner_usd,
        )
    invocations = engine.budget(request)
    sizes = min(engine.max_sizes(request, configuration.memory_size, MAX_MEMORY_MB), invocations)
    # onlyColdStarts: one version per invocation a size gets in its one round (the first round's 2, or
    # more in whole payload units), never more than the invocations themselves.
    copies = max(engine.FIRST_ROUND_INVOCATIONS, request.invocations) if request.only_cold_starts else 1
    measured_versions = min(sizes * copies, invocations) if request.only_cold_starts else sizes
    versions = measured_versions + (1 if request.alias else 0)
    rounds = min(engine.MAX_ROUNDS, invocations)
    # PrepareMeasurement calls Lambda only in a round that adds a size: at most one round per size.
    prepared_rounds = min(rounds, sizes)
    shadow = 1 if shadows else 0
    calls = (
        DISCOVERY_CALLS
        + LIVE_DISCOVERY_READS
        + versions
        + rounds
        + prepared_rounds * (ROUND_CALLS + ROUND_WAITS * polls)
        + versions * (VERSION_CALLS + VERSION_WAITS * polls)
        + CLEANUP_CALLS
        + CLEANUP_WAITS * polls
        + 2 * versions
        + 2 * math.ceil(versions / 50)  # ListAliases and ListVersionsByFunction pages
        + apply_calls
        + shadow * (SHADOW_CALLS + SHADOW_WAITS * polls)
    )
    # GB-seconds: every invocation at the largest memory it can run with, for the longest it can take.
    largest_mb = max(max(request.memory_sizes), configuration.memory_size)
    if max_duration_ms is not None:
        basis = "duration"
        seconds = min(configuration.timeout, max_duration_ms / 1000 * DURATION_MARGIN)
    else:
        basis = "timeout"
        seconds = float(configuration.timeout)
    lanes = _PARALLEL_LANES if request.parallel_invocation else 1
    cold_starts = invocations if request.only_cold_starts else min(invocations, versions * lanes + shadow)
    gb_seconds = memory_gb(largest_mb) * (invocations * seconds + cold_starts * INIT_LIMIT_S)
    transitions = run_cost.measured_target_transitions(rounds)
    architecture = (configuration.architectures or ["x86_64"])[0]
    prices = lambda_prices(
        parse_arn(target.arn).region, architecture if architecture in ("x86_64", "arm64") else "x86_64"
    )
    target_usd = lambda_usd(gb_seconds, invocations, prices)
    # Each processor runs once per target invocation; the tuner waits for it, and sleeps
    # sleepBetweenRunsMs after every invocation.
    processor_invocations = invocations * len(processors)
    # A processor is invoked unqualified: one environment per lane, kept warm within a round.
    processor_cold = min(invocations, lanes * rounds)
    processor_seconds = sum(invocations * item.seconds + processor_cold * INIT_LIMIT_S for item in processors)
    processor_gb_seconds = sum(
        item.memory_mb / 1024 * (invocations * item.seconds + processor_cold * INIT_LIMIT_S) for item in processors
    )
    processor_usd = lambda_usd(processor_gb_seconds, processor_invocations, run_cost.processor_prices(target.arn))
    sleeps = invocations * request.sleep_between_runs_ms / 1000
    steps = _tuner_steps(rounds)
    waits = prepared_rounds * ROUND_WAITS + versions * VERSION_WAITS + CLEANUP_WAITS
    waits += APPLY_WAITS if request.apply else 0
    waited = invocations * seconds + cold_starts * INIT_LIMIT_S + processor_seconds + sleeps
    tuner_seconds = _tuner_seconds(waited, steps, waits, settings)
    tuner_gb_seconds = memory_gb(run_cost.tuner_memory_mb()) * tuner_seconds
    tuner_usd = lambda_usd(tuner_gb_seconds, steps, run_cost.tuner_prices())
    return TargetEstimate(
        target=target.arn,
        target_invocations=invocations,
        target_gb_seconds=round(gb_seconds, 6),
        basis=basis,
        current_memory_size=configuration.memory_size,
        max_duration_ms=max_duration_ms,
        versions_created=versions,
        shadows_created=shadow,
        control_plane_calls=calls,
        state_transitions=transitions,
        tuner_invocations=steps,
        tuner_gb_seconds=round(tuner_gb_seconds, 6),
        target_invocations_usd=target_usd,
        tuner_lambda_usd=tuner_usd,
        processor_invocations=processor_invocations,
        processor_gb_seconds=round(processor_gb_seconds, 6),
        processor_usd=processor_usd,
        total_usd=target_usd + step_functions_usd(transitions) + tuner_usd + processor_usd,
    )


def _tuner_steps(rounds: int) -> int:
    """The tuner invocations one measured target makes at most (each one request, billed for its time)."""
    # CheckCircuit, DiscoverResources, PlanMeasurements (the first round's plan), CleanupMeasurement,
    # ChooseConfiguration, UpdateConfiguration, RecordTargetResult; PrepareMeasurement and
    # MeasureConfigurations (every size of the round at once, and the next round's plan) per round.
    return 7 + 2 * rounds


def _tuner_seconds(target_seconds: float, steps: int, waits: int, settings: Settings) -> float:
    """The tuner's busy time: it waits for every target invocation and every status wait, and computes."""
    return target_seconds + waits * settings.max_status_wait_seconds + steps * TUNER_STEP_ALLOWANCE_S


def estimate_run(request: TuningRequest, estimates: Sequence[TargetEstimate], target_count: int) -> RunCost:
    """The run's totals: the targets' estimates, each unread target (a large sweep's) as the largest read one.

    ``targets`` lists each target's estimate for a run of at most :data:`MAX_LISTED_TARGETS`
    targets; a larger run carries its totals only (the estimate travels through state, and a
    sweep passes no per-target list through state).
    """
    counted = list(estimates)
    unread = max(0, target_count - len(counted))
    if unread and counted:
        counted += [max(counted, key=lambda item: item.total_usd)] * unread
    transitions = run_cost.RUN_TRANSITIONS + sum(item.state_transitions for item in counted)
    tuner_invocations = run_cost.RUN_TUNER_INVOCATIONS + sum(item.tuner_invocations for item in counted)
    tuner_gb_seconds = sum(item.tuner_gb_seconds for item in counted)
    # The run's own two tuner steps (ValidatePermissions, SummarizeRun): their time as one step each.
    run_seconds = run_cost.RUN_TUNER_INVOCATIONS * TUNER_STEP_ALLOWANCE_S
    tuner_gb_seconds += memory_gb(run_cost.tuner_memory_mb()) * run_seconds
    tuner_usd = sum(item.tuner_lambda_usd for item in counted) + lambda_usd(
        memory_gb(run_cost.tuner_memory_mb()) * run_seconds, run_cost.RUN_TUNER_INVOCATIONS, run_cost.tuner_prices()
    )
    step_functions = step_functions_usd(transitions)
    target_usd = sum(item.target_invocations_usd for item in counted)
    processor_usd = sum(item.processor_usd for item in counted)
    return RunCost(
        state_transitions=transitions,
        target_invocations=sum(item.target_invocations for item in counted),
        step_functions_usd=step_functions,
        target_invocations_usd=target_usd,
        total_usd=step_functions + target_usd + tuner_usd + processor_usd,
        processor_invocations=sum(item.processor_invocations for item in counted),
        processor_gb_seconds=round(sum(item.processor_gb_seconds for item in counted), 6),
        processor_usd=processor_usd,
        target_gb_seconds=round(sum(item.target_gb_seconds for item in counted), 6),
        tuner_invocations=tuner_invocations,
        tuner_gb_seconds=round(tuner_gb_seconds, 6),
        tuner_lambda_usd=tuner_usd,
        control_plane_calls=sum(item.control_plane_calls for item in counted),
        versions_created=sum(item.versions_created for item in counted),
        shadows_created=sum(item.shadows_created for item in counted),
        targets=list(estimates) if target_count <= MAX_LISTED_TARGETS else None,
    )


def limit_problems(
    estimate: RunCost, read: Sequence[TargetEstimate], request: TuningRequest, settings: Settings
) -> list[str]:
    """Each deploy-time limit the estimate is over, naming the estimate, the limit and what to change.

    ``read`` are the per-target estimates the run's estimate was made from.
    """
    smaller = "fewer targets" if request.targets is not None else "a narrower select"
    problems = []
    if estimate.target_invocations > settings.max_invocations_per_run:
        problems.append(
            f"invocations: the run may invoke its targets {estimate.target_invocations} times "
            f"({engine.BUDGET_PER_NUM} x invocations per target), over MaxInvocationsPerRun "
            f"{settings.max_invocations_per_run}; lower invocations or name {smaller}"
        )
    worst = max(read, key=lambda item: item.versions_created, default=None)
    if worst is not None and worst.versions_created > settings.max_versions_per_target:
        why = " (onlyColdStarts publishes one version per invocation per size)" if request.only_cold_starts else ""
        problems.append(
            f"onlyColdStarts/invocations/memorySizes: the run may publish {worst.versions_created} versions of "
            f"{worst.target}{why}, over MaxVersionsPerTarget {settings.max_versions_per_target}; lower invocations, "
            "narrow memorySizes or measure without onlyColdStarts"
        )
    if estimate.total_usd > settings.max_run_cost_usd:
        bases = sorted({item.basis for item in read} - {"not-found", "fixed"})
        problems.append(
            f"invocations/memorySizes: the run may cost up to ${estimate.total_usd:.2f} (target GB-seconds bounded "
            f"by {' and '.join(bases) or 'nothing measured'}), over MaxRunCostUsd ${settings.max_run_cost_usd:.2f}; "
            f"lower invocations, narrow memorySizes or name {smaller}"
        )
    return problems


def enforce(estimate: RunCost, read: Sequence[TargetEstimate], request: TuningRequest, settings: Settings) -> None:
    """Raise InvalidInputError naming every limit the estimate is over (before anything is created)."""
    problems = limit_problems(estimate, read, request, settings)
    if problems:
        raise InvalidInputError(
            f"over the run budget ({len(problems)} problem{'s' if len(problems) > 1 else ''}): " + "; ".join(problems),
            problems,
        )


def check(
    request: TuningRequest,
    targets: Sequence[TargetRef],
    sample: Sequence[TargetRef],
    settings: Settings,
    *,
    lambda_client: Any,
    cloudwatch: Any,
) -> RunCost:
    """Read what the estimate needs (read-only calls), estimate the run and enforce the limits.

    ``sample`` are the targets read (pre-flight's sample: every target of a run, an even spread of a
    large sweep); the others count as the largest read one.
    """
    if request.fixed:
        reads: dict[str, FunctionConfiguration | None] = {target.arn: None for target in sample}
        durations: dict[str, float] = {}
    else:
        reads = read_configurations(lambda_client, sample)
        durations = read_max_durations(cloudwatch, [target for target in sample if reads[target.arn]])
    shadows = bool(role_patterns(settings))  # a deployment that allows shadows: one per target at most
    processors = read_processors(lambda_client, cloudwatch, request, sample)
    estimates = [
        estimate_target(
            request,
            target,
            reads[target.arn],
            durations.get(target.arn),
            settings,
            shadows=shadows,
            processors=processors,
        )
        for target in sample
    ]
    estimate = estimate_run(request, estimates, len(targets))
    enforce(estimate, estimates, request, settings)
    return estimate
