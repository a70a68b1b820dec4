"""Deploying a small template of our own into the embedded AWS: every emulated type, conditions, translation.

(template.yaml itself: test_stack.py; parameters, names and intrinsics: test_stack_intrinsics.py.)
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from small_stack import write_small_template

from emulator.stack import (
    ASSET_PATH_KEY,
    TemplateError,
    deploy_stack,
    translate_template,
)

REGION = "us-east-1"


@pytest.fixture
def aws() -> Any:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


def _client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


@pytest.fixture
def small_template(tmp_path: Path) -> Path:
    return write_small_template(tmp_path)


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
