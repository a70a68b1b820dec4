"""The regulated-account deploy parameters, deployed into the embedded AWS: defaults, each one set, bad values.

PermissionsBoundary, SubnetIds/SecurityGroupIds and NamePrefix (template.yaml, docs/deploy.md) are
checked where they take effect: on the roles, functions, state machine and log groups the stack
creates, in the policies that name them, and in runs of the tuner under a prefix and a boundary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator.account import SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws
from emulator.stack import DeployedStack, TemplateError, deploy_stack

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess"  # everything but IAM
LAMBDA_EXECUTE = "arn:aws:iam::aws:policy/AWSLambdaExecute"  # logs and S3 only: no network interfaces


@pytest.fixture
def aws() -> Any:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


def _client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def _roles(stack: DeployedStack) -> list[str]:
    return [stack.resources[lid] for lid, kind in stack.resource_types.items() if kind == "AWS::IAM::Role"]


def _vpc() -> tuple[str, str]:
    """A subnet and a security group of a new VPC."""
    ec2 = _client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="tuner", Description="tuner functions", VpcId=vpc)["GroupId"]
    return subnet, group


def _statements(role: str) -> list[dict[str, Any]]:
    iam = _client("iam")
    found = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        statements = document["Statement"]
        found += statements if isinstance(statements, list) else [statements]
    return found


def test_defaults_keep_todays_names_and_add_no_boundary_or_vpc(aws: Any) -> None:
    # Given the template with every parameter at its default
    # When it is deployed
    stack = deploy_stack(TEMPLATE)
    # Then the names are those of a deployment without the new parameters
    assert stack.state_machine_arn.endswith(":stateMachine:lambda-autotuner-tuner")
    names = {lid: function.name for lid, function in stack.functions.items()}
    assert names.pop("ValidatePermissionsFunction") == "lambda-autotuner-ValidatePermissions"
    assert all(name.startswith(f"lambda-autotuner-{lid}-") for lid, name in names.items())  # generated
    assert stack.outputs["DashboardName"] == "lambda-autotuner-autotuner"
    # And no role has a boundary, no function is in a VPC
    iam, lam = _client("iam"), _client("lambda")
    assert [role for role in _roles(stack) if "PermissionsBoundary" in iam.get_role(RoleName=role)["Role"]] == []
    assert all(not lam.get_function_configuration(FunctionName=n).get("VpcConfig") for n in names.values())
    # And the network-interface actions SAM's VPC policy grants are denied on every function role
    for function in stack.functions.values():
        denies = [s for s in _statements(function.role_arn.rsplit("/", 1)[1]) if s["Effect"] == "Deny"]
        assert [s["Sid"] for s in denies] == ["NoNetworkInterfacesOutsideVpc"]
        assert "ec2:CreateNetworkInterface" in denies[0]["Action"]


def test_name_prefix_goes_before_every_name_and_every_arn_that_names_them(aws: Any) -> None:
    # Given a name prefix
    # When the template is deployed with it
    stack = deploy_stack(TEMPLATE, stack_name="tuner", parameters={"NamePrefix": "acme-"})
    # Then the state machine, every function, their log groups and the dashboard carry it
    assert stack.state_machine_arn == f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:acme-tuner-tuner"
    for lid, function in stack.functions.items():
        assert function.name == f"acme-tuner-{lid.removesuffix('Function')}"
        assert function.logging_config["LogGroup"] == f"/aws/lambda/{function.name}"
    groups = [g["logGroupName"] for g in _client("logs").describe_log_groups()["logGroups"]]
    assert "/aws/vendedlogs/states/acme-tuner-TunerStateMachine" in groups
    assert all(g.startswith(("/aws/lambda/acme-tuner-", "/aws/vendedlogs/states/acme-tuner-")) for g in groups)
    assert stack.outputs["DashboardName"] == "acme-tuner-autotuner"
    # And the policies that name the state machine name the prefixed one
    machine_role = stack.resources["TunerStateMachineRole"]
    started = [s for s in _statements(machine_role) if s.get("Sid") == "DistributedMapChildren"]
    assert started[0]["Resource"] == stack.state_machine_arn
    summarize_role = stack.functions["SummarizeRunFunction"].role_arn.rsplit("/", 1)[1]
    checks = [s for s in _statements(summarize_role) if s.get("Sid") == "CheckShadowExecutions"]
    assert checks[0]["Resource"].endswith(":execution:acme-tuner-tuner:*")


def test_permissions_boundary_is_set_on_every_role_the_stack_creates(aws: Any) -> None:
    # Given a permissions boundary
    # When the template is deployed with it
    stack = deploy_stack(TEMPLATE, parameters={"PermissionsBoundary": POWER_USER})
    # Then every role (11 functions, the state machine, the schedule, the event rule) has it
    roles = _roles(stack)
    assert len(roles) == len(stack.functions) + 3
    iam = _client("iam")
    for role in roles:
        assert iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == POWER_USER


def test_a_boundary_that_does_not_exist_fails_the_deployment(aws: Any) -> None:
    # Given a boundary ARN naming no policy
    missing = f"arn:aws:iam::{ACCOUNT_ID}:policy/not-there"
    # When the template is deployed with it, Then IAM refuses the first role
    with pytest.raises(ClientError, match="NoSuchEntity") as raised:
        deploy_stack(TEMPLATE, parameters={"PermissionsBoundary": missing})
    assert any("Role (AWS::IAM::Role)" in note for note in raised.value.__notes__)


def test_subnets_and_security_groups_put_every_function_in_the_vpc(aws: Any) -> None:
    # Given a subnet and a security group that exist
    subnet, group = _vpc()
    # When the template is deployed into them
    stack = deploy_stack(TEMPLATE, parameters={"SubnetIds": subnet, "SecurityGroupIds": group})
    # Then every function is attached to them
    lam = _client("lambda")
    for function in stack.functions.values():
        vpc = lam.get_function_configuration(FunctionName=function.name)["VpcConfig"]
        assert (vpc["SubnetIds"], vpc["SecurityGroupIds"]) == ([subnet], [group])
    # And the network-interface actions are not denied there
    assert "NoNetworkInterfacesOutsideVpc" not in stack.resources
    for function in stack.functions.values():
        assert [s for s in _statements(function.role_arn.rsplit("/", 1)[1]) if s["Effect"] == "Deny"] == []


def test_vpc_deployment_is_refused_as_lambda_refuses_it(aws: Any) -> None:
    subnet, group = _vpc()
    # Given subnets without security groups, Then the template's rule refuses them before anything exists
    with pytest.raises(TemplateError, match="SubnetsNeedSecurityGroups: SubnetIds is set"):
        deploy_stack(TEMPLATE, parameters={"SubnetIds": subnet})
    with pytest.raises(TemplateError, match="SecurityGroupsNeedSubnets"):
        deploy_stack(TEMPLATE, parameters={"SecurityGroupIds": group})
    assert _client("iam").list_roles()["Roles"] == []
    # Given a subnet that does not exist, Then Lambda's CreateFunction refuses it
    with pytest.raises(ClientError, match=r"InvalidSubnetID\.NotFound"):
        deploy_stack(
            TEMPLATE, stack_name="ghost", parameters={"SubnetIds": "subnet-0badc0de", "SecurityGroupIds": group}
        )
    # Given a boundary that does not allow network interfaces, Then Lambda refuses the execution role
    with pytest.raises(ClientError, match="does not have permissions to call CreateNetworkInterface on EC2"):
        deploy_stack(
            TEMPLATE,
            stack_name="bounded",
            parameters={"SubnetIds": subnet, "SecurityGroupIds": group, "PermissionsBoundary": LAMBDA_EXECUTE},
        )


def test_bad_values_of_the_new_parameters_name_the_parameter(aws: Any) -> None:
    cases = {
        "NamePrefix": "acme_corp!",
        "PermissionsBoundary": "arn:aws:iam::123456789012:role/not-a-policy",
        "SubnetIds": "subnet-1,vpc-2",
        "SecurityGroupIds": "sg-xyz",
    }
    for name, value in cases.items():
        with pytest.raises(TemplateError, match=rf"Parameter {name}: .* does not match AllowedPattern"):
            deploy_stack(TEMPLATE, parameters={name: value})
    with pytest.raises(TemplateError, match=r"NamePrefix: .* longer than MaxLength 20"):
        deploy_stack(TEMPLATE, parameters={"NamePrefix": "a" * 21})


# --- runs of the tuner deployed with a prefix and a boundary ---------------------------------------

TARGET = SimulatedFunction(
    name="orders-api", memory_size=512, timeout=30, tags={"autotune": "enabled"}, profile={"preset": "light"}
)
FAST = {"StatusPollIntervalMs": "20", "MaxStatusWaitSeconds": "5"}


def test_a_prefixed_bounded_stack_tunes_and_applies() -> None:
    # Given the tuner deployed with a name prefix and a boundary that allows what it needs
    account = SimulatedAccount(
        functions=[TARGET], parameters={**FAST, "NamePrefix": "acme-", "PermissionsBoundary": ADMIN}
    )
    with EmbeddedAws(account) as aws:
        assert aws.stack is not None and ":stateMachine:acme-lambda-autotuner-tuner" in aws.stack.state_machine_arn
        # When a run applies a fixed size
        report = aws.run({"targets": ["orders-api"], "memorySize": 1024, "apply": True})
        # Then it succeeds, the target has the new size and the run is recorded
        assert report.status == "SUCCEEDED", report.cause
        assert aws.function_configuration("orders-api")["MemorySize"] == 1024
        assert [record["outcome"] for record in report.records] == ["APPLIED"]


def test_a_boundary_that_withholds_what_the_tuner_needs_fails_the_run_in_pre_flight() -> None:
    # Given the tuner deployed with a boundary that allows no IAM action (PowerUserAccess)
    account = SimulatedAccount(functions=[TARGET], parameters={**FAST, "PermissionsBoundary": POWER_USER})
    with EmbeddedAws(account) as aws:
        # When a run would apply a size
        report = aws.run({"targets": ["orders-api"], "memorySize": 1024, "apply": True})
        # Then it fails before changing anything, saying which IAM action was denied
        assert report.status == "FAILED"
        assert "iam:SimulatePrincipalPolicy" in (report.cause or "")
        assert not [call for call in report.mutating_calls if call.startswith("lambda:")]
        assert aws.function_configuration("orders-api")["MemorySize"] == 512


def test_a_function_name_over_64_characters_is_refused() -> None:
    # Given a prefix and stack name that make names longer than Lambda allows (20 + 30 + 20 characters)
    account = SimulatedAccount(stack_name="s" * 30, parameters={**FAST, "NamePrefix": "p" * 20})
    # When the embedded AWS deploys the stack, Then Lambda refuses the first long function name
    refused = pytest.raises(
        ClientError, match="at 'functionName' failed to satisfy constraint: Member must have length"
    )
    with refused, EmbeddedAws(account):
        pass
