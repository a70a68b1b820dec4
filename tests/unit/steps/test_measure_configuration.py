"""MeasureConfigurations' handler: the round's aliases invoked in-process, each answered by the simulated function."""

from __future__ import annotations

import pytest

from autotuner_core.policy.errors import FunctionNotFoundError
from autotuner_core.steps import measure_configuration, prepare_measurement
from emulator.account import FunctionProfile

from .conftest import EXECUTION_ARN, MEASURED, entry, planned


def _prepared(run_step, target: str, **request) -> dict:
    return run_step(prepare_measurement.run, planned(run_step, entry(target, **{**MEASURED, **request})))


def test_the_round_is_measured_on_its_versions_from_their_report_lines(
    run_step, deployed, lambda_service, target
) -> None:
    # Given a prepared round at 512 and 1024 MB
    task = _prepared(run_step, target)
    versions = {item["candidate"]["version"]: item["candidate"]["memorySize"] for item in task["round"]}
    # When the deployed MeasureConfigurations runs
    measured = deployed("measure_configuration", task)
    # Then each size has an observation with a Duration per planned invocation
    observations = {item["memorySize"]: item for item in measured["observations"]}
    for item in task["round"]:
        size = item["candidate"]["memorySize"]
        assert len(observations[size]["durationsMs"]) == item["invocations"]
        assert observations[size]["errors"] == 0
    # And the durations are the function's: CPU-bound work takes longer on half the memory
    assert min(observations[512]["durationsMs"]) > max(observations[1024]["durationsMs"])
    # And every invocation ran on the round's versions, never $LATEST, marked as a measurement of this execution
    invoked = lambda_service.simulator.invocations
    assert len(invoked) == sum(item["invocations"] for item in task["round"])
    assert {(call.version, call.memory_size) for call in invoked} == set(versions.items())
    marked = {"custom": {"autotuner": "measurement", "execution": EXECUTION_ARN}}
    assert all(call.client_context == marked for call in invoked)
    # And the round is counted, and the tuner is billed at least the longest size's invocations (sizes run side by side)
    assert measured["spend"]["rounds"] == task["spend"]["rounds"] + 1
    longest_ms = max(
        sum(call.duration_ms + (call.init_duration_ms or 0) for call in invoked if call.version == version)
        for version in versions
    )
    billed_gb_s = measured["spend"]["tunerGbSeconds"] - task["spend"]["tunerGbSeconds"]
    assert billed_gb_s >= longest_ms / 1000 * 512 / 1024  # the measuring function has 512 MB (deployed's environment)
    # And the next round is planned from what was measured (the planner's sizes, or none: measuring is done)
    assert all(item["memorySize"] in (512, 1024) for item in measured.get("plan") or [])


def test_a_size_the_function_runs_out_of_memory_at_is_observed_as_failing(run_step, lambda_service, target) -> None:
    # Given a function that needs about 660 MB, and a round at 512 and 1024 MB
    lambda_service.behaves("orders", FunctionProfile(base_memory_mb=60, working_set_mb=600))
    task = _prepared(run_step, target)
    # When MeasureConfigurations runs
    measured = run_step(measure_configuration.run, task)
    # Then every invocation at 512 MB failed with Lambda's out-of-memory error, and none at 1024 MB
    observations = {item["memorySize"]: item for item in measured["observations"]}
    at_512 = next(item for item in task["round"] if item["candidate"]["memorySize"] == 512)
    assert observations[512]["errors"] == at_512["invocations"]
    assert observations[512]["errorTypes"] == ["Runtime.OutOfMemory"]
    assert observations[1024]["errors"] == 0


def test_the_request_s_payload_is_what_the_function_receives(run_step, lambda_service, target) -> None:
    # Given a round prepared for a request with a payload
    task = _prepared(run_step, target, payload={"orderId": "o-1", "scale": 2})
    # When MeasureConfigurations runs, then every invocation received that payload
    run_step(measure_configuration.run, task)
    assert [call.event for call in lambda_service.simulator.invocations] == [{"orderId": "o-1", "scale": 2}] * len(
        lambda_service.simulator.invocations
    )


def test_an_alias_deleted_during_measurement_is_a_missing_function(run_step, aws, target) -> None:
    # Given a prepared round, one of whose aliases someone deletes
    task = _prepared(run_step, target)
    aws("lambda").delete_alias(FunctionName=target, Name=task["round"][0]["candidate"]["aliases"][0])
    # When MeasureConfigurations runs, then it fails as for a missing function (permanent)
    with pytest.raises(FunctionNotFoundError):
        run_step(measure_configuration.run, task)


def test_with_only_cold_starts_every_invocation_starts_a_new_environment(run_step, lambda_service, target) -> None:
    # Given a round prepared for a request that measures cold starts only
    task = _prepared(run_step, target, onlyColdStarts=True)
    # When MeasureConfigurations runs
    measured = run_step(measure_configuration.run, task)
    # Then every sample of every size is a cold start, each on a version of its own
    for observation in measured["observations"]:
        assert observation["coldStarts"] == len(observation["durationsMs"]) > 0
    invoked = lambda_service.simulator.invocations
    assert all(call.init_duration_ms is not None for call in invoked)
    assert len({call.version for call in invoked}) == len(invoked)
