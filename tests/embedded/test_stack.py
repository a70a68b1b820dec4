"""Deploying template.yaml into the embedded AWS (our small template: test_stack_small_template.py; intrinsics:
test_stack_intrinsics.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from samtranslator.yaml_helper import yaml_parse

from emulator.stack import (
    deploy_stack,
)

ROOT = Path(__file__).resolve().parents[2]
REAL_TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"


@pytest.fixture
def aws() -> Any:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


def _client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def _raw(template: Path) -> dict[str, Any]:
    return yaml_parse(template.read_text())


def _missing_definitions(template: Path) -> list[str]:
    """Local DefinitionUri files the template names that do not exist (yet)."""
    missing = []
    for resource in _raw(template)["Resources"].values():
        uri = resource.get("Properties", {}).get("DefinitionUri")
        if isinstance(uri, str) and "://" not in uri and not (template.parent / uri).is_file():
            missing.append(uri)
    return missing


needs_real_asl = pytest.mark.skipif(
    bool(_missing_definitions(REAL_TEMPLATE)),
    reason=f"template.yaml names definition files not written yet: {_missing_definitions(REAL_TEMPLATE)}",
)


def _inline_statements(role_name: str) -> list[dict[str, Any]]:
    iam = _client("iam")
    statements = []
    for policy_name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        found = document["Statement"]
        statements.extend(found if isinstance(found, list) else [found])
    return statements


# ---------------------------------------------------------------------------------------------
# The real template
# ---------------------------------------------------------------------------------------------


@needs_real_asl
def test_real_template_functions_get_globals_and_resolved_references(aws: Any) -> None:
    # Given the project's template
    # When it is deployed with its default parameters
    stack = deploy_stack(REAL_TEMPLATE)

    # Then every SAM function exists in Lambda with the environment the stack reports
    raw_functions = [
        logical_id
        for logical_id, resource in _raw(REAL_TEMPLATE)["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    assert sorted(stack.functions) == sorted(raw_functions)
    lam = _client("lambda")
    for function in stack.functions.values():
        configuration = lam.get_function_configuration(FunctionName=function.name)
        assert configuration["FunctionArn"] == function.arn
        assert configuration["Environment"]["Variables"] == function.environment
        assert configuration["Role"] == function.role_arn
        assert configuration["MemorySize"] == function.memory_size
        assert configuration["Timeout"] == function.timeout
        assert configuration["Architectures"] == ["arm64"]
        assert function.code_dir == ROOT / "functions" / function.code_dir.name
        assert function.handler == "app.lambda_handler"
        assert len(function.name) <= 64
        # Globals reached every function: layer, tracing, the stack-wide variables, CloudFormation tags
        assert [layer["Arn"] for layer in configuration["Layers"]] == list(function.layers)
        assert function.layer_dirs == (ROOT / "layers" / "common",)
        assert configuration["TracingConfig"]["Mode"] == "Active"
        assert function.environment["TUNER_STACK_NAME"] == "lambda-autotuner"
        assert function.environment["TARGET_TAG_KEY"] == "autotune"
        assert function.environment["TARGET_TAG_VALUE"] == "enabled"
        tags = lam.list_tags(Resource=function.arn)["Tags"]
        assert tags["aws:cloudformation:logical-id"] == function.logical_id
        assert tags["aws:cloudformation:stack-name"] == "lambda-autotuner"

    # And references resolve to the deployed resources
    iam = _client("iam")
    validate = stack.functions["ValidatePermissionsFunction"].environment
    discover_role = stack.resources["DiscoverResourcesFunctionRole"]
    assert validate["DISCOVER_ROLE_ARN"] == iam.get_role(RoleName=discover_role)["Role"]["Arn"]
    table_name = stack.resources["RunHistoryTable"]
    table_arn = _client("dynamodb").describe_table(TableName=table_name)["Table"]["TableArn"]
    assert validate["RUN_HISTORY_TABLE_ARN"] == table_arn
    assert stack.functions["RecordResultFunction"].environment["RUN_HISTORY_TABLE"] == table_name
    assert not [value for f in stack.functions.values() for value in f.environment.values() if "${" in value]


@needs_real_asl
def test_real_template_table_roles_logs_and_outputs(aws: Any) -> None:
    # Given the project's template and what it declares
    raw = _raw(REAL_TEMPLATE)["Resources"]
    table_spec = raw["RunHistoryTable"]["Properties"]

    # When it is deployed
    stack = deploy_stack(REAL_TEMPLATE)

    # Then the table has the declared keys, indexes, TTL, point-in-time recovery and encryption
    ddb = _client("dynamodb")
    table_name = stack.resources["RunHistoryTable"]
    table = ddb.describe_table(TableName=table_name)["Table"]
    assert table["KeySchema"] == table_spec["KeySchema"]
    assert sorted(index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])) == sorted(
        index["IndexName"] for index in table_spec.get("GlobalSecondaryIndexes", [])
    )
    assert table["SSEDescription"]["Status"] == "ENABLED"
    ttl = ddb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    assert ttl == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": table_spec["TimeToLiveSpecification"]["AttributeName"],
    }
    backups = ddb.describe_continuous_backups(TableName=table_name)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"

    # And each function role carries the template's inline statements (by Sid) and the managed policies
    iam = _client("iam")
    for logical_id, function in stack.functions.items():
        role_name = function.role_arn.rsplit("/", 1)[1]
        deployed_sids = {statement.get("Sid") for statement in _inline_statements(role_name)}
        declared_sids = {
            statement["Sid"]
            for policy in raw[logical_id]["Properties"].get("Policies", [])
            if isinstance(policy, dict) and "Statement" in policy
            for statement in policy["Statement"]
            if "Sid" in statement  # statements inside Fn::If are checked below
        }
        assert declared_sids <= deployed_sids, logical_id
        attached = {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]}
        assert {"AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"} <= attached
    simulate = next(
        s
        for s in _inline_statements(stack.resources["ValidatePermissionsFunctionRole"])
        if s.get("Sid") == "SimulateWorkerRoles"
    )
    assert set(simulate["Resource"]) >= {
        stack.functions["ValidatePermissionsFunction"].environment["DISCOVER_ROLE_ARN"]
    }
    update_role = stack.functions["UpdateConfigurationFunction"].role_arn.rsplit("/", 1)[1]
    tag_conditions = [s["Condition"] for s in _inline_statements(update_role) if "Condition" in s]
    assert {"StringEquals": {"aws:ResourceTag/autotune": "enabled"}} in tag_conditions

    # And the log groups have the parameter's retention
    logs = _client("logs")
    for logical_id, resource in raw.items():
        if resource["Type"] == "AWS::Logs::LogGroup":
            name = stack.resources[logical_id]
            group = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
            assert group["retentionInDays"] == int(stack.parameters["LogRetentionDays"])

    # And every output is a resolved string; Ref outputs equal the resources' physical ids
    for output_name, output in _raw(REAL_TEMPLATE).get("Outputs", {}).items():
        value = stack.outputs[output_name]
        assert isinstance(value, str) and "${" not in value and "Ref" not in value
        if isinstance(output["Value"], dict) and "Ref" in output["Value"]:
            assert value == stack.resources[output["Value"]["Ref"]]
    # And nothing but Lambda's extras (permissions, versions, aliases) is left out of the emulation
    assert [(lid, kind) for lid, kind in stack.skipped if not kind.startswith("AWS::Lambda::")] == []


@needs_real_asl
def test_real_template_state_machine_is_the_definition_file_with_arns(aws: Any) -> None:
    # Given the project's template and its definition file
    machine_id, machine = next(
        (logical_id, resource)
        for logical_id, resource in _raw(REAL_TEMPLATE)["Resources"].items()
        if resource["Type"] == "AWS::Serverless::StateMachine"
    )
    properties = machine["Properties"]
    file_text = (ROOT / properties["DefinitionUri"]).read_text()

    # When the template is deployed
    stack = deploy_stack(REAL_TEMPLATE)

    # Then the executing Step Functions backend knows the state machine, with substitutions resolved
    described = _client("stepfunctions").describe_state_machine(stateMachineArn=stack.state_machine_arn)
    assert stack.resources[machine_id] == stack.state_machine_arn
    assert "${" not in described["definition"]
    assert json.loads(described["definition"]) == stack.state_machine_definition
    expected = file_text
    for key, value in properties.get("DefinitionSubstitutions", {}).items():
        if "Fn::GetAtt" in value and value["Fn::GetAtt"][0] in stack.functions:
            resolved = stack.functions[value["Fn::GetAtt"][0]].arn
        elif "Ref" in value:
            resolved = stack.resources.get(value["Ref"]) or stack.parameters[value["Ref"]]
        else:
            pytest.fail(f"teach this test how to resolve substitution {key}: {value}")
        expected = expected.replace("${" + key + "}", resolved)
    assert described["definition"] == expected  # the file's own text, not a re-serialisation
    for function in stack.functions.values():
        if function.arn in expected:
            assert function.arn in described["definition"]

    # And its role, logging and tracing are as declared
    assert described["type"] == properties.get("Type", "STANDARD")
    assert described["roleArn"].endswith("/" + stack.resources[f"{machine_id}Role"])
    assert described["tracingConfiguration"] == {"enabled": True}
    destination = described["loggingConfiguration"]["destinations"][0]["cloudWatchLogsLogGroup"]["logGroupArn"]
    assert destination == f"arn:aws:logs:{REGION}:123456789012:log-group:{stack.resources['StateMachineLogGroup']}:*"


@needs_real_asl
def test_real_template_parameter_overrides_reach_environment_and_policies(aws: Any) -> None:
    # Given an empty tag value (no tag scoping) and other overrides
    parameters = {"TargetTagValue": "", "LogLevel": "DEBUG", "LogRetentionDays": "7"}

    # When the template is deployed with them
    stack = deploy_stack(REAL_TEMPLATE, stack_name="tuner-test", parameters=parameters)

    # Then the condition turns the tag key off, the env reflects them and the policies drop the tag condition
    assert stack.conditions["HasTagScope"] is False
    for function in stack.functions.values():
        assert function.environment["TARGET_TAG_KEY"] == ""
        assert function.environment["TARGET_TAG_VALUE"] == ""
        assert function.environment["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
        assert function.environment["TUNER_STACK_NAME"] == "tuner-test"
    update_role = stack.functions["UpdateConfigurationFunction"].role_arn.rsplit("/", 1)[1]
    assert not [s for s in _inline_statements(update_role) if "aws:ResourceTag/autotune" in json.dumps(s)]
    assert stack.parameters["LogRetentionDays"] == "7"
    assert stack.parameters["RunRecordRetentionDays"] == "90"  # untouched default
    group = _client("logs").describe_log_groups(logGroupNamePrefix=stack.resources["StateMachineLogGroup"])
    assert group["logGroups"][0]["retentionInDays"] == 7


def test_real_template_rejects_unknown_and_invalid_parameters(aws: Any) -> None:
    # Given the project's template
    # When an undeclared parameter is given, Then the error names it
    with pytest.raises(ValueError, match="TargetTagVaIue"):
        deploy_stack(REAL_TEMPLATE, parameters={"TargetTagVaIue": "x"})
    # When a value breaks AllowedValues / AllowedPattern / MinValue, Then the error says which rule
    with pytest.raises(ValueError, match=r"LogLevel.*allowed values"):
        deploy_stack(REAL_TEMPLATE, parameters={"LogLevel": "TRACE"})
    with pytest.raises(ValueError, match=r"TargetNamePrefix.*AllowedPattern"):
        deploy_stack(REAL_TEMPLATE, parameters={"TargetNamePrefix": "bad prefix!"})
    with pytest.raises(ValueError, match=r"RunRecordRetentionDays.*MinValue"):
        deploy_stack(REAL_TEMPLATE, parameters={"RunRecordRetentionDays": "0"})
    # And nothing was created
    assert _client("lambda").list_functions()["Functions"] == []
