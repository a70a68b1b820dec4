"""Deploying template.yaml into the embedded AWS: translation, intrinsics, resources, parameters."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from samtranslator.yaml_helper import yaml_parse

from emulator.stack import (
    ASSET_PATH_KEY,
    NO_VALUE,
    IntrinsicResolver,
    TemplateError,
    deploy_stack,
    physical_name,
    resolve_parameters,
    translate_template,
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
# A small template of our own, covering what the real one does not (yet)
# ---------------------------------------------------------------------------------------------

SMALL_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  BatchSize:
    Type: Number
    Default: 5
    MinValue: 1
    MaxValue: 10
  Prefix:
    Type: String
    Default: app
    AllowedPattern: "^[a-z]*$"
    ConstraintDescription: lower-case letters only
  Zones:
    Type: CommaDelimitedList
    Default: "za,zb,zc"
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
Globals:
  Function:
    Runtime: python3.13
    Handler: app.lambda_handler
    Timeout: 10
    Layers: [!Ref SharedLayer]
    Environment:
      Variables:
        STAGE: !Ref Stage
        BATCH: !Ref BatchSize
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/worker/
      MemorySize: 256
      Environment:
        Variables:
          TABLE: !Ref Table
          STREAM: !GetAtt Table.StreamArn
          TOPIC: !Ref Topic
          ZONE: !Select [1, !Ref Zones]
          JOINED: !Join ["-", [!Ref Prefix, !Ref Stage]]
          PROD_ONLY: !If [IsProd, "yes", !Ref AWS::NoValue]
      Policies:
        - DynamoDBCrudPolicy: {TableName: !Ref Table}
      Events:
        Nightly:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
  ProdOnlyFunction:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties:
      CodeUri: src/worker/
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Sub "${Prefix} alerts"
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: [{Name: FunctionName, Value: !Ref WorkerFunction}]
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: !Ref BatchSize
      ComparisonOperator: GreaterThanThreshold
      AlarmActions: [!Ref Topic]
  Dashboard:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardBody: !Sub '{"widgets": [{"type": "text", "properties": {"markdown": "${WorkerFunction}"}}]}'
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 7
  ExtraPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles: [!Ref WorkerFunctionRole]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: sns:Publish
            Resource: !Ref Topic
  Machine:
    Type: AWS::Serverless::StateMachine
    DependsOn: Logs
    Properties:
      DefinitionUri: machine.asl.json
      DefinitionSubstitutions:
        WorkerArn: !GetAtt WorkerFunction.Arn
        WaitSeconds: !Ref BatchSize
      Policies:
        - LambdaInvokePolicy: {FunctionName: !Ref WorkerFunction}
      Events:
        Hourly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 hour)
Outputs:
  WorkerName:
    Value: !Ref WorkerFunction
  ProdName:
    Condition: IsProd
    Value: !Ref ProdOnlyFunction
  Label:
    Value: !Sub "${Prefix}-${AWS::Region}-${!Literal}"
  Zones:
    Value: !Join [",", !Ref Zones]
"""

SMALL_ASL = {
    "StartAt": "Wait",
    "States": {
        "Wait": {"Type": "Wait", "Seconds": "${WaitSeconds}", "Next": "Work"},
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${WorkerArn}", "Payload.$": "$"},
            "End": True,
        },
    },
}


@pytest.fixture
def small_template(tmp_path: Path) -> Path:
    (tmp_path / "layer").mkdir()
    (tmp_path / "src" / "worker").mkdir(parents=True)
    (tmp_path / "src" / "worker" / "app.py").write_text("def lambda_handler(event, context):\n    return event\n")
    # "Seconds": ${WaitSeconds} unquoted: substitutions are text, so a number can be substituted.
    asl = json.dumps(SMALL_ASL, indent=2).replace('"${WaitSeconds}"', "${WaitSeconds}")
    (tmp_path / "machine.asl.json").write_text(asl)
    template = tmp_path / "template.yaml"
    template.write_text(SMALL_TEMPLATE)
    return template


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


