"""CheckCircuit's handler, against moto's DynamoDB (the state table)."""

from __future__ import annotations

import pytest

from autotuner_core.policy.errors import TuningInProgressError
from autotuner_core.steps import check_circuit

from .conftest import EXECUTION_ARN, entry

TARGET = "arn:aws:lambda:eu-west-1:123456789012:function:orders"


def test_a_closed_circuit_admits_the_run_and_the_run_takes_the_lease(run_step, aws) -> None:
    # Given a target no run has touched
    # When CheckCircuit runs
    admitted = run_step(check_circuit.run, entry(TARGET, memorySize=512))
    # Then the entry goes on with its admission
    assert admitted["admission"] == "NORMAL"
    assert admitted["ref"]["arn"] == TARGET
    # And the state table holds this execution's lease on the target
    leases = aws("dynamodb").scan(TableName="autotuner-State")["Items"]
    assert [(item["kind"]["S"], item["owner"]["S"]) for item in leases] == [("lease", EXECUTION_ARN)]


def test_a_second_execution_is_refused_while_the_first_holds_the_lease(run_step) -> None:
    # Given a run that holds the target's lease
    run_step(check_circuit.run, entry(TARGET, memorySize=512))
    other = entry(TARGET, memorySize=512)
    other["execution"]["arn"] = EXECUTION_ARN.replace("run-1", "run-2")
    # When another execution checks the circuit, then it is refused, naming the holder
    with pytest.raises(TuningInProgressError, match="run-1"):
        run_step(check_circuit.run, other)
