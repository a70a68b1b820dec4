"""Run records: one item per target per execution, success or failure, written once."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from autotuner_core.documents.base import parse_event
from autotuner_core.documents.outcome import RecordEvent
from autotuner_core.policy.errors import ThrottledError
from autotuner_core.run.records import NO_TARGET, build_records, outcome_of, write_records

ACCOUNT = "123456789012"
ORDERS = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders"
BILLING = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:billing"
EXECUTION = {
    "arn": f"arn:aws:states:eu-west-1:{ACCOUNT}:execution:autotuner:run-42",
    "startTime": "2025-11-26T10:00:00.000Z",
}
RUN_KEY = "2025-11-26T10:00:00.000Z#run-42"
NOW = datetime(2025, 11, 26, 10, 0, 3, 250000, tzinfo=UTC)
TABLE = "autotuner-RunHistory"


def configuration(memory: int, revision: str | None = "rev-1") -> dict[str, Any]:
    config = {"MemorySize": memory, "Timeout": 30, "Architectures": ["arm64"], "EphemeralStorage": 512}
    return config | ({"RevisionId": revision} if revision else {})


REQUEST = {"targets": ["orders"], "memorySize": 1024, "apply": True}
TARGET = {
    "ref": {"given": "orders", "name": "orders", "arn": ORDERS},
    "configuration": configuration(512),
    "tags": {"autotune": "true"},
}


def lambda_cause(error_type: str, message: str) -> str:
    """The Cause Step Functions puts in $.error when a Lambda function raised."""
    return json.dumps(
        {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": "8f5f6b1e-0000-0000-0000-000000000000",
            "stackTrace": ['  File "/var/task/app.py", line 27, in lambda_handler\n'],
        }
    )


def records_for(event: dict[str, Any], retention_days: int = 90) -> list[dict[str, Any]]:
    return build_records(parse_event(RecordEvent, event), now=NOW, retention_days=retention_days)


# --------------------------------------------------------------------------------------------
# build_records: success
# --------------------------------------------------------------------------------------------


def test_success_record_has_outcome_before_after_latencies_and_keys() -> None:
    # Given UpdateConfiguration's output for an applied change
    event = {
        "execution": EXECUTION,
        "request": REQUEST,
        "target": TARGET,
        "outcome": "APPLIED",
        "before": configuration(512),
        "after": configuration(1024, "rev-2") | {"LastUpdateStatus": "Successful"},
        "timings": {"validatePermissionsMs": 120.5, "discoverResourcesMs": 80.0, "updateConfigurationMs": 900.25},
    }
    # When its records are built, with 30 days retention
    records = records_for(event, retention_days=30)
    # Then there is one record for the target, with what an operator queries
    assert len(records) == 1
    record = records[0]
    assert record["target"] == ORDERS
    assert record["runKey"] == RUN_KEY
    assert record["executionArn"] == EXECUTION["arn"]
    assert record["outcome"] == "APPLIED"
    assert record["before"]["MemorySize"] == 512
    assert record["after"]["MemorySize"] == 1024
    assert record["after"]["RevisionId"] == "rev-2"
    assert record["requested"]["memorySize"] == 1024
    assert record["requested"]["apply"] is True
    assert record["requested"]["targets"] == ["orders"]
    assert record["stageLatenciesMs"] == {
        "validatePermissionsMs": Decimal("120.5"),
        "discoverResourcesMs": Decimal("80.0"),
        "updateConfigurationMs": Decimal("900.25"),
    }
    assert record["elapsedMs"] == Decimal("3250.0")
    assert record["expiresAt"] == int((NOW + timedelta(days=30)).timestamp())
    # And nothing that only failures carry
    assert not {"errorType", "errorCategory", "failedStage", "timeToFailureMs"} & record.keys()
    # And it is DynamoDB-ready: no float anywhere
    assert "float" not in repr(record) and all(not isinstance(v, float) for v in record.values())


def test_run_key_is_deterministic_so_a_retried_write_collides() -> None:
    # Given the same event recorded twice, a minute apart
    event = {"execution": EXECUTION, "request": REQUEST, "target": TARGET, "outcome": "UNCHANGED"}
    first = build_records(parse_event(RecordEvent, event), now=NOW, retention_days=90)[0]
    again = build_records(parse_event(RecordEvent, event), now=NOW + timedelta(minutes=1), retention_days=90)[0]
    # Then both carry the same key (start time, then execution name)
    assert first["runKey"] == again["runKey"] == RUN_KEY
    assert first["target"] == again["target"]


def test_qualified_target_is_recorded_under_the_function_with_its_qualifier() -> None:
    # Given an alias was tuned
    target = TARGET | {"ref": {"given": "orders:live", "name": "orders", "arn": ORDERS, "qualifier": "live"}}
    event = {"execution": EXECUTION, "request": REQUEST, "target": target, "outcome": "RECOMMENDED"}
    # When it is recorded
    record = records_for(event)[0]
    # Then the record is the function's, and says which qualifier was asked for
    assert (record["target"], record["qualifier"], record["outcome"]) == (ORDERS, "live", "RECOMMENDED")


# --------------------------------------------------------------------------------------------
# build_records: failures
# --------------------------------------------------------------------------------------------


def test_failure_in_validate_permissions_records_each_distinct_target_of_the_raw_input() -> None:
    # Given ValidatePermissions failed on an input that names orders twice (by name and by ARN),
    # a function in another region, a malformed name and some non-strings
    other_region = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders"
    message = "pre-flight denied 1 permission: role r may not lambda:UpdateFunctionConfiguration on x (implicitDeny)"
    event = {
        "execution": EXECUTION,
        "input": {
            "targets": ["orders", "billing", ORDERS, other_region, "not a function!", 7, "", None],
            "memorySize": 1024,
            "apply": True,
        },
        "error": {"Error": "PermissionDeniedError", "Cause": lambda_cause("PermissionDeniedError", message)},
    }
    # When its records are built
    records = records_for(event)
    # Then there is one record per distinct function reference: by ARN in the run's region and account
    # (so the target's history is one partition), as written when it does not resolve there, and
    # none for text that names no function
    assert [record["target"] for record in records] == [ORDERS, BILLING, other_region]
    for record in records:
        # And each says it failed at ValidatePermissions, why, and how it is classified
        assert record["outcome"] == "FAILED"
        assert record["failedStage"] == "ValidatePermissions"
        assert record["errorType"] == "PermissionDeniedError"
        assert record["errorCategory"] == "permission"
        assert record["errorPolicy"] == "permanent"
        assert record["errorMessage"] == message
        assert record["timeToFailureMs"] == Decimal("3250.0")
        assert record["runKey"] == RUN_KEY
        assert "after" not in record


@pytest.mark.parametrize("raw", [{"targets": "orders", "memorySize": 1024}, {"memorySize": 1024}, None, ["orders"]])
def test_failure_without_a_target_list_is_recorded_once_as_no_target(raw: Any) -> None:
    # Given ValidatePermissions failed on an input without a usable targets list
    event = {
        "execution": EXECUTION,
        "input": raw,
        "error": {"Error": "InvalidInputError", "Cause": lambda_cause("InvalidInputError", "invalid execution input")},
    }
    # When its records are built
    records = records_for(event)
    # Then the run still has exactly one record, under "(no target)"
    assert [(record["target"], record["errorCategory"]) for record in records] == [(NO_TARGET, "input")]
    assert NO_TARGET == "(no target)"


def test_failure_in_discovery_records_each_resolved_target_at_discover_resources() -> None:
    # Given DiscoverResources failed for each target; its input was CheckCircuit's output, one per Map item
    refs = [
        {"given": "orders", "name": "orders", "arn": ORDERS},
        {"given": "billing:live", "name": "billing", "arn": BILLING, "qualifier": "live"},
    ]
    events = [
        {
            "execution": EXECUTION,
            "request": {"targets": ["orders", "billing:live"], "memorySize": 1024},
            "ref": ref,
            "admission": "NORMAL",
            "timings": {"validatePermissionsMs": 95.0},
            "error": {
                "Error": "FunctionNotFoundError",
                "Cause": lambda_cause(
                    "FunctionNotFoundError", f"lambda:GetFunction on {BILLING}:live: ResourceNotFoundException"
                ),
            },
        }
        for ref in refs
    ]
    # When their records are built
    records = [record for event in events for record in records_for(event)]
    # Then each target is recorded by ARN as failed at DiscoverResources, not found
    assert [(r["target"], r["failedStage"], r["errorCategory"]) for r in records] == [
        (ORDERS, "DiscoverResources", "not-found"),
        (BILLING, "DiscoverResources", "not-found"),
    ]
    assert records[0]["stageLatenciesMs"] == {"validatePermissionsMs": Decimal("95.0")}


def test_failure_in_update_records_the_configuration_before_and_no_after() -> None:
    # Given UpdateConfiguration failed transiently past its retries; its input was the Map item
    event = {
        "execution": EXECUTION,
        "request": REQUEST,
        "target": TARGET,
        "timings": {"validatePermissionsMs": 95.0, "discoverResourcesMs": 40.0},
        "error": {
            "Error": "UpdateInProgressError",
            "Cause": lambda_cause(
                "UpdateInProgressError", f"{ORDERS} is still State=Active LastUpdateStatus=InProgress"
            ),
        },
    }
    # When its record is built
    [record] = records_for(event)
    # Then it failed at UpdateConfiguration, transiently, with the configuration it had
    assert record["failedStage"] == "UpdateConfiguration"
    assert (record["errorCategory"], record["errorPolicy"]) == ("conflict", "transient")
    assert record["before"]["MemorySize"] == 512
    assert "after" not in record


@pytest.mark.parametrize(
    ("error", "cause", "message", "category", "policy"),
    [
        ("States.Timeout", "", "", "unknown", "unknown"),
        (
            "States.TaskFailed",
            "Task timed out after 130.00 seconds",
            "Task timed out after 130.00 seconds",
            "unknown",
            "unknown",
        ),
        (
            "Lambda.TooManyRequestsException",
            "Rate exceeded (Service: Lambda)",
            "Rate exceeded (Service: Lambda)",
            "throttling",
            "transient",
        ),
        (
            "Lambda.Unknown",
            '["not", "an", "error", "object"]',
            '["not", "an", "error", "object"]',
            "unknown",
            "unknown",
        ),
        ("ThrottledError", lambda_cause("ThrottledError", "slow down"), "slow down", "throttling", "transient"),
    ],
    ids=["timeout-no-cause", "plain-text-cause", "lambda-service", "json-but-not-lambda", "lambda-json"],
)
def test_error_message_is_extracted_from_a_lambda_cause_and_kept_raw_otherwise(
    error: str, cause: str, message: str, category: str, policy: str
) -> None:
    # Given a failure reported by Step Functions (state timeout, service error, or our own error)
    event = {"execution": EXECUTION, "request": REQUEST, "target": TARGET, "error": {"Error": error, "Cause": cause}}
    # When its record is built
    [record] = records_for(event)
    # Then the message is Lambda's errorMessage when there is one, the Cause as given otherwise
    assert record["errorMessage"] == message
    assert (record["errorType"], record["errorCategory"], record["errorPolicy"]) == (error, category, policy)


def test_very_long_error_messages_are_truncated() -> None:
    # Given a Lambda error with a 5,000-character message
    cause = lambda_cause("InvalidInputError", "x" * 5000)
    event = {"execution": EXECUTION, "input": {}, "error": {"Error": "InvalidInputError", "Cause": cause}}
    # When its record is built
    [record] = records_for(event)
    # Then the stored message is bounded
    assert record["errorMessage"] == "x" * 2000


def test_outcome_of_a_record_is_what_the_summary_lists() -> None:
    # Given a success record
    event = {
        "execution": EXECUTION,
        "request": REQUEST,
        "target": TARGET,
        "outcome": "APPLIED",
        "before": configuration(512),
        "after": configuration(1024),
    }
    record = records_for(event)[0]
    # When it is summarised
    outcome = outcome_of(record)
    # Then target, outcome and both sizes are kept
    assert outcome.dump() == {"target": ORDERS, "outcome": "APPLIED", "memoryBefore": 512, "memoryAfter": 1024}


# --------------------------------------------------------------------------------------------
# write_records
# --------------------------------------------------------------------------------------------


def success_records() -> list[dict[str, Any]]:
    return records_for({"execution": EXECUTION, "request": REQUEST, "target": TARGET, "outcome": "UNCHANGED"})


def test_records_are_written_with_a_condition_that_only_creates(fake_dynamodb: Any) -> None:
    # Given a record
    records = success_records()
    # When it is written
    written = write_records(fake_dynamodb, TABLE, records)
    # Then it was put once, into the table, only if that (target, runKey) does not exist yet
    assert written == 1
    [call] = fake_dynamodb.calls
    assert call["TableName"] == TABLE
    assert call["ConditionExpression"] == "attribute_not_exists(#target)"
    assert call["ExpressionAttributeNames"] == {"#target": "target"}
    stored = fake_dynamodb.items[(ORDERS, RUN_KEY)]
    assert stored["outcome"] == {"S": "UNCHANGED"}
    assert stored["before"]["M"]["MemorySize"] == {"N": "512"}


def test_a_retried_write_is_harmless_and_never_overwrites(fake_dynamodb: Any) -> None:
    # Given the record of this execution for orders is already stored
    write_records(fake_dynamodb, TABLE, success_records())
    first = fake_dynamodb.items[(ORDERS, RUN_KEY)]
    # When RecordResult is retried with a record that differs (recordedAt, say)
    retried = [dict(record, recordedAt="later", outcome="FAILED") for record in success_records()]
    written = write_records(fake_dynamodb, TABLE, retried)
    # Then nothing is raised, nothing new is written, and the first record stands
    assert written == 0
    assert fake_dynamodb.items[(ORDERS, RUN_KEY)] is first
    assert len(fake_dynamodb.items) == 1


def test_throttled_write_is_transient_naming_the_table(
    fake_dynamodb: Any, client_error: Callable[..., ClientError]
) -> None:
    # Given DynamoDB throttles the write
    fake_dynamodb.errors.append(
        client_error("ThrottlingException", "Rate of requests exceeds the allowed throughput.", 400, "PutItem")
    )
    # When the records are written
    with pytest.raises(ThrottledError) as caught:
        write_records(fake_dynamodb, TABLE, success_records())
    # Then the state machine can retry it: the error is transient and says what was throttled
    assert str(caught.value).startswith(f"dynamodb:PutItem on {TABLE}: ThrottlingException: ")
    assert fake_dynamodb.items == {}


def test_a_measured_decision_is_recorded_with_its_saving_a_month_at_the_functions_traffic() -> None:
    # Given a measured change to 512 MB saving $8 per million, on a function CloudWatch counted
    # 100,000 invocations of in the 24 h before the run
    event = {
        "execution": EXECUTION,
        "request": {"targets": ["orders"], "apply": True},
        "target": {**TARGET, "liveTraffic": {"live": False, "dailyInvocations": 100_000}},
        "outcome": "APPLIED",
        "before": configuration(1024),
        "after": configuration(512, "rev-2"),
        "recommendation": {
            "strategy": "cost",
            "memorySize": 512,
            "currentMemorySize": 1024,
            "meanMs": 100.0,
            "costPerInvocationUsd": 0.0000008,
            "projectedChangePerMillionUsd": -8.0,
            "summary": "cost: 512 MB instead of 1024 MB",
        },
    }
    # When its record is built
    (record,) = records_for(event)
    # Then the record says what it saves a month, and on what traffic, ready for DynamoDB
    assert record["projectedSavings"] == {
        "basis": "traffic",
        "perMillionUsd": Decimal("8.0"),
        "dailyInvocations": 100_000,
        "perMonthUsd": Decimal("24.333333"),
    }


def test_a_fixed_size_or_a_failure_has_no_saving_to_record() -> None:
    # Given an applied fixed size (nothing measured)
    event = {
        "execution": EXECUTION,
        "request": REQUEST,
        "target": TARGET,
        "outcome": "APPLIED",
        "before": configuration(512),
        "after": configuration(1024),
    }
    # Then its record prices nothing
    assert "projectedSavings" not in records_for(event)[0]
