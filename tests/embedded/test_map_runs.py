"""The embedded AWS runs a Distributed Map as AWS does: child executions under a map run.

A small state machine of its own (three items, one of which fails) pins the emulator's side:
the children's ARNs, histories, statuses and context, DescribeMapRun's counts, and
ListExecutions with ``mapRunArn`` (filtering, paging, errors). The tuner's own sweeps are in
tests/statemachine/test_sweep.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.cloud import EmbeddedAws

DEFINITION = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 1,
            "Label": "Each",
            "ToleratedFailureCount": 1,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Route",
                "States": {
                    "Route": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Break"}],
                        "Default": "Done",
                    },
                    "Break": {"Type": "Fail", "Error": "ItemBroke", "Cause": "the item asked to fail"},
                    "Done": {"Type": "Pass", "Parameters": {"me.$": "$$.Execution.Id"}, "End": True},
                },
            },
            "End": True,
        }
    },
}
ITEMS = [{"fail": False}, {"fail": True}, {"fail": False}]


def run_machine(aws: EmbeddedAws, name: str, definition: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Create a state machine with the tuner's role, run it over ITEMS to its end; its ARN and the execution."""
    sfn = aws.client("stepfunctions")
    role = sfn.describe_state_machine(stateMachineArn=aws.stack.state_machine_arn)["roleArn"]
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)["stateMachineArn"]
    parent = sfn.start_execution(stateMachineArn=machine, name="probe", input=json.dumps({"items": ITEMS}))
    return machine, aws.wait(parent["executionArn"])


@pytest.fixture(scope="module")
def aws() -> Any:
    with EmbeddedAws() as embedded:
        yield embedded


@pytest.fixture(scope="module")
def swept(aws: EmbeddedAws) -> Any:
    """One execution of the probe machine over ITEMS; the embedded AWS, its client, the parent and map run ARNs."""
    machine, described = run_machine(aws, "map-probe", DEFINITION)
    assert described["status"] == "SUCCEEDED"
    sfn = aws.client("stepfunctions")
    (map_run,) = sfn.list_map_runs(executionArn=described["executionArn"])["mapRuns"]
    return aws, sfn, machine, described["executionArn"], map_run["mapRunArn"]


def test_the_map_run_and_its_children_have_aws_arns_and_statuses(swept: Any) -> None:
    _, sfn, machine, parent, map_run = swept
    # When the map run's children are listed
    children = sfn.list_executions(mapRunArn=map_run)["executions"]
    # Then the map run is named after the machine and the Map's label, as each child is
    assert re.fullmatch(r"arn:aws:states:us-east-1:123456789012:mapRun:map-probe/Each:[0-9a-f-]{36}", map_run)
    assert len(children) == 3
    for child in children:
        assert re.fullmatch(
            r"arn:aws:states:us-east-1:123456789012:execution:map-probe/Each:[0-9a-f-]{36}", child["executionArn"]
        )
        assert (child["stateMachineArn"], child["mapRunArn"], child["itemCount"]) == (f"{machine}/Each", map_run, 1)
    assert sorted(child["status"] for child in children) == ["FAILED", "SUCCEEDED", "SUCCEEDED"]
    # And the machine's own listing holds the parent only
    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert [execution["executionArn"] for execution in listed] == [parent]


def test_describe_map_run_counts_every_item_and_where_it_ended(swept: Any) -> None:
    _, sfn, _, parent, map_run = swept
    # When the map run is described
    described = sfn.describe_map_run(mapRunArn=map_run)
    # Then items and children are counted alike: three in all, two succeeded, one failed, none left
    expected = {"total": 3, "succeeded": 2, "failed": 1, "pending": 0, "running": 0, "timedOut": 0, "aborted": 0}
    for counts in (described["itemCounts"], described["executionCounts"]):
        assert {key: counts[key] for key in expected} == expected
    assert (described["status"], described["executionArn"]) == ("SUCCEEDED", parent)


