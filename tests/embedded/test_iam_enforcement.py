"""IAM on the real calls: the embedded AWS authorises what the tuner's roles do, as AWS does.

Runs execute the real ASL on a fresh embedded AWS with permissions revoked from the deployed
roles; the unit tests pin which action and resource ARN each request is authorised for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator.account import SimulatedAccount, load_account
from emulator.cloud import EmbeddedAws
from emulator.iam_enforcement import IamEnforcement
from emulator.interceptor import calls_made_by

ROOT = Path(__file__).resolve().parents[2]
DEMO = load_account(ROOT / "events/accounts/demo-account.json")
APPLY = json.loads((ROOT / "events/inputs/apply-memory.json").read_text())


def revoked(*entries: tuple[str, list[str]]) -> SimulatedAccount:
    return DEMO.model_copy(
        update={"revoke": SimulatedAccount(revoke=[{"function": f, "actions": a} for f, a in entries]).revoke}
    )


def test_target_list_write_denied_fails_the_run_before_any_lambda_change():
    # Given ValidatePermissions' own role lost s3:PutObject (the write of the target list)
    simulated = revoked(("ValidatePermissionsFunction", ["s3:PutObject"]))
    # When apply-memory.json runs on the demo account
    with EmbeddedAws(simulated) as aws:
        report = aws.run(APPLY)
        memory = aws.function_configuration("orders-api")["MemorySize"]
    # Then the run fails as a permission problem in ValidatePermissions, naming the action
    assert (report.status, report.error, report.failed_state) == (
        "FAILED",
        "PermissionDeniedError",
        "ValidatePermissions",
    )
    assert "s3:PutObject" in report.cause
    assert "ValidatePermissionsFunctionRole" in report.cause
    # And no Lambda configuration changed
    assert report.mutating_calls == []
    assert memory == 512


def test_state_machine_role_without_invoke_fails_the_task_as_aws_does():
    # Given the state machine's role may no longer invoke the tuner's functions
    simulated = revoked(("TunerStateMachine", ["lambda:InvokeFunction"]))
    # When a run starts
    with EmbeddedAws(simulated) as aws:
        report = aws.run(APPLY)
        denied = [record for record in aws.interceptor.log.calls if record.denied]
    # Then its first Task fails with the error name Step Functions gives a refused Lambda call
    assert report.status == "FAILED"
    failures = [event for event in report.history if event["type"] == "TaskFailed"]
    first = failures[0]["taskFailedEventDetails"]
    assert first["error"] == "Lambda.AWSLambdaException"
    assert "Status Code: 403" in first["cause"] and "AccessDeniedException" in first["cause"]
    assert "is not authorized to perform: lambda:InvokeFunction" in first["cause"]
    # And every refused call was the state machine's own invocation, in AWS's message form
    assert denied and {record.principal for record in denied} == {"TunerStateMachine"}
    assert {record.denied[0] for record in denied} == {"lambda:InvokeFunction"}
    assert report.mutating_calls == []


def test_revoke_errors_name_each_bad_field_before_anything_runs():
    # Given an account revoking from an unknown function and an action a role does not hold
    simulated = SimulatedAccount(
        revoke=[
            {"function": "NoSuchFunction", "actions": ["s3:PutObject"]},
            {"function": "MeasureConfigurationFunction", "actions": ["lambda:InvokeFunction", "s3:GetObject"]},
        ]
    )
    # When the embedded AWS starts
    with pytest.raises(ValueError) as raised, EmbeddedAws(simulated):
        pass
    # Then one clear error names both fields, and nothing crashed on the valid entry
    message = str(raised.value)
    assert "revoke[0].function: 'NoSuchFunction'" in message
    assert "revoke[1].actions[1]: 's3:GetObject' is not granted to MeasureConfigurationFunction" in message
    assert "revoke[1].actions[0]" not in message


def test_revoking_a_policys_only_action_removes_the_policy():
    # Given MeasureConfiguration's inline policy grants two actions (invoking, and the live-traffic
    # re-check's GetMetricData), and the account revokes both
    simulated = SimulatedAccount(
        revoke=[
            {
                "function": "MeasureConfigurationFunction",
                "actions": ["lambda:InvokeFunction", "cloudwatch:GetMetricData"],
            }
        ]
    )
    # When the embedded AWS starts (before: MalformedPolicyDocument)
    with EmbeddedAws(simulated) as aws:
        role = aws.principal_roles()["MeasureConfigurationFunction"].rsplit("/", 1)[-1]
        policies = aws.client("iam").list_role_policies(RoleName=role)["PolicyNames"]
        decision = aws.client("iam").simulate_principal_policy(
            PolicySourceArn=aws.principal_roles()["MeasureConfigurationFunction"],
            ActionNames=["lambda:InvokeFunction"],
            ResourceArns=["arn:aws:lambda:us-east-1:123456789012:function:orders-api:autotuner-x"],
        )["EvaluationResults"][0]["EvalDecision"]
    # Then the role has no inline policy that grants left (the stack's network-interface Deny, which
    # applies outside a VPC, stays) and the action is denied
    assert [name for name in policies if name != "NoNetworkInterfacesOutsideVpc"] == []
    assert decision == "implicitDeny"


def test_revoke_refuses_malformed_and_repeated_actions_at_load():
    # When an account lists an action that is not service:Action, or one twice
    with pytest.raises(ValueError, match="actions"):
        SimulatedAccount(revoke=[{"function": "RecordResultFunction", "actions": ["PutItem"]}])
    with pytest.raises(ValueError, match="listed twice"):
        SimulatedAccount(revoke=[{"function": "RecordResultFunction", "actions": ["events:PutEvents"] * 2}])


@pytest.fixture
def enforcement() -> IamEnforcement:
    return IamEnforcement(region="us-east-1", account_id="123456789012", roles={}, sessions={})


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        # Invoke by alias: the qualified ARN, as the template's ":autotuner-*" grant expects
        (
            "lambda",
            "Invoke",
            {"FunctionName": "orders-api", "Qualifier": "autotuner-abc-1024"},
            [("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:orders-api:autotuner-abc-1024")],
        ),
        # A version's deletion names the version
        (
            "lambda",
            "DeleteFunction",
            {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:orders-api", "Qualifier": "7"},
            [("lambda:DeleteFunction", "arn:aws:lambda:us-east-1:123456789012:function:orders-api:7")],
        ),
        # Alias APIs authorise on the function; the alias is a parameter
        (
            "lambda",
            "CreateAlias",
            {"FunctionName": "123456789012:function:orders-api", "Name": "live", "FunctionVersion": "3"},
            [("lambda:CreateAlias", "arn:aws:lambda:us-east-1:123456789012:function:orders-api")],
        ),
        ("lambda", "ListFunctions", {}, [("lambda:ListFunctions", "*")]),
        (
            "dynamodb",
            "BatchGetItem",
            {"RequestItems": {"runs": {"Keys": []}}},
            [("dynamodb:BatchGetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/runs")],
        ),
        (
            "s3",
            "HeadObject",
            {"Bucket": "sweep", "Key": "runs/r/targets.json"},
            [("s3:GetObject", "arn:aws:s3:::sweep/runs/r/targets.json")],
        ),
        (
            "eventbridge",
            "PutEvents",
            {"Entries": [{"Source": "x"}]},
            [("events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/default")],
        ),
        ("sts", "GetCallerIdentity", {}, []),
    ],
)
def test_each_request_is_authorised_for_its_action_and_real_resource(enforcement, service, operation, params, expected):
    # When a request is mapped to what the service authorises
    found = enforcement.requests_for(service, operation, params)
    # Then the action and the resource ARN are the ones AWS evaluates
    assert [(item.action, item.resource) for item in found] == expected


@pytest.fixture(scope="module")
def aws():
    functions = [{"name": "orders-api", "tags": {"autotune": "enabled"}}, {"name": "legacy-report"}]
    with EmbeddedAws(SimulatedAccount(functions=functions)) as running:
        yield running


def _denied(call) -> ClientError:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value


def test_denied_calls_answer_with_each_services_error_shape_and_awss_message(aws):
    # Given tuner functions calling what their roles do not grant
    table = aws.stack.outputs["StateTableName"]
    with calls_made_by("MeasureConfigurationFunction"):
        dynamo = _denied(lambda: aws.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "x"}}))
    with calls_made_by("SummarizeRunFunction"):
        lam = _denied(lambda: aws.client("lambda").get_function(FunctionName="orders-api"))
    # Then DynamoDB answers 400 and Lambda 403, both AccessDeniedException
    assert (dynamo.response["Error"]["Code"], dynamo.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "AccessDeniedException",
        400,
    )
    assert (lam.response["Error"]["Code"], lam.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "AccessDeniedException",
        403,
    )
    # And the message names the session, the action, the real resource and why, in AWS's words
    message = lam.response["Error"]["Message"]
    assert re.fullmatch(
        r"User: arn:aws:sts::123456789012:assumed-role/[\w-]*SummarizeRunFunctionRole[\w-]*/[\w-]+ is not "
        r"authorized to perform: lambda:GetFunction on resource: "
        r"arn:aws:lambda:us-east-1:123456789012:function:orders-api because no identity-based policy allows "
        r"the lambda:GetFunction action",
        message,
    ), message
    table_arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}"
    assert f"dynamodb:GetItem on resource: {table_arn} because" in dynamo.response["Error"]["Message"]


def test_the_bucket_policys_tls_only_deny_refuses_plain_http(aws):
    # Given the sweep bucket with the template's TLS-only Deny, and a role allowed to write run objects
    bucket = aws.stack.outputs["SweepBucketName"]
    plain = boto3.client("s3", region_name="us-east-1", endpoint_url="http://s3.amazonaws.com")
    with calls_made_by("ValidatePermissionsFunction"):
        # When it writes over HTTPS, then over plain HTTP
        aws.client("s3").put_object(Bucket=bucket, Key="runs/r/targets.json", Body=b"[]")
        error = _denied(lambda: plain.put_object(Bucket=bucket, Key="runs/r/targets.json", Body=b"[]"))
    # Then only the plain request is refused, by the bucket policy, with S3's 403 AccessDenied
    assert (error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "AccessDenied",
        403,
    )
    assert "with an explicit deny in a resource-based policy" in error.response["Error"]["Message"]


def test_tag_scoped_grants_are_decided_on_the_functions_actual_tags(aws):
    # Given the updater's role, allowed to change only functions tagged autotune=enabled
    lam = aws.client("lambda")
    with calls_made_by("UpdateConfigurationFunction"):
        # When it changes a tagged function and an untagged one
        lam.update_function_configuration(FunctionName="orders-api", Description="tuned")
        error = _denied(lambda: lam.update_function_configuration(FunctionName="legacy-report", Description="tuned"))
    # Then only the untagged one is refused, by Lambda, naming the function
    assert error.response["Error"]["Code"] == "AccessDeniedException"
    assert (
        "lambda:UpdateFunctionConfiguration on resource: arn:aws:lambda:us-east-1:123456789012:function:legacy-report"
        in (error.response["Error"]["Message"])
    )
    assert aws.function_configuration("legacy-report").get("Description") != "tuned"
