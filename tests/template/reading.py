"""template.yaml as the checks read it: the SAM template, its CloudFormation, and what its roles grant.

The baselines SAM adds to every function role (logs, X-Ray, the VPC policy) and the walkers over
statements, roles and intrinsic functions the template tests share.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autotuner_core.policy.permissions import PRINCIPALS, principal

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"

# The only permissions each function's role may hold, besides the baseline below: the manifest's.
FUNCTION_ACTIONS: dict[str, set[str]] = {
    entry.logical_id: entry.actions for entry in PRINCIPALS if entry.logical_id != "TunerStateMachine"
}
STATE_MACHINE_ACTIONS = principal("TunerStateMachine").actions

# AWS managed policies SAM attaches to every function role, with the actions AWS publishes for them:
# writing its own logs (AWSLambdaBasicExecutionRole) and X-Ray segments for Tracing: Active.
LAMBDA_BASIC_LOGS = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
XRAY_WRITE = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
}
# SAM attaches AWSLambdaVPCAccessExecutionRole to every function role because Globals sets a VpcConfig
# (an Fn::If); its network-interface actions are denied outside a VPC (NoNetworkInterfacesOutsideVpc),
# its read-only ec2:DescribeSubnets is not (PrepareMeasurement needs it for shadows of targets in a VPC).
VPC_NETWORK_INTERFACES = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}
VPC_DESCRIBE_SUBNETS = {"ec2:DescribeSubnets"}
KNOWN_MANAGED_POLICIES: dict[str, set[str]] = {
    "AWSLambdaBasicExecutionRole": LAMBDA_BASIC_LOGS,
    "AWSXrayWriteOnlyAccess": XRAY_WRITE,
    "AWSLambdaVPCAccessExecutionRole": LAMBDA_BASIC_LOGS | VPC_NETWORK_INTERFACES | VPC_DESCRIBE_SUBNETS,
}
BROAD_POLICY_MARKERS = ("FullAccess", "AdministratorAccess", "PowerUser")

# How other workloads start the tuner (docs/integration.md): the events it matches and sends.
TUNE_REQUEST_PATTERN = {"source": ["lambda-autotuner.requests"], "detail-type": ["Tune Requested"]}
TUNING_COMPLETED_SOURCE = "lambda-autotuner"
DEFAULT_BUS_ARN = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"
TUNER_EXECUTIONS_ARN = (
    "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${TunerStateMachine.Name}:*"
)
INTEGRATION_DOC = ROOT / "docs" / "integration.md"

# Used to translate when statemachine/autotuner.asl.json is absent; the checks here do not read it.
STUB_DEFINITION = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}


# ----------------------------------------------------------------------------------------------
# helpers


def _tool(name: str) -> str:
    """The CLI installed next to the interpreter running the tests (the project's .venv), else PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (pip install -e '.[dev]')")
    return found


def _cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["AWS_DEFAULT_REGION"] = REGION
    env["SAM_CLI_TELEMETRY"] = "0"
    return env


class _ManagedPolicyLoader:
    """Offline stand-in for samtranslator's IAM lookup of managed policy names."""

    def load(self) -> dict[str, str]:
        return {
            "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
        }


def _branches(node: Any) -> Iterator[Any]:
    """Every value a node can take: both sides of Fn::If, AWS::NoValue dropped."""
    if isinstance(node, dict) and set(node) == {"Fn::If"}:
        _condition, when_true, when_false = node["Fn::If"]
        yield from _branches(when_true)
        yield from _branches(when_false)
    elif isinstance(node, dict) and node == {"Ref": "AWS::NoValue"}:
        return
    else:
        yield node


def _statements(document: Any) -> Iterator[dict[str, Any]]:
    for doc in _branches(document):
        statements = doc.get("Statement", [])
        for statement_list in _branches(statements):
            if isinstance(statement_list, dict):
                statement_list = [statement_list]
            for item in statement_list:
                yield from (s for s in _branches(item) if isinstance(s, dict))


def _actions(statement: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    for action in _branches(statement.get("Action", [])):
        found.extend(action if isinstance(action, list) else [action])
    return found


def _managed_policy_name(arn: Any) -> str:
    text = arn if isinstance(arn, str) else json.dumps(arn)
    return text.rstrip('"}]').rsplit("/", 1)[-1]


def _resources_of_type(cfn: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in cfn["Resources"].items() if res["Type"] == type_}


def _role_id(cfn: dict[str, Any], logical_id: str) -> str:
    role = cfn["Resources"][logical_id]["Properties"]["Role"]
    assert isinstance(role, dict) and "Fn::GetAtt" in role, f"{logical_id} must use a role of this stack"
    return role["Fn::GetAtt"][0]


def _inline_statements(cfn: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    role = cfn["Resources"][role_id]["Properties"]
    found = [s for policy in role.get("Policies", []) for s in _statements(policy["PolicyDocument"])]
    # Separate AWS::IAM::Policy resources attached to the role count as the role's too.
    for policy in _resources_of_type(cfn, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"].get("Roles", []):
            found.extend(_statements(policy["Properties"]["PolicyDocument"]))
    return found


def _effective_actions(cfn: dict[str, Any], role_id: str) -> set[str]:
    actions = {a for s in _inline_statements(cfn, role_id) if s.get("Effect") == "Allow" for a in _actions(s)}
    for arn in cfn["Resources"][role_id]["Properties"].get("ManagedPolicyArns", []):
        name = _managed_policy_name(arn)
        assert name in KNOWN_MANAGED_POLICIES, f"{role_id}: unreviewed managed policy {arn}"
        actions |= KNOWN_MANAGED_POLICIES[name]
    return actions


def _denied_unless_in_vpc(cfn: dict[str, Any], role_id: str) -> set[str]:
    """Actions the role's policies deny when the functions are not in a VPC (condition NotInVpc)."""
    denied: set[str] = set()
    for policy in _resources_of_type(cfn, "AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"].get("Roles", []):
            continue
        for statement in _statements(policy["Properties"]["PolicyDocument"]):
            if statement.get("Effect") == "Deny":
                assert policy.get("Condition") == "NotInVpc", f"{role_id}: a deny that applies in a VPC too"
                assert statement["Resource"] == "*"
                denied.update(_actions(statement))
    return denied


def _value_with(cfn: dict[str, Any], node: Any, parameters: dict[str, str]) -> Any:
    """What a `Fn::If` on an `Equals [Ref Parameter, literal]` condition gives for these parameter values.

    Parameters not given take their template default, as in a deployment that does not set them.
    """
    if not (isinstance(node, dict) and set(node) == {"Fn::If"}):
        return node
    condition, when_true, when_false = node["Fn::If"]
    left, right = cfn["Conditions"][condition]["Fn::Equals"]
    name = left["Ref"]
    value = parameters.get(name, str(cfn["Parameters"][name]["Default"]))
    return _value_with(cfn, when_true if value == right else when_false, parameters)


def _assumed_by(cfn: dict[str, Any], role_id: str) -> set[str]:
    """The service principals a role's trust policy lets assume it."""
    services: set[str] = set()
    for statement in cfn["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole", role_id
        assert set(statement["Principal"]) == {"Service"}, f"{role_id}: only a service may assume it"
        found = statement["Principal"]["Service"]
        services.update(found if isinstance(found, list) else [found])
    return services


def _grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, resource) pairs the Allow statements give, resources as JSON text."""
    pairs = set()
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        resources = statement["Resource"]
        for action in _actions(statement):
            for resource in resources if isinstance(resources, list) else [resources]:
                pairs.add((action, json.dumps(resource, sort_keys=True)))
    return pairs


def _ref(logical_id: str) -> str:
    return json.dumps({"Ref": logical_id})


def _sub(text: str) -> str:
    return json.dumps({"Fn::Sub": text})
