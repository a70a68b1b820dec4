"""PlanMeasurements' handler: pure, no AWS call."""

from __future__ import annotations

from autotuner_core.steps import plan_measurements

from .conftest import MEASURED, task

TARGET = "arn:aws:lambda:eu-west-1:123456789012:function:orders"


def test_the_first_round_asks_for_the_request_s_sizes_and_starts_the_measurement_clock(run_step) -> None:
    # Given a discovered target and a request for two sizes, five invocations each
    # When PlanMeasurements runs
    planned = run_step(plan_measurements.run, task(TARGET, **MEASURED))
    # Then the round asks for those sizes, each for at most the request's invocations
    assert sorted(item["memorySize"] for item in planned["plan"]) == [512, 1024]
    assert all(0 < item["invocations"] <= 5 for item in planned["plan"])
    # And the measurement clock has started, and this invocation is in the target's spend without control-plane calls
    assert planned["measurementStartedMs"] > 0
    assert planned["spend"]["tunerInvocations"] == 1
    assert planned["spend"]["controlPlaneCalls"] == 0
