"""The real ASL executed on the embedded AWS: what an operator sees in the execution history.

Each test deploys template.yaml into a fresh embedded AWS, runs one execution and asserts
on its history (states, attempts), the calls the embedded AWS received, the target's
configuration afterwards and the run records written.
"""

from __future__ import annotations

import json

import pytest

from emulator.account import Fault, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws

ORDERS = SimulatedFunction(name="orders-api", memory_size=512, timeout=30, tags={"autotune": "enabled"})


def account(**changes) -> SimulatedAccount:
    base = {"functions": [ORDERS]}
    base.update(changes)
    return SimulatedAccount(**base)


def run(simulated: SimulatedAccount, execution_input):
    with EmbeddedAws(simulated) as aws:
        report = aws.run(execution_input)
        memory = {
            function.name: aws.function_configuration(function.name)["MemorySize"] for function in simulated.functions
        }
    return report, memory


def test_apply_changes_memory_verifies_it_and_records_one_item():
    # Given a tagged function at 512 MB
    # When a run asks for 1024 MB with apply
    report, memory = run(account(), {"targets": ["orders-api"], "memorySize": 1024, "apply": True})
    # Then the run succeeds through every stage and the function now has 1024 MB
    assert report.status == "SUCCEEDED"
    assert report.states_entered[:8] == [
        "Prepare",
        "ValidatePermissions",
        "AnyTargets",
        "TuneTargets",
        "CheckCircuit",
        "DiscoverResources",
        "Plan",
        "UpdateConfiguration",
    ]
    assert memory["orders-api"] == 1024
    assert report.aws_calls["lambda:UpdateFunctionConfiguration"] == 1
    # And exactly one record says what changed
    (record,) = report.records
    assert record["outcome"] == "APPLIED"
    assert (record["before"]["MemorySize"], record["after"]["MemorySize"]) == (512, 1024)
    assert record["after"]["LastUpdateStatus"] == "Successful"
    assert set(record["stageLatenciesMs"]) == {"validatePermissionsMs", "discoverResourcesMs", "updateConfigurationMs"}
    assert report.output["counts"] == {"APPLIED": 1}
    # And other workloads heard about it: one Tuning Completed event
    assert report.aws_calls["events:PutEvents"] == 1


def test_pre_flight_denial_fails_in_one_attempt_before_touching_the_target():
    # Given the updater role lost lambda:UpdateFunctionConfiguration
    simulated = account(
        revoke=[{"function": "UpdateConfigurationFunction", "actions": ["lambda:UpdateFunctionConfiguration"]}]
    )
    # When a run wants to apply a change
    report, memory = run(simulated, {"targets": ["orders-api"], "memorySize": 1024, "apply": True})
    # Then it fails in pre-flight, after one attempt, naming action, role and resource
    assert report.status == "FAILED"
    assert report.error == "PermissionDeniedError"
    assert report.failed_state == "ValidatePermissions"
    assert report.task_attempts["ValidatePermissions"] == 1
    assert "lambda:UpdateFunctionConfiguration" in report.cause
    assert "UpdateConfigurationFunctionRole" in report.cause
    assert "function:orders-api" in report.cause
    assert "implicitDeny" in report.cause
    # And nothing read or changed the target
    assert report.mutating_calls == []
    assert "lambda:GetFunction" not in report.aws_calls
    assert memory["orders-api"] == 512
    # And the failure is recorded against the target, under the same key as its successful runs
    (record,) = report.records
    assert record["target"] == "arn:aws:lambda:us-east-1:123456789012:function:orders-api"
    assert record["outcome"] == "FAILED"
    assert (record["errorType"], record["errorCategory"], record["failedStage"]) == (
        "PermissionDeniedError",
        "permission",
        "ValidatePermissions",
    )
    assert "RecordRunFailure" in report.states_entered
    assert report.states_entered[-1] == "RunFailed"


