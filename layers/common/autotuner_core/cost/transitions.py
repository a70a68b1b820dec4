"""State transitions of each path of statemachine/autotuner.asl.json, counted from it.

Written by ``python -m statemachine.build``; do not edit (tests/statemachine/test_asl_fresh.py fails when
it is stale). A measured target's count is for no measuring round; each round adds ROUND_TRANSITIONS.
"""

# Prepare, ValidatePermissions, AnyTargets, TuneTargets, Summarize.
RUN_TRANSITIONS = 5
# CheckCircuit, DiscoverResources, Plan, UpdateConfiguration, RecordTargetResult.
FIXED_TARGET_TRANSITIONS = 5
# CheckCircuit, DiscoverResources, Plan, PlanMeasurements, MeasureMore, CleanupMeasurement,
# ChooseConfiguration, UpdateConfiguration, RecordTargetResult.
MEASURED_TARGET_TRANSITIONS = 9
# MeasureMore, PrepareMeasurement, MeasureConfigurations.
ROUND_TRANSITIONS = 3
