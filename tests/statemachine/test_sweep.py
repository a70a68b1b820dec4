"""Fleet sweeps by selector, executed on the embedded AWS."""

from __future__ import annotations

import json
import re

from emulator.account import SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws

FLEET = [
    SimulatedFunction(name="orders-api", memory_size=512, tags={"autotune": "enabled", "team": "orders"}),
    SimulatedFunction(name="billing-api", memory_size=512, tags={"autotune": "enabled", "team": "billing"}),
    SimulatedFunction(name="legacy-report", memory_size=256),
]


def names(report) -> dict[str, str]:
    return {record["target"].rsplit(":", 1)[-1]: record["outcome"] for record in report.records}


def test_tag_selector_tunes_every_match_and_leaves_the_rest_and_the_tuner_alone():
    with EmbeddedAws(SimulatedAccount(functions=FLEET)) as aws:
        report = aws.run({"select": {"tags": {"autotune": "enabled"}}, "memorySize": 1024, "apply": True})
        memory = {f.name: aws.function_configuration(f.name)["MemorySize"] for f in FLEET}
        own = {f.name: aws.function_configuration(f.name)["MemorySize"] for f in aws.stack.functions.values()}
    assert report.status == "SUCCEEDED"
    assert names(report) == {"orders-api": "APPLIED", "billing-api": "APPLIED"}
    assert memory == {"orders-api": 1024, "billing-api": 1024, "legacy-report": 256}
    assert all(size != 1024 for size in own.values())


def test_exclusions_and_name_prefix_narrow_the_sweep():
    with EmbeddedAws(SimulatedAccount(functions=FLEET)) as aws:
        excluded = aws.run({"select": {"tags": {"autotune": "enabled"}, "exclude": ["billing-api"]}, "memorySize": 768})
        prefixed = aws.run({"select": {"namePrefix": "legacy-"}, "memorySize": 256})
    assert names(excluded) == {"orders-api": "RECOMMENDED"}
    assert names(prefixed) == {"legacy-report": "UNCHANGED"}


def test_an_empty_selection_is_a_recorded_successful_no_op():
    with EmbeddedAws(SimulatedAccount(functions=FLEET)) as aws:
        # Given a selector nothing matches, and one that matches only the tuner's own functions
        nobody = aws.run({"select": {"tags": {"team": "nobody"}}, "memorySize": 1024, "apply": True})
        itself = aws.run({"select": {"tags": {"lambda-autotuner:stack": "lambda-autotuner"}}, "apply": True})
    for report in (nobody, itself):
        # Then the run succeeds without touching anything, and says why in its record
        assert report.status == "SUCCEEDED"
        assert report.states_entered[-2:] == ["RecordNoTargets", "NoTargets"]
        assert report.mutating_calls == []
        (record,) = report.records
        assert record["outcome"] == "SKIPPED"
        assert "matched no function" in record["note"]


def test_a_malformed_selector_is_invalid_input_naming_it():
    with EmbeddedAws(SimulatedAccount(functions=FLEET)) as aws:
        unknown = aws.run({"select": {"labels": {"autotune": "enabled"}}})
        empty = aws.run({"select": {}})
        both = aws.run({"targets": ["orders-api"], "select": {"namePrefix": "orders"}})
    assert (unknown.error, empty.error, both.error) == ("InvalidInputError",) * 3
    assert "select.labels: unknown field" in unknown.cause
    assert "needs tags and/or namePrefix" in empty.cause
    assert "either targets (a list) or select" in both.cause
    assert unknown.mutating_calls == empty.mutating_calls == both.mutating_calls == []


def test_a_sweep_beyond_one_page_and_fifty_targets_passes_no_list_through_state():
    # Given 60 functions: more than one ListFunctions page holds (50), and more than the 50 targets
    # an explicit list may name
    fleet = [
        SimulatedFunction(name=f"fleet-{index:03d}", memory_size=512, tags={"autotune": "enabled"})
        for index in range(60)
    ]
    with EmbeddedAws(SimulatedAccount(functions=fleet)) as aws:
        # When one execution sweeps them
        report = aws.run({"select": {"namePrefix": "fleet-"}, "memorySize": 1024, "apply": True})
        listings = aws.interceptor.log.counts()["lambda:ListFunctions"]
        stored = (
            aws.client("s3")
            .get_object(
                Bucket=aws.stack.resources["SweepBucket"],
                Key=f"runs/{report.execution_arn.rsplit(':', 1)[-1]}/targets.json",
            )["Body"]
            .read()
        )
        memory = {f.name: aws.function_configuration(f.name)["MemorySize"] for f in fleet}
    # Then every page of the listing was read and every function is tuned, with a record each
    assert listings == 2
    assert report.status == "SUCCEEDED"
    assert set(names(report).values()) == {"APPLIED"} and len(report.records) == 60
    assert set(memory.values()) == {1024}
    # And the target list is the stored object the Distributed Map read, not a document in state
    assert len(json.loads(stored)) == 60
    outer = [event for event in report.history if "stateEnteredEventDetails" in event]
    inputs = {
        event["stateEnteredEventDetails"]["name"]: json.loads(event["stateEnteredEventDetails"]["input"])
        for event in outer
        if event["stateEnteredEventDetails"]["name"] in ("AnyTargets", "TuneTargets", "Summarize")
    }
    for name, document in inputs.items():
        assert "targets" not in document, name
        assert document["targetCount"] == 60, name
        assert len(json.dumps(document)) < 8_000, name
    # And the summary counts all 60 while listing only the first ones
    assert report.output["targets"] == 60 and report.output["counts"] == {"APPLIED": 60}
    assert len(report.output["outcomes"]) + report.output["outcomesOmitted"] == 60