def test_dry_run_is_not_simulated_for_the_update_permission():
    # Given the updater role lost lambda:UpdateFunctionConfiguration
    simulated = account(
        revoke=[{"function": "UpdateConfigurationFunction", "actions": ["lambda:UpdateFunctionConfiguration"]}]
    )
    # When the run is a dry run
    report, memory = run(simulated, {"targets": ["orders-api"], "memorySize": 1024})
    # Then pre-flight asks only for what a dry run uses, and the run recommends without changing anything
    assert report.status == "SUCCEEDED"
    assert report.records[0]["outcome"] == "RECOMMENDED"
    assert report.records[0]["after"]["MemorySize"] == 1024
    assert report.mutating_calls == []
    assert memory["orders-api"] == 512


def test_missing_function_fails_in_discovery_in_one_attempt_and_records_it():
    missing = "arn:aws:lambda:us-east-1:123456789012:function:nonexistent-function"
    # When a run names a function that does not exist
    report, _ = run(account(), {"targets": [missing], "memorySize": 1024, "apply": True})
    # Then discovery fails once with FunctionNotFoundError and no update is attempted
    assert (report.status, report.error, report.failed_state) == (
        "FAILED",
        "FunctionNotFoundError",
        "DiscoverResources",
    )
    assert report.task_attempts["DiscoverResources"] == 1
    assert "nonexistent-function" in report.cause
    assert report.mutating_calls == []
    (record,) = report.records
    assert (record["target"], record["errorType"], record["failedStage"]) == (
        missing,
        "FunctionNotFoundError",
        "DiscoverResources",
    )


def test_one_missing_target_among_two_fails_only_itself_and_fails_the_run():
    # Given two targets, one of them missing
    report, memory = run(account(), {"targets": ["orders-api", "ghost"], "memorySize": 1024, "apply": True})
    # Then the existing one is tuned, the missing one is recorded as failed, and the run says so
    assert (report.status, report.error) == ("FAILED", "PartialFailureError")
    assert "ghost" in report.cause and "FunctionNotFoundError" in report.cause
    assert memory["orders-api"] == 1024
    outcomes = {record["target"].rsplit(":", 1)[-1]: record["outcome"] for record in report.records}
    assert outcomes == {"orders-api": "APPLIED", "ghost": "FAILED"}


@pytest.mark.parametrize(
    ("execution_input", "named"),
    [
        ({"memorySize": 1024}, ["targets"]),
        ({"targets": ["orders-api"], "memorySizes": [64, 128, 128]}, ["memorySizes[0]"]),
        ({"targets": ["orders-api"], "invocations": 4}, ["invocations"]),
        ({"targets": ["orders-api"], "payload": [{"payload": {}, "weight": 0}]}, ["weight"]),
        ({"targets": ["orders-api"], "balancedWeight": 1.5, "strategy": "balanced"}, ["balancedWeight"]),
        ({"targets": ["orders-api"], "alias": "1234", "apply": True}, ["alias"]),
        ({"targets": ["orders-api"], "payload": "x" * 300}, ["payload"]),
        ({"targets": ["orders-api"], "memorySize": 64}, ["memorySize"]),
        ({"targets": ["orders-api"], "memorySize": 20000}, ["memorySize"]),
        ({"targets": ["orders-api"], "memorySize": "1024"}, ["memorySize"]),
        ({"targets": ["orders-api"], "memorySize": 1024.5}, ["memorySize"]),
        ({"targets": "orders-api", "memorySize": 1024}, ["targets"]),
        ({"targets": ["orders-api"], "memorySize": 1024, "aply": True}, ["aply"]),
        ({"targets": [], "memory": 1, "apply": "yes"}, ["targets", "memory", "apply"]),
        (["orders-api"], ["JSON object"]),
    ],
)
def test_malformed_input_fails_before_any_aws_call_that_changes_anything(execution_input, named):
    # When the execution input is malformed
    report, memory = run(account(), execution_input)
    # Then the run ends FAILED with InvalidInputError naming each bad field, after one attempt
    assert (report.status, report.error, report.failed_state) == ("FAILED", "InvalidInputError", "ValidatePermissions")
    assert report.task_attempts["ValidatePermissions"] == 1
    message = json.loads(report.cause)["errorMessage"]
    for field in named:
        assert field in message
    # And no AWS call other than invoking the tuner, writing its record and announcing it was made
    assert set(report.aws_calls) <= {"lambda:Invoke", "dynamodb:PutItem", "events:PutEvents"}
    assert memory["orders-api"] == 512
    # And the failure is still recorded
    assert report.records and {record["errorType"] for record in report.records} == {"InvalidInputError"}