# ---------------------------------------------------------------------------------------------
# Our own template: every emulated type, conditions, skipped types
# ---------------------------------------------------------------------------------------------


def test_small_template_creates_every_emulated_type(aws: Any, small_template: Path) -> None:
    # Given a template using every emulated resource type, a condition and SAM events
    # When it is deployed with its defaults (Stage=dev)
    stack = deploy_stack(small_template, stack_name="small")

    # Then the conditional function is not created and the types without emulation are listed
    assert "ProdOnlyFunction" not in stack.resources and "ProdOnlyFunction" not in stack.functions
    assert stack.conditions == {"IsProd": False, "IsDev": True}
    assert ("WorkerFunctionNightlyPermission", "AWS::Lambda::Permission") in stack.skipped
    assert "ProdName" not in stack.outputs

    # And the function's environment is resolved: Ref, GetAtt, Select, Join, NoValue, numbers as strings
    worker = stack.functions["WorkerFunction"]
    table = _client("dynamodb").describe_table(TableName=stack.resources["Table"])["Table"]
    assert worker.environment == {
        "STAGE": "dev",
        "BATCH": "5",
        "TABLE": stack.resources["Table"],
        "STREAM": table["LatestStreamArn"],
        "TOPIC": stack.resources["Topic"],
        "ZONE": "zb",
        "JOINED": "app-dev",
    }
    assert worker.memory_size == 256 and worker.timeout == 10
    assert worker.code_dir == small_template.parent / "src" / "worker"
    assert worker.layer_dirs == (small_template.parent / "layer",)

    # And the other resources exist in their services
    assert _client("sns").get_topic_attributes(TopicArn=stack.resources["Topic"])["Attributes"]["DisplayName"] == (
        "app alerts"
    )
    alarm = _client("cloudwatch").describe_alarms(AlarmNames=[stack.resources["Alarm"]])["MetricAlarms"][0]
    assert alarm["Threshold"] == 5.0 and alarm["AlarmActions"] == [stack.resources["Topic"]]
    body = _client("cloudwatch").get_dashboard(DashboardName=stack.resources["Dashboard"])["DashboardBody"]
    assert worker.name in body
    group = _client("logs").describe_log_groups(logGroupNamePrefix=stack.resources["Logs"])["logGroups"][0]
    assert group["retentionInDays"] == 7 and stack.resources["Logs"].startswith("small-Logs-")
    rule_id = next(lid for lid, kind in stack.resource_types.items() if kind == "AWS::Events::Rule")
    targets = _client("events").list_targets_by_rule(Rule=stack.resources[rule_id])["Targets"]
    assert [target["Arn"] for target in targets] == [worker.arn]
    schedule_id = next(lid for lid, kind in stack.resource_types.items() if kind == "AWS::Scheduler::Schedule")
    schedule = _client("scheduler").get_schedule(Name=stack.resources[schedule_id])
    assert schedule["Target"]["Arn"] == stack.state_machine_arn
    attached = _client("iam").list_attached_role_policies(RoleName=stack.resources["WorkerFunctionRole"])
    assert stack.resources["ExtraPolicy"] in [p["PolicyArn"] for p in attached["AttachedPolicies"]]

    # And the state machine has both substitutions, the number unquoted
    assert stack.state_machine_definition["States"]["Wait"]["Seconds"] == 5
    assert stack.state_machine_definition["States"]["Work"]["Parameters"]["FunctionName"] == worker.arn

    # And the outputs resolve Sub escapes, pseudo parameters and list parameters
    assert stack.outputs == {
        "WorkerName": worker.name,
        "Label": "app-us-east-1-${Literal}",
        "Zones": "za,zb,zc",
    }


