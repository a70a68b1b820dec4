"""What a tuning run itself costs: Step Functions state transitions plus the target's invocations.

Reported twice: an upper-bound estimate when the input is validated (before anything runs) and
a count from the run's own documents at the end. The execution history stays the authority
for transitions; these numbers follow the state machine's shape (statemachine/autotuner.asl.json).
"""

from __future__ import annotations

from autotuner_core.models import RunCost, TargetOutcome, TuningRequest
from autotuner_core.pricing import STEP_FUNCTIONS_TRANSITION_USD

# Prepare, ValidatePermissions, DiscoverResources, TuneTargets, Summarize.
RUN_TRANSITIONS = 5
# Plan, UpdateConfiguration, RecordTargetResult.
FIXED_TARGET_TRANSITIONS = 3
# Plan, PrepareMeasurement, MeasureConfigurations, AnalyzeMeasurements, Refine,
# CleanupMeasurement, UpdateConfiguration, RecordTargetResult; plus one per candidate.
MEASURED_TARGET_TRANSITIONS = 8
# PrepareMeasurement, MeasureConfigurations, AnalyzeMeasurements, Refine again.
REFINEMENT_ROUND_TRANSITIONS = 4
MAX_REFINEMENT_SIZES = 3


def estimate(request: TuningRequest, targets: int) -> RunCost:
    """Upper bound before the run: every size measured plus the current one and a full refinement round.

    What the target's invocations will cost is not known until they are measured, so the
    estimate counts them but prices only the transitions.
    """
    if request.fixed:
        transitions = RUN_TRANSITIONS + targets * FIXED_TARGET_TRANSITIONS
        invocations = 0
    else:
        sizes = len(request.memory_sizes) + 1 + (MAX_REFINEMENT_SIZES if request.refine else 0)
        per_target = MEASURED_TARGET_TRANSITIONS + sizes + (REFINEMENT_ROUND_TRANSITIONS if request.refine else 0)
        transitions = RUN_TRANSITIONS + targets * per_target
        invocations = targets * sizes * request.invocations
    step_functions = transitions * STEP_FUNCTIONS_TRANSITION_USD
    return RunCost(
        state_transitions=transitions,
        target_invocations=invocations,
        step_functions_usd=step_functions,
        target_invocations_usd=0.0,
        total_usd=step_functions,
    )


def counted(outcomes: list[TargetOutcome]) -> RunCost:
    """After the run, from what each target's document says was measured."""
    transitions = RUN_TRANSITIONS
    invocations = 0
    invocations_usd = 0.0
    for outcome in outcomes:
        configurations = outcome.configurations or []
        if not configurations:
            transitions += FIXED_TARGET_TRANSITIONS
            continue
        transitions += MEASURED_TARGET_TRANSITIONS + len(configurations)
        if (outcome.measurement_rounds or 1) > 1:
            transitions += REFINEMENT_ROUND_TRANSITIONS
        for row in configurations:
            invocations += row.invocations
            invocations_usd += row.invocations * (row.cost_per_invocation_usd or 0.0)
    step_functions = transitions * STEP_FUNCTIONS_TRANSITION_USD
    return RunCost(
        state_transitions=transitions,
        target_invocations=invocations,
        step_functions_usd=step_functions,
        target_invocations_usd=invocations_usd,
        total_usd=step_functions + invocations_usd,
    )
