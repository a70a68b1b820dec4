"""PrepareMeasurement's handler, against moto's Lambda with the embedded AWS's Lambda emulation."""

from __future__ import annotations

import pytest

from autotuner_core.policy.errors import FunctionNotFoundError, TargetChangedError
from autotuner_core.steps import measure_configuration, prepare_measurement
from emulator.account import FunctionProfile

from .conftest import MEASURED, entry, planned


def _aliases(aws, function_arn: str) -> dict[str, str]:
    aliases = aws("lambda").list_aliases(FunctionName=function_arn)["Aliases"]
    return {alias["Name"]: alias["FunctionVersion"] for alias in aliases}


def test_each_size_of_the_round_gets_a_version_and_an_alias_and_latest_is_put_back(
    run_step, deployed, aws, target
) -> None:
    # Given a target at 1024 MB whose first round asks for 512 and 1024 MB
    task = planned(run_step, entry(target, **MEASURED))
    # When the deployed PrepareMeasurement runs
    prepared = deployed("prepare_measurement", task)
    # Then each size has a candidate, and the round measures each as many times as planned
    candidates = {item["memorySize"]: item for item in prepared["candidates"]}
    assert sorted(candidates) == [512, 1024]
    assert candidates[1024]["current"] and not candidates[512]["current"]
    planned_invocations = {item["memorySize"]: item["invocations"] for item in task["plan"]}
    assert {item["candidate"]["memorySize"]: item["invocations"] for item in prepared["round"]} == planned_invocations
    # And each candidate's alias exists in Lambda, on a published version at that size
    lam = aws("lambda")
    assert _aliases(aws, target) == {
        candidate["aliases"][0]: candidate["version"] for candidate in prepared["candidates"]
    }
    for size, candidate in candidates.items():
        version = lam.get_function(FunctionName=target, Qualifier=candidate["aliases"][0])["Configuration"]
        assert version["MemorySize"] == size
    # And $LATEST has its own memory and description again
    latest = lam.get_function(FunctionName=target)["Configuration"]
    assert (latest["MemorySize"], latest["Description"]) == (1024, "")
    # And this invocation is in the target's spend, with the control-plane calls it made
    assert prepared["spend"]["tunerInvocations"] == task["spend"]["tunerInvocations"] + 1
    assert prepared["spend"]["controlPlaneCalls"] > task["spend"]["controlPlaneCalls"]


def test_a_later_round_reuses_the_versions_of_sizes_already_prepared(run_step, aws, target) -> None:
    # Given a first round prepared and measured, whose planner asks for another round of a size it has
    prepared = run_step(prepare_measurement.run, planned(run_step, entry(target, **MEASURED)))
    first = run_step(measure_configuration.run, prepared)
    assert first["plan"] and {item["memorySize"] for item in first["plan"]} <= {512, 1024}
    versions = aws("lambda").list_versions_by_function(FunctionName=target)["Versions"]
    # When PrepareMeasurement runs for it
    second = run_step(prepare_measurement.run, first)
    # Then no version or alias is created, and the round is measured on the candidates prepared before
    assert aws("lambda").list_versions_by_function(FunctionName=target)["Versions"] == versions
    assert second["candidates"] == first["candidates"]
    assert [item["candidate"] for item in second["round"]] == [
        next(c for c in first["candidates"] if c["memorySize"] == item["memorySize"]) for item in first["plan"]
    ]


def test_a_function_someone_else_resized_since_discovery_is_not_measured(run_step, aws, target) -> None:
    # Given a planned round, and someone who then sets the function to 2048 MB
    task = planned(run_step, entry(target, **MEASURED))
    aws("lambda").update_function_configuration(FunctionName=target, MemorySize=2048)
    # When PrepareMeasurement runs, then it refuses, naming both sizes
    with pytest.raises(TargetChangedError, match="2048 MB, not the 1024 MB"):
        run_step(prepare_measurement.run, task)
    # And nothing was created, and their size stands
    assert _aliases(aws, target) == {}
    assert aws("lambda").get_function(FunctionName=target)["Configuration"]["MemorySize"] == 2048


def test_a_function_deleted_since_discovery_is_its_own_error(run_step, aws, target) -> None:
    # Given a planned round of a function that is then deleted
    task = planned(run_step, entry(target, **MEASURED))
    aws("lambda").delete_function(FunctionName=target)
    # When PrepareMeasurement runs, then it fails with the error the state machine treats as permanent
    with pytest.raises(FunctionNotFoundError):
        run_step(prepare_measurement.run, task)


def test_a_size_over_the_account_s_memory_quota_is_excluded_with_lambda_s_reason(
    run_step, aws, lambda_service, target
) -> None:
    # Given an account whose memory quota is 1,536 MB, and a round that asks for 2048 MB too
    lambda_service.emulation.memory_quota_mb = 1536
    task = planned(run_step, entry(target, **{**MEASURED, "memorySizes": [512, 1024, 2048]}))
    assert 2048 in {item["memorySize"] for item in task["plan"]}
    # When PrepareMeasurement runs
    prepared = run_step(prepare_measurement.run, task)
    # Then 2048 MB is a candidate excluded with Lambda's refusal, without a version or an alias
    candidates = {item["memorySize"]: item for item in prepared["candidates"]}
    assert "Lambda rejected it" in candidates[2048]["excluded"]
    assert "less than or equal to 1536" in candidates[2048]["excluded"]
    assert (candidates[2048].get("version"), candidates[2048]["aliases"]) == (None, [])
    # And every other size of the round is prepared, with its alias in Lambda
    others = [item for size, item in candidates.items() if size != 2048]
    assert not any(item.get("excluded") for item in others)
    assert sorted(_aliases(aws, target).values()) == sorted(item["version"] for item in others)


def test_measured_on_live_the_function_s_own_size_goes_first_and_no_size_below_its_need(
    run_step, aws, lambda_service, target
) -> None:
    # Given a function with a function URL (live traffic on $LATEST) that uses 500 MB, measured on live
    aws("lambda").create_function_url_config(FunctionName=target, AuthType="AWS_IAM")
    lambda_service.behaves("orders", FunctionProfile(base_memory_mb=300, working_set_mb=200))
    task = planned(run_step, entry(target, **MEASURED, measureOnLive=True))
    assert task["target"]["liveTraffic"]["measuredOn"] == "in-place"
    assert 512 in {item["memorySize"] for item in task["plan"]}
    # When PrepareMeasurement runs for the first round
    first = run_step(prepare_measurement.run, task)
    # Then only the function's own size is prepared: no other size is set before its need is known
    assert [item["candidate"]["memorySize"] for item in first["round"]] == [1024]
    # And once it is measured, no round prepares a size below the memory it was seen to use
    task = run_step(measure_configuration.run, first)
    used = max(item["maxMemoryUsedMb"] for item in task["observations"])
    while task.get("plan"):
        task = run_step(prepare_measurement.run, task)
        assert all(item["candidate"]["memorySize"] >= used for item in task["round"])
        task = run_step(measure_configuration.run, task)
    assert all(candidate["memorySize"] >= used or candidate.get("excluded") for candidate in task["candidates"])
    assert aws("lambda").get_function(FunctionName=target)["Configuration"]["MemorySize"] == 1024