def test_small_template_condition_true_creates_the_conditional_resources(aws: Any, small_template: Path) -> None:
    # Given Stage=prod
    # When the template is deployed
    stack = deploy_stack(small_template, stack_name="small", parameters={"Stage": "prod", "BatchSize": 3})

    # Then the conditional function, output and environment variable exist
    assert "ProdOnlyFunction" in stack.functions
    assert stack.outputs["ProdName"] == stack.functions["ProdOnlyFunction"].name
    assert stack.functions["WorkerFunction"].environment["PROD_ONLY"] == "yes"
    assert stack.functions["WorkerFunction"].environment["BATCH"] == "3"


def test_long_stack_names_give_names_within_limits(aws: Any, small_template: Path) -> None:
    # Given a stack name near CloudFormation's limit
    stack_name = "s" + "-very-long-stack-name" * 6

    # When the template is deployed
    stack = deploy_stack(small_template, stack_name=stack_name)

    # Then generated function and role names keep within 64 characters and stay distinct
    roles = [stack.resources[lid] for lid, kind in stack.resource_types.items() if kind == "AWS::IAM::Role"]
    names = [function.name for function in stack.functions.values()] + roles
    assert all(len(name) <= 64 for name in names)
    assert len(set(names)) == len(names)


def test_unresolved_definition_placeholder_is_refused(aws: Any, small_template: Path) -> None:
    # Given a definition file naming a substitution the template does not define
    asl = small_template.parent / "machine.asl.json"
    asl.write_text(asl.read_text().replace("${WorkerArn}", "${MissingArn}"))

    # When it is deployed, Then the placeholder is named
    with pytest.raises(TemplateError, match="MissingArn"):
        deploy_stack(small_template)


def test_missing_definition_file_is_reported(aws: Any, small_template: Path) -> None:
    # Given a template whose DefinitionUri file is absent
    (small_template.parent / "machine.asl.json").unlink()

    # When it is deployed, Then the error names the resource
    with pytest.raises(TemplateError, match=r"Machine.*machine\.asl\.json"):
        deploy_stack(small_template)


def test_deploy_outside_a_mock_is_refused(small_template: Path) -> None:
    # Given no active moto mock
    # When deploying, Then it refuses rather than calling real AWS
    with pytest.raises(RuntimeError, match="mock_aws"):
        deploy_stack(small_template)


def test_plain_cloudformation_dependencies_and_cycles(aws: Any, tmp_path: Path) -> None:
    # Given a template without the SAM transform whose resources refer to each other out of order
    template = tmp_path / "cfn.yaml"
    template.write_text(
        textwrap.dedent(
            """\
            Resources:
              Queue:
                Type: AWS::SNS::Topic
                Properties:
                  TopicName: !Sub "${Group}-topic"
              Group:
                Type: AWS::Logs::LogGroup
                Properties:
                  LogGroupName: explicit-group
              Later:
                Type: AWS::Lambda::Permission
                DependsOn: Queue
                Properties: {}
            """
        )
    )

    # When it is deployed, Then references are created first and unknown types skipped
    stack = deploy_stack(template, stack_name="plain")
    assert list(stack.resources) == ["Group", "Queue"]
    assert stack.resources["Queue"].endswith(":explicit-group-topic")
    assert stack.skipped == [("Later", "AWS::Lambda::Permission")]

    # Given a cycle, When it is deployed, Then the cycle is reported
    template.write_text(template.read_text().replace("LogGroupName: explicit-group", "LogGroupName: !Ref Queue"))
    with pytest.raises(TemplateError, match="Circular"):
        deploy_stack(template, stack_name="plain2")


# ---------------------------------------------------------------------------------------------
# Translation
# ---------------------------------------------------------------------------------------------


