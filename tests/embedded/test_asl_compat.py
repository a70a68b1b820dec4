"""moto's ASL parser accepts an integer ToleratedFailurePercentage, as AWS does."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from moto import mock_aws

from emulator import asl_compat

ROLE = "arn:aws:iam::123456789012:role/sfn"


def definition(percentage: Any) -> str:
    return json.dumps(
        {
            "StartAt": "Sweep",
            "States": {
                "Sweep": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                        "StartAt": "Tune",
                        "States": {"Tune": {"Type": "Pass", "End": True}},
                    },
                    "ToleratedFailurePercentage": percentage,
                    "End": True,
                }
            },
        },
        indent=2,
    )


@pytest.mark.parametrize("percentage", [100, 0, 12.5])
def test_a_state_machine_with_an_integer_tolerated_failure_percentage_is_created_and_runs(percentage: Any) -> None:
    # Given the embedded AWS and a Distributed Map tolerating a whole (or fractional) percentage
    asl_compat.install()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        text = definition(percentage)
        # When the state machine is created and run
        arn = sfn.create_state_machine(name="sweep", definition=text, roleArn=ROLE)["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps([1, 2]))["executionArn"]
        for _ in range(200):
            status = sfn.describe_execution(executionArn=execution)["status"]
            if status != "RUNNING":
                break
            time.sleep(0.05)
        # Then it is accepted as AWS accepts it, keeps the caller's text, and runs
        assert sfn.describe_state_machine(stateMachineArn=arn)["definition"] == text
        assert status == "SUCCEEDED"


def test_only_the_member_value_is_respelled() -> None:
    # Given a definition whose Comment mentions the field, and percentages already with a fraction
    text = (
        '{"Comment": "see \\"ToleratedFailurePercentage\\": 5", "A": {"ToleratedFailurePercentage": 100},'
        ' "B": {"ToleratedFailurePercentage" : 7.5}, "C": {"ToleratedFailurePercentage": 0}}'
    )
    # When it is spelled for moto
    spelled = asl_compat.spell_for_moto(text)
    # Then only integer member values change, and the JSON means the same
    assert '"ToleratedFailurePercentage": 100.0}' in spelled
    assert '"ToleratedFailurePercentage" : 7.5}' in spelled
    assert '"ToleratedFailurePercentage": 0.0}' in spelled
    assert '\\"ToleratedFailurePercentage\\": 5"' in spelled
    assert json.loads(spelled) == json.loads(text)