def test_transient_conflict_twice_is_retried_then_succeeds():
    # Given Lambda answers the first two updates with ResourceConflictException (not retried by the SDK)
    fault = Fault(
        service="lambda", action="UpdateFunctionConfiguration", code="ResourceConflictException", status=409, times=2
    )
    report, memory = run(account(faults=[fault]), {"targets": ["orders-api"], "memorySize": 1024, "apply": True})
    # Then the state machine retries the update with backoff and the run succeeds
    assert report.status == "SUCCEEDED"
    assert report.task_attempts["UpdateConfiguration"] == 3
    assert report.retry_wait_seconds > 0
    assert memory["orders-api"] == 1024
    # And there is still exactly one record
    assert [record["outcome"] for record in report.records] == ["APPLIED"]


def test_throttling_beyond_the_sdk_budget_is_retried_by_the_state_machine():
    # Given GetFunction is throttled three times in a row: the SDK's 3 attempts are spent
    fault = Fault(service="lambda", action="GetFunction", code="TooManyRequestsException", status=429, times=3)
    report, _ = run(account(faults=[fault]), {"targets": ["orders-api"], "memorySize": 1024, "apply": True})
    # Then discovery fails once with ThrottledError and its retry succeeds
    assert report.status == "SUCCEEDED"
    assert report.task_attempts["DiscoverResources"] == 2


def test_memory_over_the_account_quota_fails_as_invalid_configuration_without_retry():
    # Given the account's memory quota is 3,008 MB
    # When the run asks for 4,096 MB
    report, memory = run(account(), {"targets": ["orders-api"], "memorySize": 4096, "apply": True})
    # Then Lambda's rejection is a permanent InvalidConfigurationError, attempted once
    assert (report.status, report.error, report.failed_state) == (
        "FAILED",
        "InvalidConfigurationError",
        "UpdateConfiguration",
    )
    assert report.task_attempts["UpdateConfiguration"] == 1
    assert "3008" in report.cause
    assert memory["orders-api"] == 512
    (record,) = report.records
    assert (record["errorCategory"], record["failedStage"]) == ("configuration", "UpdateConfiguration")


def test_untagged_target_is_refused_when_applying():
    # Given a function without the autotune=enabled tag
    untagged = SimulatedFunction(name="legacy-report", memory_size=256)
    report, memory = run(
        SimulatedAccount(functions=[untagged]), {"targets": ["legacy-report"], "memorySize": 512, "apply": True}
    )
    # Then discovery refuses it by name, before any change
    assert (report.error, report.failed_state) == ("PermissionDeniedError", "DiscoverResources")
    assert "autotune=enabled" in report.cause
    assert memory["legacy-report"] == 256
    assert report.mutating_calls == []


def test_the_tuner_never_targets_its_own_functions():
    with EmbeddedAws(account()) as aws:
        # Given the name of one of the tuner's own functions
        own = aws.stack.functions["UpdateConfigurationFunction"].name
        # When a run targets it
        report = aws.run({"targets": [own], "memorySize": 1024, "apply": True})
        own_memory = aws.function_configuration(own)["MemorySize"]
    # Then it is refused as bad input and left alone
    assert (report.error, report.failed_state) == ("InvalidInputError", "DiscoverResources")
    assert "never tunes its own functions" in report.cause
    assert own_memory == aws.stack.functions["UpdateConfigurationFunction"].memory_size
    assert report.mutating_calls == []