def test_translate_records_local_folders_and_inlines_the_definition(small_template: Path) -> None:
    # Given a SAM template with local CodeUri/ContentUri/DefinitionUri
    # When it is translated
    template = translate_template(small_template, REGION)

    # Then no Serverless type remains, code points at the artifact bucket and the local folder is recorded
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert not [kind for kind in types if kind.startswith("AWS::Serverless::")]
    worker = template["Resources"]["WorkerFunction"]
    assert worker["Properties"]["Code"] == {"S3Bucket": "embedded-artifacts", "S3Key": "src/worker"}
    assert worker["Metadata"][ASSET_PATH_KEY] == str(small_template.parent / "src" / "worker")
    assert set(worker["Properties"]["Environment"]["Variables"]) >= {
        "STAGE",
        "BATCH",
        "TABLE",
    }  # Globals merged
    machine = template["Resources"]["Machine"]["Properties"]
    assert machine["DefinitionString"] == (small_template.parent / "machine.asl.json").read_text()
    assert set(machine["DefinitionSubstitutions"]) == {"WorkerArn", "WaitSeconds"}


# ---------------------------------------------------------------------------------------------
# Parameters and names
# ---------------------------------------------------------------------------------------------


def test_resolve_parameters_applies_defaults_overrides_and_constraints() -> None:
    # Given declarations with each kind of constraint
    declarations = _raw_small()["Parameters"]

    # When values are resolved, Then defaults are strings and overrides win
    assert resolve_parameters(declarations) == {
        "Stage": "dev",
        "BatchSize": "5",
        "Prefix": "app",
        "Zones": "za,zb,zc",
    }
    assert resolve_parameters(declarations, {"BatchSize": 10, "Zones": ["x", "y"]})["Zones"] == "x,y"

    # And each violated constraint is reported with the parameter's name
    for overrides, message in [
        ({"Nope": "1"}, "Unknown parameter.*Nope"),
        ({"Stage": "qa"}, "Stage.*allowed values"),
        ({"BatchSize": "11"}, "BatchSize.*MaxValue 10"),
        ({"BatchSize": "many"}, "BatchSize.*not a number"),
        ({"Prefix": "App"}, "Prefix.*AllowedPattern.*lower-case letters only"),
    ]:
        with pytest.raises(ValueError, match=message):
            resolve_parameters(declarations, overrides)


def _raw_small() -> dict[str, Any]:
    return yaml_parse(SMALL_TEMPLATE)


def test_physical_names_are_deterministic_and_bounded() -> None:
    # Given a long stack name and logical id
    stack, logical_id = "a" * 100, "VeryLongLogicalIdForAFunction"

    # When names are generated, Then they fit, keep both parts and repeat for the same input
    name = physical_name(stack, logical_id, 64)
    assert len(name) <= 64 and name.startswith("aaa") and "-VeryLong" in name
    assert name == physical_name(stack, logical_id, 64)
    assert physical_name("s", "Fn") != physical_name("s", "Fn2")
    assert physical_name("s", "Machine", 80, with_stack=False).startswith("Machine-")


# ---------------------------------------------------------------------------------------------
# Intrinsic functions
# ---------------------------------------------------------------------------------------------


def _resolver(**conditions: Any) -> IntrinsicResolver:
    return IntrinsicResolver(
        {"Env": "prod", "Count": "3", "Names": ["a", "b"], "Empty": ""},
        conditions={
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "IsEmpty": {"Fn::Equals": ["", {"Ref": "Empty"}]},
            "ProdAndEmpty": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "IsEmpty"}]},
            "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
            "NotProdOrEmpty": {"Fn::Or": [{"Condition": "NotProd"}, {"Condition": "IsEmpty"}]},
            "CountIsThree": {"Fn::Equals": [{"Ref": "Count"}, 3]},
            **conditions,
        },
        mappings={"Sizes": {"prod": {"Memory": 1024}}},
        refs={"Table": "my-table"},
        attributes={("Table", "Arn"): "arn:aws:dynamodb:us-east-1:123456789012:table/my-table"},
        unavailable={"Gone": "resource Gone is not created (condition X is false)"},
    )


