"""What a tuning run itself costs: Step Functions state transitions plus the target's invocations.

Reported twice: an upper-bound estimate when the input is validated (before anything runs) and
a count from the run's own documents at the end. The execution histories stay the authority
for transitions: the parent's and, as the Distributed Map runs each target as a child execution
billed for its own transitions, every child's (``RunReport.state_transitions`` adds them up, and the
tests pin this count to it). These numbers follow the state machine's shape
(statemachine/autotuner.asl.json).
"""

from __future__ import annotations

from autotuner_core.analysis import MAX_REFINEMENT_SIZES
from autotuner_core.models import RunCost, TargetOutcome, TuningRequest
from autotuner_core.pricing import STEP_FUNCTIONS_TRANSITION_USD

# Prepare, ValidatePermissions, AnyTargets, TuneTargets, Summarize.
RUN_TRANSITIONS = 5
# CheckCircuit, DiscoverResources, Plan, UpdateConfiguration, RecordTargetResult.
FIXED_TARGET_TRANSITIONS = 5
# CheckCircuit, DiscoverResources, Plan, PrepareMeasurement, MeasureConfigurations,
# AnalyzeMeasurements, CleanupMeasurement, UpdateConfiguration, RecordTargetResult; plus one per
# first-round candidate (refinement sizes are measured inside AnalyzeMeasurements: no transition).
MEASURED_TARGET_TRANSITIONS = 9


def estimate(request: TuningRequest, targets: int) -> RunCost:
    """Upper bound before the run: every size measured, plus the current one and full refinement.

    What the target's invocations will cost is not known until they are measured, so the
    estimate counts them but prices only the transitions.
    """
    if request.fixed:
        transitions = RUN_TRANSITIONS + targets * FIXED_TARGET_TRANSITIONS
        invocations = 0
    else:
        first_round = len(request.memory_sizes) + 1
        refined = MAX_REFINEMENT_SIZES if request.refine else 0
        transitions = RUN_TRANSITIONS + targets * (MEASURED_TARGET_TRANSITIONS + first_round)
        invocations = targets * (first_round + refined) * request.invocations
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
        transitions += MEASURED_TARGET_TRANSITIONS + len(configurations) - len(outcome.refined_sizes or [])
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