# --- the Distributed Map as AWS runs it: one child execution per target, under a map run ---------------

CHILD_STATES = {"CheckCircuit", "DiscoverResources", "Plan", "UpdateConfiguration", "RecordTargetResult"}


def test_a_sweeps_children_are_executions_of_their_own_listed_through_its_map_run():
    with EmbeddedAws(SimulatedAccount(functions=FLEET)) as aws:
        # Given a sweep of the two tagged functions
        report = aws.run({"select": {"tags": {"autotune": "enabled"}}, "memorySize": 1024, "apply": True})
        sfn = aws.client("stepfunctions")
        # When the operator reads it as Step Functions keeps it
        (map_run,) = sfn.list_map_runs(executionArn=report.execution_arn)["mapRuns"]
        described = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])
        children = sfn.list_executions(mapRunArn=map_run["mapRunArn"])["executions"]
        histories = {
            child["executionArn"]: sfn.get_execution_history(executionArn=child["executionArn"])["events"]
            for child in children
        }
        inputs = [json.loads(sfn.describe_execution(executionArn=arn)["input"]) for arn in histories]
    assert report.status == "SUCCEEDED"
    # Then the parent's history shows the map run and none of the children's states
    parent_types = [event["type"] for event in report.history]
    assert [kind for kind in parent_types if kind.startswith("MapRun")] == ["MapRunStarted", "MapRunSucceeded"]
    started = next(event for event in report.history if event["type"] == "MapRunStarted")
    assert started["mapRunStartedEventDetails"]["mapRunArn"] == map_run["mapRunArn"]
    parent_states = {
        event["stateEnteredEventDetails"]["name"] for event in report.history if "stateEnteredEventDetails" in event
    }
    assert parent_states.isdisjoint(CHILD_STATES)
    # And the map run's ARNs have AWS's shape: …:mapRun:MACHINE/LABEL:UUID, children …:execution:MACHINE/LABEL:UUID
    machine = aws.stack.state_machine_arn.rsplit(":", 1)[-1]
    assert re.fullmatch(
        rf"arn:aws:states:us-east-1:123456789012:mapRun:{machine}/[^:/]+:[0-9a-f-]{{36}}", map_run["mapRunArn"]
    )
    label = map_run["mapRunArn"].rsplit(":", 2)[-2]
    assert map_run["stateMachineArn"] == f"{aws.stack.state_machine_arn}/{label.split('/')[-1]}"
    assert len(children) == 2
    for child in children:
        assert re.fullmatch(
            rf"arn:aws:states:us-east-1:123456789012:execution:{label}:[0-9a-f-]{{36}}", child["executionArn"]
        )
        assert (child["status"], child["mapRunArn"], child["name"]) == (
            "SUCCEEDED",
            map_run["mapRunArn"],
            child["executionArn"].rsplit(":", 1)[-1],
        )
    # And each child's history runs from its start to its end through the per-target states
    for history in histories.values():
        assert (history[0]["type"], history[-1]["type"]) == ("ExecutionStarted", "ExecutionSucceeded")
        entered = [
            event["stateEnteredEventDetails"]["name"] for event in history if "stateEnteredEventDetails" in event
        ]
        assert entered == ["CheckCircuit", "DiscoverResources", "Plan", "UpdateConfiguration", "RecordTargetResult"]
    # And each child's input is its item, as the ItemSelector builds it, naming the parent execution
    assert all(document["execution"]["arn"] == report.execution_arn and "ref" in document for document in inputs)
    # And DescribeMapRun counts the target list: two items, two children, both succeeded
    for counts in (described["itemCounts"], described["executionCounts"]):
        assert (counts["total"], counts["succeeded"], counts["failed"], counts["pending"], counts["running"]) == (
            2,
            2,
            0,
            0,
            0,
        )
    assert described["status"] == "SUCCEEDED"
    # And the report counts the children's transitions and attempts with the parent's
    entered = [event for history in [report.history, *histories.values()] for event in history]
    assert report.state_transitions == sum(1 for event in entered if event["type"].endswith("StateEntered"))
    assert report.state_transitions == report.output["runCost"]["counted"]["stateTransitions"]
    assert report.task_attempts["UpdateConfiguration"] == 2


def test_a_failing_child_is_found_by_failed_state_in_its_own_history():
    with EmbeddedAws(SimulatedAccount(functions=FLEET)) as aws:
        # Given a run whose one target does not exist
        report = aws.run({"targets": ["ghost-function"], "memorySize": 1024, "apply": True})
        sfn = aws.client("stepfunctions")
        (map_run,) = sfn.list_map_runs(executionArn=report.execution_arn)["mapRuns"]
        (child,) = sfn.list_executions(mapRunArn=map_run["mapRunArn"])["executions"]
    # Then the run fails with the target's error, first raised in the child's DiscoverResources
    assert (report.status, report.error) == ("FAILED", "FunctionNotFoundError")
    assert report.failed_state == "DiscoverResources"
    # And the parent's one failed task is Summarize re-raising it: where it began is in the child's history
    parent_entered = [
        event["stateEnteredEventDetails"]["name"] for event in report.history if "stateEnteredEventDetails" in event
    ]
    assert "DiscoverResources" not in parent_entered and "Summarize" in parent_entered
    assert sum(1 for event in report.history if event["type"] == "TaskFailed") == 1
    failed = [event for event in report.child_histories[child["executionArn"]] if event["type"] == "TaskFailed"]
    assert [event["taskFailedEventDetails"]["error"] for event in failed] == ["FunctionNotFoundError"]
    # And the child itself ended SUCCEEDED: it caught the error and recorded the failure
    assert child["status"] == "SUCCEEDED"
    assert report.task_attempts["RecordTargetFailure"] == 1