def test_sub_with_variables_pseudo_parameters_attributes_and_escapes() -> None:
    # Given a resolver with parameters and a deployed table
    resolver = _resolver()

    # When Fn::Sub strings are resolved, Then each kind of variable is replaced
    assert resolver.resolve({"Fn::Sub": "${AWS::Region}:${Env}:${Table}:${Table.Arn}"}) == (
        "us-east-1:prod:my-table:arn:aws:dynamodb:us-east-1:123456789012:table/my-table"
    )
    assert resolver.resolve({"Fn::Sub": ["${Name}-${Env}", {"Name": {"Ref": "Table"}, "Env": "local"}]}) == (
        "my-table-local"
    )
    assert resolver.resolve({"Fn::Sub": "${!Literal}-${Count}"}) == "${Literal}-3"
    with pytest.raises(TemplateError, match="Unknown"):
        resolver.resolve({"Fn::Sub": "${Unknown}"})


def test_if_and_conditions() -> None:
    # Given conditions built from Equals, Not, And, Or and Condition
    resolver = _resolver()

    # When they are evaluated, Then each has CloudFormation's value
    assert resolver.condition("IsProd") is True
    assert resolver.condition("ProdAndEmpty") is True
    assert resolver.condition("NotProd") is False
    assert resolver.condition("NotProdOrEmpty") is True
    assert resolver.condition("CountIsThree") is True  # "3" equals 3, as in CloudFormation
    assert resolver.resolve({"Fn::If": ["NotProd", "a", {"Ref": "Env"}]}) == "prod"
    # And the branch not taken is not resolved, so it may name a resource that was not created
    assert resolver.resolve({"Fn::If": ["IsProd", "kept", {"Ref": "Gone"}]}) == "kept"
    with pytest.raises(TemplateError, match="condition X is false"):
        resolver.resolve({"Fn::If": ["NotProd", "kept", {"Ref": "Gone"}]})
    with pytest.raises(TemplateError, match="refers to itself"):
        _resolver(Loop={"Fn::Not": [{"Condition": "Loop"}]}).condition("Loop")


def test_no_value_removes_keys_and_items() -> None:
    # Given a fragment with AWS::NoValue directly and through Fn::If
    resolver = _resolver()
    fragment = {
        "Kept": "yes",
        "Dropped": {"Ref": "AWS::NoValue"},
        "Conditional": {"Fn::If": ["NotProd", "x", {"Ref": "AWS::NoValue"}]},
        "List": ["a", {"Ref": "AWS::NoValue"}, {"Fn::If": ["IsProd", "b", {"Ref": "AWS::NoValue"}]}],
    }

    # When it is resolved, Then the keys and items are gone
    assert resolver.resolve(fragment) == {"Kept": "yes", "List": ["a", "b"]}
    assert resolver.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_join_select_split_and_friends() -> None:
    # Given a resolver with a list parameter
    resolver = _resolver()

    # When list functions are combined, Then they compose like CloudFormation's
    assert resolver.resolve({"Fn::Join": [":", ["a", {"Ref": "Count"}, {"Ref": "Table"}]]}) == "a:3:my-table"
    assert resolver.resolve({"Fn::Join": [",", {"Ref": "Names"}]}) == "a,b"
    assert resolver.resolve({"Fn::Select": ["1", {"Ref": "Names"}]}) == "b"
    assert resolver.resolve({"Fn::Select": [2, {"Fn::Split": ["/", "x/y/z"]}]}) == "z"
    assert resolver.resolve({"Fn::Split": [",", {"Fn::Join": [",", {"Ref": "Names"}]}]}) == ["a", "b"]
    assert resolver.resolve({"Fn::Select": [0, {"Fn::GetAZs": ""}]}) == "us-east-1a"
    assert resolver.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]}) == 1024
    assert resolver.resolve({"Fn::GetAtt": "Table.Arn"}).endswith(":table/my-table")
    with pytest.raises(TemplateError, match="out of range"):
        resolver.resolve({"Fn::Select": [5, {"Ref": "Names"}]})
    with pytest.raises(TemplateError, match="not supported"):
        resolver.resolve({"Fn::ImportValue": "shared"})
