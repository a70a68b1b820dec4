"""RecordResult's handler: one run record per target per execution, the breaker told, the lease given back."""

from __future__ import annotations

from typing import Any

import pytest

from autotuner_core.policy.errors import CircuitOpenError
from autotuner_core.steps import check_circuit, record_result, update_configuration

from .conftest import EXECUTION_ARN, MEASURED, chosen, discovered, entry, execution, failed

RUN_KEY = "2026-01-01T00:00:00Z#run-1"
TARGET = "arn:aws:lambda:eu-west-1:123456789012:function:orders"  # the target fixture's


def _records(aws) -> list[dict[str, Any]]:
    return aws("dynamodb").scan(TableName="autotuner-RunHistory")["Items"]


def _state(aws, kind: str) -> list[dict[str, Any]]:
    """The state table's items of one kind, by their key: ``LEASE#<function ARN>``, ``BREAKER#<function ARN>``."""
    items = aws("dynamodb").scan(TableName="autotuner-State")["Items"]
    return [item for item in items if item["pk"]["S"].startswith(f"{kind.upper()}#")]


def _execution(number: int) -> dict[str, Any]:
    event = entry(TARGET, **MEASURED)
    event["execution"]["arn"] = EXECUTION_ARN.replace("run-1", f"run-{number}")
    return event


def test_a_recommendation_is_recorded_and_the_lease_given_back(run_step, deployed, aws, target) -> None:
    # Given a target whose previous run failed
    earlier = discovered(run_step, _execution(0))
    run_step(record_result.run, failed(earlier, "TargetChangedError", "orders was changed by someone else"))
    # And a dry run's result for it, whose CheckCircuit took the target's lease
    result = run_step(update_configuration.run, chosen(run_step, entry(target, **MEASURED)))
    assert len(_state(aws, "lease")) == 1
    # When the deployed RecordResult runs
    response = deployed("record_result", result)
    # Then the run history holds one record of it, keyed by target and run
    assert response["records"] == 1
    [record] = [item for item in _records(aws) if item["executionArn"]["S"] == EXECUTION_ARN]
    assert (record["target"]["S"], record["runKey"]["S"]) == (target, RUN_KEY)
    assert record["outcome"]["S"] == "RECOMMENDED"
    assert (record["before"]["M"]["MemorySize"]["N"], record["after"]["M"]["MemorySize"]["N"]) == ("1024", "512")
    assert record["recommendation"]["M"]["memorySize"]["N"] == "512"
    # And the output names the outcome, the lease is released, and the success resets the breaker's failures
    assert [(item["target"], item["outcome"]) for item in response["outcomes"]] == [(target, "RECOMMENDED")]
    assert _state(aws, "lease") == []
    [breaker] = _state(aws, "breaker")
    assert (breaker["state"]["S"], breaker["failures"]["N"]) == ("CLOSED", "0")


def test_a_retried_record_writes_nothing_more(run_step, aws, target) -> None:
    # Given a result already recorded
    result = run_step(update_configuration.run, discovered(run_step, entry(target, memorySize=512)))
    run_step(record_result.run, result)
    # When RecordResult is retried, then it writes no second record and keeps the first
    assert run_step(record_result.run, result)["records"] == 0
    assert len(_records(aws)) == 1


def test_a_failed_target_is_recorded_with_its_error_and_stage(run_step, aws, target) -> None:
    # Given a target whose measurement failed (the Catch put the error at $.error)
    task = discovered(run_step, entry(target, **MEASURED))
    event = failed(task, "InvalidConfigurationError", "orders:autotuner-1 returned no REPORT line")
    # When RecordResult runs on the failure path
    response = run_step(record_result.run, event)
    # Then the record says it failed, why, and where, and the breaker counts one failure
    [record] = _records(aws)
    assert record["outcome"]["S"] == "FAILED"
    assert (record["errorType"]["S"], record["errorMessage"]["S"]) == (
        "InvalidConfigurationError",
        "orders:autotuner-1 returned no REPORT line",
    )
    assert record["failedStage"]["S"] == "MeasureConfigurations"
    assert response["outcomes"][0]["errorType"] == "InvalidConfigurationError"
    [breaker] = _state(aws, "breaker")
    assert (breaker["state"]["S"], breaker["failures"]["N"]) == ("CLOSED", "1")


def test_three_failed_runs_open_the_circuit_and_the_next_run_is_refused(run_step, target) -> None:
    # Given three executions in a row whose runs of the target failed
    for number in (1, 2, 3):
        task = discovered(run_step, _execution(number))
        run_step(record_result.run, failed(task, "TargetChangedError", "orders was changed by someone else"))
    # When a fourth execution checks the circuit, then it is refused until the cool-down has passed
    with pytest.raises(CircuitOpenError, match="OPEN after 3 consecutive failed runs"):
        run_step(check_circuit.run, _execution(4))


def test_a_target_skipped_because_another_run_holds_it_does_not_count_against_it(run_step, aws, target) -> None:
    # Given a target that CheckCircuit refused: another execution is tuning it
    refused = failed(entry(target, **MEASURED), "TuningInProgressError", "run-0 is tuning orders")
    # When RecordResult runs, then the record says SKIPPED and the breaker is not touched
    run_step(record_result.run, refused)
    [record] = _records(aws)
    assert (record["outcome"]["S"], record["failedStage"]["S"]) == ("SKIPPED", "CheckCircuit")
    assert _state(aws, "breaker") == []


def test_a_run_refused_by_pre_flight_is_recorded_under_each_named_target(run_step, aws, target) -> None:
    # Given an execution whose input pre-flight refused (RecordRunFailure: the Prepare state's document and the error)
    event = failed(
        {"execution": execution(), "input": {"targets": ["orders"], "memorySizes": "big"}},
        "InvalidInputError",
        "memorySizes: Input should be a valid list",
    )
    # When RecordResult runs
    run_step(record_result.run, event)
    # Then the target's history has the failure, keyed by its ARN, at the stage that refused it
    [record] = _records(aws)
    assert (record["target"]["S"], record["outcome"]["S"], record["failedStage"]["S"]) == (
        target,
        "FAILED",
        "ValidatePermissions",
    )
    # And bad input says nothing about the function: its breaker is not touched
    assert _state(aws, "breaker") == []