def test_pending_target_is_waited_for_not_failed():
    # Given a function that is still Pending for a moment
    pending = SimulatedFunction(
        name="orders-api", memory_size=512, tags={"autotune": "enabled"}, state="Pending", pending_seconds=0.2
    )
    report, memory = run(
        SimulatedAccount(functions=[pending]), {"targets": ["orders-api"], "memorySize": 768, "apply": True}
    )
    # Then discovery waits for it and the run succeeds on the first attempt
    assert report.status == "SUCCEEDED"
    assert report.task_attempts["DiscoverResources"] == 1
    assert report.aws_calls["lambda:GetFunction"] > 2
    assert memory["orders-api"] == 768


def test_qualified_alias_target_tunes_the_function():
    # Given a function with a published alias "live"
    aliased = SimulatedFunction(name="orders-api", memory_size=512, tags={"autotune": "enabled"}, aliases=["live"])
    report, memory = run(
        SimulatedAccount(functions=[aliased]), {"targets": ["orders-api:live"], "memorySize": 1024, "apply": True}
    )
    # Then the function's configuration is changed and the record keeps the qualifier
    assert report.status == "SUCCEEDED"
    assert memory["orders-api"] == 1024
    assert report.records[0]["qualifier"] == "live"


def test_unknown_error_gets_one_retry_and_a_failed_record_write_fails_the_run():
    # Given DynamoDB answers every write with an error outside the taxonomy
    fault = Fault(
        service="dynamodb",
        action="PutItem",
        code="MysteryException",
        status=400,
        times=50,
        caller="RecordResultFunction",
    )
    report, memory = run(account(faults=[fault]), {"targets": ["orders-api"], "memorySize": 1024, "apply": True})
    # Then the record step is attempted twice (unknown: one retry) and the run does not report success:
    # the summary finds the target without its record and names it
    assert report.status == "FAILED"
    assert report.task_attempts["RecordTargetResult"] == 2
    assert report.error == "PartialFailureError"
    assert "orders-api: RunRecordMissing: no run record was written" in report.cause
    # And the change that was applied is not hidden: the function has it, the run says FAILED
    assert memory["orders-api"] == 1024


def test_unchanged_when_already_at_the_desired_size():
    report, _ = run(account(), {"targets": ["orders-api"], "memorySize": 512, "apply": True})
    assert report.status == "SUCCEEDED"
    assert report.records[0]["outcome"] == "UNCHANGED"
    assert report.mutating_calls == []


def test_record_result_emits_emf_metrics_for_outcome_and_error_category():
    # Given a run that fails in discovery
    with EmbeddedAws(account()) as aws:
        aws.run({"targets": ["ghost"], "memorySize": 1024, "apply": True})
        record_logs = [log.text for log in aws.runtime.logs if log.function == "RecordResultFunction"]
    # When the recorder's log lines are read as CloudWatch would (EMF: JSON with an _aws block)
    documents = [
        json.loads(line)
        for text in record_logs
        for line in text.splitlines()
        if line.startswith("{") and '"_aws"' in line
    ]
    metrics = {
        metric["Name"]: document
        for document in documents
        for directive in document["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }
    # Then the outcome and the error category are counted, in the product's namespace, with dimensions
    assert metrics["RunOutcome"]["outcome"] == "FAILED"
    assert metrics["ErrorsByCategory"]["category"] == "not-found"
    time_to_failure = metrics["TimeToFailure"]["TimeToFailure"]
    assert min(time_to_failure if isinstance(time_to_failure, list) else [time_to_failure]) >= 0
    namespaces = {d["Namespace"] for doc in documents for d in doc["_aws"]["CloudWatchMetrics"]}
    assert namespaces == {"LambdaAutotuner"}


def test_a_fixed_size_run_counts_its_own_transitions_exactly():
    report, _ = run(account(), {"targets": ["orders-api"], "memorySize": 1024, "apply": True})
    cost = report.output["runCost"]
    assert cost["counted"]["stateTransitions"] == report.state_transitions
    assert cost["estimated"]["stateTransitions"] == report.state_transitions
