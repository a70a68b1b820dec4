"""template.yaml's IAM: least privilege, and every role grants exactly what the permissions manifest declares.

The roles are read from the CloudFormation the SAM transform produces, so policies SAM adds count.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from autotuner_core.policy.permissions import PRINCIPALS, Resource

from .reading import (
    BROAD_POLICY_MARKERS,
    DEFAULT_BUS_ARN,
    FUNCTION_ACTIONS,
    LAMBDA_BASIC_LOGS,
    STATE_MACHINE_ACTIONS,
    VPC_DESCRIBE_SUBNETS,
    VPC_NETWORK_INTERFACES,
    XRAY_WRITE,
    _actions,
    _branches,
    _denied_unless_in_vpc,
    _effective_actions,
    _inline_statements,
    _managed_policy_name,
    _resources_of_type,
    _role_id,
    _statements,
    _sub,
)

# ----------------------------------------------------------------------------------------------
# (c) IAM: least privilege


def test_no_iam_action_contains_a_wildcard(cfn: dict[str, Any]) -> None:
    # Given every IAM policy document in the deployed template (role inline policies and policy resources)
    documents: list[tuple[str, Any]] = []
    for lid, role in _resources_of_type(cfn, "AWS::IAM::Role").items():
        documents += [(lid, p["PolicyDocument"]) for p in role["Properties"].get("Policies", [])]
    for type_ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for lid, policy in _resources_of_type(cfn, type_).items():
            documents.append((lid, policy["Properties"]["PolicyDocument"]))
    assert documents, "expected IAM policies in the template"
    # When their actions are listed
    offending = []
    for lid, document in documents:
        for statement in _statements(document):
            if "NotAction" in statement:
                offending.append((lid, statement.get("Sid"), "NotAction"))
            for action in _actions(statement):
                if not isinstance(action, str) or "*" in action:
                    offending.append((lid, statement.get("Sid"), action))
    # Then each one names a single action (no "*", no NotAction)
    assert offending == []


def test_no_broad_managed_policies_are_attached(cfn: dict[str, Any]) -> None:
    # Given every role of the deployed template
    roles = _resources_of_type(cfn, "AWS::IAM::Role")
    # When their managed policies are listed
    attached = {
        lid: [_managed_policy_name(arn) for arn in role["Properties"].get("ManagedPolicyArns", [])]
        for lid, role in roles.items()
    }
    # Then none is a *FullAccess / AdministratorAccess / PowerUser policy
    broad = {
        lid: names
        for lid, names in attached.items()
        if any(marker in name for name in names for marker in BROAD_POLICY_MARKERS)
    }
    assert broad == {}


def test_the_template_has_exactly_the_functions_the_permission_table_covers(cfn: dict[str, Any]) -> None:
    # Given the Lambda functions of the deployed template
    functions = set(_resources_of_type(cfn, "AWS::Lambda::Function"))
    # Then each has an entry in the permission table (a new function needs its permissions reviewed)
    assert functions == set(FUNCTION_ACTIONS)


@pytest.mark.parametrize("function_id", sorted(FUNCTION_ACTIONS))
def test_each_function_role_holds_only_its_own_actions(cfn: dict[str, Any], function_id: str) -> None:
    # Given the role the function runs with
    role_id = _role_id(cfn, function_id)
    # When its inline and managed permissions are added up, with what is denied outside a VPC
    actions = _effective_actions(cfn, role_id)
    denied_outside_vpc = _denied_unless_in_vpc(cfn, role_id)
    baseline = LAMBDA_BASIC_LOGS | XRAY_WRITE | VPC_DESCRIBE_SUBNETS
    # Then outside a VPC (the default) it holds the actions the function needs, plus only log writing,
    # X-Ray tracing and listing subnets
    assert actions - denied_outside_vpc == FUNCTION_ACTIONS[function_id] | baseline
    # And in a VPC (SubnetIds set) the network interfaces Lambda needs as well, nothing else
    assert denied_outside_vpc == VPC_NETWORK_INTERFACES
    assert actions == FUNCTION_ACTIONS[function_id] | baseline | VPC_NETWORK_INTERFACES
    managed = {_managed_policy_name(a) for a in cfn["Resources"][role_id]["Properties"]["ManagedPolicyArns"]}
    assert "AWSXrayWriteOnlyAccess" in managed


def test_function_roles_are_not_shared(cfn: dict[str, Any]) -> None:
    # Given the tuner's functions
    # When their roles are looked up
    roles = [_role_id(cfn, function_id) for function_id in FUNCTION_ACTIONS]
    # Then each function has a role of its own (permissions cannot leak between them)
    assert len(set(roles)) == len(roles)


def test_state_machine_may_invoke_only_the_tuner_functions(cfn: dict[str, Any]) -> None:
    # Given the state machine's role
    (machine,) = _resources_of_type(cfn, "AWS::StepFunctions::StateMachine").values()
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    # When its permissions are listed
    actions = _effective_actions(cfn, role_id)
    invoked = set()
    named = {  # functions invoked by their fixed name (ValidatePermissions: the role's ARN is its input)
        json.dumps(res["Properties"]["FunctionName"], sort_keys=True): lid
        for lid, res in _resources_of_type(cfn, "AWS::Lambda::Function").items()
        if "FunctionName" in res["Properties"]
    }
    for statement in _inline_statements(cfn, role_id):
        if "lambda:InvokeFunction" in _actions(statement):
            for resource in _branches(statement["Resource"]):
                name = resource["Fn::Sub"][1]["functionName"]
                invoked.add(name["Ref"] if "Ref" in name else named[json.dumps(name, sort_keys=True)])
    # Then it can invoke the tuner's functions, run its Distributed Map (target list and results in
    # the sweep bucket, child executions of itself), deliver its logs and write traces; nothing else
    assert actions == STATE_MACHINE_ACTIONS | XRAY_WRITE
    assert {"lambda:InvokeFunction", "states:StartExecution", "s3:GetObject", "s3:PutObject"} <= actions
    assert invoked == set(FUNCTION_ACTIONS)


# ----------------------------------------------------------------------------------------------
# (c') the permissions manifest is the template's source of truth

_TARGETS = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${TargetNamePrefix}*"
_MACHINE_NAME = "${NamePrefix}${AWS::StackName}-tuner"
_MACHINE = f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{_MACHINE_NAME}"
_EXECUTIONS = f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:execution:{_MACHINE_NAME}/*"
_RUNS = f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:execution:{_MACHINE_NAME}:*"
_SHADOWS = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:autotuner-shadow-*"


def _get_att(logical_id: str) -> str:
    return json.dumps({"Fn::GetAtt": [logical_id, "Arn"]}, sort_keys=True)


def _manifest_resources(cfn: dict[str, Any], kind: Resource) -> set[str]:
    """The template's ARN expressions for a manifest resource kind, as JSON text."""
    functions = [entry.logical_id for entry in PRINCIPALS if entry.logical_id != "TunerStateMachine"]
    if kind is Resource.TUNER_ROLES:
        # The roles pre-flight simulates: every one with a grant (a role with none has nothing to check).
        checked = [entry.logical_id for entry in PRINCIPALS if entry.role_setting and entry.grants]
        return {_get_att(_role_id(cfn, lid)) for lid in checked if lid != "TunerStateMachine"} | {
            _get_att("TunerStateMachineRole")
        }
    if kind is Resource.TUNER_FUNCTIONS:
        found = set()
        for lid in functions:
            properties = cfn["Resources"][lid]["Properties"]
            name = properties.get("FunctionName", {"Ref": lid})
            if isinstance(name, dict) and "Fn::If" in name:  # named only with a NamePrefix
                name = {"Ref": lid}
            pattern = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${functionName}*"
            found.add(json.dumps({"Fn::Sub": [pattern, {"functionName": name}]}, sort_keys=True))
        return found
    return {
        Resource.TARGET_FUNCTIONS: {_sub(_TARGETS)},
        Resource.TARGET_VERSIONS: {_sub(_TARGETS + ":*")},
        Resource.MEASUREMENT_ALIASES: {_sub(_TARGETS + ":autotuner-*")},
        Resource.RUN_HISTORY_TABLE: {_get_att("RunHistoryTable")},
        Resource.STATE_TABLE: {_get_att("StateTable")},
        Resource.TARGET_LISTS: {_sub("${SweepBucket.Arn}/runs/*")},
        Resource.PAYLOAD_OBJECTS: {json.dumps(_PAYLOAD_OBJECTS, sort_keys=True)},
        Resource.PAYLOAD_PROCESSORS: {json.dumps({"Fn::Split": [",", {"Ref": "PayloadProcessorArns"}]})},
        Resource.MAP_RESULTS: {_sub("${SweepBucket.Arn}/map-results/*")},
        Resource.RUN_REPORTS: {_sub("${SweepBucket.Arn}/reports/*")},
        Resource.DEFAULT_EVENT_BUS: {_sub(DEFAULT_BUS_ARN)},
        Resource.STATE_MACHINE: {_sub(_MACHINE)},
        Resource.STATE_MACHINE_EXECUTIONS: {_sub(_EXECUTIONS)},
        Resource.SHADOW_FUNCTIONS: {_sub(_SHADOWS)},
        Resource.SHADOW_ALIASES: {_sub(_SHADOWS + ":autotuner-*")},
        Resource.SHADOW_CODE: {_sub("${SweepBucket.Arn}/shadow-code/*")},
        Resource.SHADOW_LOG_GROUPS: {
            _sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/autotuner-shadow-*")
        },
        Resource.SHADOW_ROLES: {json.dumps({"Fn::Split": [",", {"Ref": "ShadowRoleArns"}]}, sort_keys=True)},
        Resource.STATE_MACHINE_RUNS: {_sub(_RUNS)},
        Resource.LAYER_VERSIONS: {_sub("arn:${AWS::Partition}:lambda:*:*:layer:*:*")},
        Resource.LOG_GROUPS: {_sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*")},
        Resource.ANY: {json.dumps("*")},
    }[kind]


# Every object of the PayloadBuckets parameter's buckets (template: CheckPayloadObjects, ReadPayloadObjects).
_PAYLOAD_OBJECTS = {
    "Fn::Split": [
        ",",
        {
            "Fn::Sub": [
                "arn:*:s3:::${Buckets}/*",
                {"Buckets": {"Fn::Join": ["/*,arn:*:s3:::", {"Fn::Split": [",", {"Ref": "PayloadBuckets"}]}]}},
            ]
        },
    ]
}


def _role_of(cfn: dict[str, Any], logical_id: str) -> str:
    if logical_id == "TunerStateMachine":
        (machine,) = _resources_of_type(cfn, "AWS::StepFunctions::StateMachine").values()
        return machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    return _role_id(cfn, logical_id)


@pytest.mark.parametrize("entry", PRINCIPALS, ids=lambda entry: entry.logical_id)
def test_each_role_grants_exactly_what_the_manifest_declares(cfn: dict[str, Any], entry: Any) -> None:
    # Given the manifest's grants for one role: actions, resources, tag scope
    expected = {
        (action, resource, grant.tag_scoped, grant.passed_to)
        for grant in entry.grants
        for action in grant.actions
        for resource in _manifest_resources(cfn, grant.resource)
    }
    # When the role's inline statements (and policies attached to it) are listed the same way
    found = set()
    for statement in _inline_statements(cfn, _role_of(cfn, entry.logical_id)):
        if statement.get("Effect") != "Allow":
            continue
        for action in _actions(statement):
            for resource in _branches(statement["Resource"]):
                for one in resource if isinstance(resource, list) else [resource]:
                    condition = json.dumps(statement.get("Condition"))
                    passed_to = (statement.get("Condition") or {}).get("StringEquals", {}).get("iam:PassedToService")
                    tagged = "aws:ResourceTag/autotune" in condition
                    found.add((action, json.dumps(one, sort_keys=True), tagged, passed_to))
    # Then they are the same: a grant the manifest lacks (or the template lacks) fails here
    assert found == expected