def test_a_failed_child_has_its_own_failed_history_and_the_parent_none_of_its_states(swept: Any) -> None:
    _, sfn, _, parent, map_run = swept
    # When the failed children are listed and read
    (failed,) = sfn.list_executions(mapRunArn=map_run, statusFilter="FAILED")["executions"]
    described = sfn.describe_execution(executionArn=failed["executionArn"])
    history = sfn.get_execution_history(executionArn=failed["executionArn"])["events"]
    parent_history = sfn.get_execution_history(executionArn=parent)["events"]
    # Then it failed with its Fail state's error, from ExecutionStarted to ExecutionFailed
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "ItemBroke",
        "the item asked to fail",
    )
    assert json.loads(described["input"]) == {"fail": True}
    assert described["mapRunArn"] == map_run
    assert history[0]["type"] == "ExecutionStarted"
    assert history[-1]["type"] == "ExecutionFailed"
    assert history[-1]["executionFailedEventDetails"] == {"error": "ItemBroke", "cause": "the item asked to fail"}
    assert [event["id"] for event in history] == list(range(1, len(history) + 1))
    # And the parent shows the map run, not the children's states
    entered = {
        event["stateEnteredEventDetails"]["name"] for event in parent_history if "stateEnteredEventDetails" in event
    }
    assert entered == {"Each"}
    assert {"MapRunStarted", "MapRunSucceeded"} <= {event["type"] for event in parent_history}


def test_inside_a_child_the_context_names_the_child_execution(swept: Any) -> None:
    _, sfn, _, _, map_run = swept
    # When a succeeded child's output (its $$.Execution.Id) is read
    children = sfn.list_executions(mapRunArn=map_run, statusFilter="SUCCEEDED")["executions"]
    outputs = [json.loads(sfn.describe_execution(executionArn=child["executionArn"])["output"]) for child in children]
    # Then each names itself, as in AWS, not its parent
    assert sorted(output["me"] for output in outputs) == sorted(child["executionArn"] for child in children)


def test_list_executions_by_map_run_pages_and_refuses_what_aws_refuses(swept: Any) -> None:
    _, sfn, machine, _, map_run = swept
    # When the children are listed two at a time
    first = sfn.list_executions(mapRunArn=map_run, maxResults=2)
    second = sfn.list_executions(mapRunArn=map_run, maxResults=2, nextToken=first["nextToken"])
    # Then the pages hold all three once, and the last has no token
    arns = [child["executionArn"] for child in first["executions"] + second["executions"]]
    assert len(arns) == len(set(arns)) == 3 and "nextToken" not in second
    # And an unknown map run, or a map run and a state machine at once, is refused
    unknown = map_run.rsplit(":", 1)[0] + ":00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as not_found:
        sfn.list_executions(mapRunArn=unknown)
    assert not_found.value.response["Error"]["Code"] == "ResourceNotFound"
    with pytest.raises(ClientError) as both:
        sfn.list_executions(mapRunArn=map_run, stateMachineArn=machine)
    assert both.value.response["Error"]["Code"] == "ValidationException"


def test_a_map_run_without_tolerance_fails_on_a_failed_child(aws: EmbeddedAws) -> None:
    # Given the probe's Map without ToleratedFailureCount: AWS tolerates no failed child by default
    strict = json.loads(json.dumps(DEFINITION))
    del strict["States"]["Each"]["ToleratedFailureCount"]
    # When it runs over the same items
    _, described = run_machine(aws, "map-probe-strict", strict)
    sfn = aws.client("stepfunctions")
    history = sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    (map_run,) = sfn.list_map_runs(executionArn=described["executionArn"])["mapRuns"]
    # Then the map run, and with it the execution, fails with the threshold's error
    assert (described["status"], described["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    (failed,) = [event for event in history if event["type"] == "MapRunFailed"]
    assert failed["mapRunFailedEventDetails"]["error"] == "States.ExceedToleratedFailureThreshold"
    assert "1 of 3 child executions failed" in failed["mapRunFailedEventDetails"]["cause"]
    assert sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])["status"] == "FAILED"
