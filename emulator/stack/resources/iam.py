"""IAM roles, managed policies and inline policies."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from emulator.moto_adapter import aws_managed_policies
from emulator.stack.api_parameters import json_text
from emulator.stack.errors import TemplateError
from emulator.stack.names import physical_name

if TYPE_CHECKING:
    from emulator.stack.deployer import Creator, Deployer


def _policy_text(document: Any) -> str:
    """A policy document as IAM receives it, with the Version moto insists on.

    IAM accepts a document without Version (SAM writes its policy templates and `Policies:
    - Statement:` that way) and reads it as 2008-10-17; moto rejects anything but 2012-10-17. The
    two versions differ only in policy variables, which 2008-10-17 leaves as literal text.
    """
    if isinstance(document, str):
        document = json.loads(document)
    if isinstance(document, dict) and "Version" not in document:
        document = {"Version": "2012-10-17", **document}
    return json.dumps(document)


def _ensure_aws_managed_policy(deployer: Deployer, policy_arn: str) -> None:
    """Make an AWS managed policy attachable in moto even when it was not told to load them.

    moto loads its copy of the AWS managed policies only with `iam.load_aws_managed_policies`;
    in AWS they always exist, so a deployment must not depend on that setting.
    """
    match = re.fullmatch(r"arn:([\w-]+):iam::aws:policy(/(?:[^/]+/)*)([^/]+)", policy_arn)
    if match is None:
        return  # a customer managed policy: it must exist already, as in AWS
    from emulator.moto_adapter import AWSManagedPolicy, iam_backends

    backend = iam_backends[deployer.account_id][match.group(1)]
    if policy_arn in backend.managed_policies:
        return
    data = aws_managed_policies().get(match.group(3))
    if data is None or data.get("Path", "/") != match.group(2):
        raise TemplateError(f"{policy_arn} is not an AWS managed policy known to the embedded AWS")
    policy = AWSManagedPolicy.from_data(match.group(3), deployer.account_id, backend.region_name, data)
    backend.managed_policies[policy.arn] = policy
    backend.aws_managed_policies.append(policy)


def _create_role(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    name = deployer.name_for(logical_id, props.get("RoleName"), 64)
    if props.get("PermissionsBoundary"):
        _ensure_aws_managed_policy(deployer, props["PermissionsBoundary"])
        # IAM refuses a boundary that does not exist; moto's CreateRole does not look.
        deployer.call("iam", "get_policy", PolicyArn=props["PermissionsBoundary"])
    role = deployer.call(
        "iam",
        "create_role",
        RoleName=name,
        AssumeRolePolicyDocument=json_text(props["AssumeRolePolicyDocument"]),
        Path=props.get("Path"),
        Description=props.get("Description"),
        MaxSessionDuration=props.get("MaxSessionDuration"),
        PermissionsBoundary=props.get("PermissionsBoundary"),
        Tags=props.get("Tags") or None,
    )["Role"]
    for policy in props.get("Policies", []):
        deployer.call(
            "iam",
            "put_role_policy",
            RoleName=name,
            PolicyName=policy["PolicyName"],
            PolicyDocument=_policy_text(policy["PolicyDocument"]),
        )
    for policy_arn in props.get("ManagedPolicyArns", []):
        _ensure_aws_managed_policy(deployer, policy_arn)
        deployer.call("iam", "attach_role_policy", RoleName=name, PolicyArn=policy_arn)
    return name, {"Arn": role["Arn"], "RoleId": role["RoleId"]}


def _attach_to_principals(deployer: Deployer, props: dict, policy_arn: str) -> None:
    for role in props.get("Roles", []):
        deployer.call("iam", "attach_role_policy", RoleName=role, PolicyArn=policy_arn)
    for user in props.get("Users", []):
        deployer.call("iam", "attach_user_policy", UserName=user, PolicyArn=policy_arn)
    for group in props.get("Groups", []):
        deployer.call("iam", "attach_group_policy", GroupName=group, PolicyArn=policy_arn)


def _create_managed_policy(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    name = deployer.name_for(logical_id, props.get("ManagedPolicyName"), 128)
    policy = deployer.call(
        "iam",
        "create_policy",
        PolicyName=name,
        Path=props.get("Path"),
        PolicyDocument=_policy_text(props["PolicyDocument"]),
        Description=props.get("Description"),
    )["Policy"]
    _attach_to_principals(deployer, props, policy["Arn"])
    return policy["Arn"], {"PolicyArn": policy["Arn"], "PolicyId": policy["PolicyId"]}


def _create_inline_policy(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    # AWS::IAM::Policy / AWS::IAM::RolePolicy: one inline policy put on each principal.
    document = _policy_text(props["PolicyDocument"])
    roles = props.get("Roles", []) + ([props["RoleName"]] if "RoleName" in props else [])
    for role in roles:
        deployer.call(
            "iam",
            "put_role_policy",
            RoleName=role,
            PolicyName=props["PolicyName"],
            PolicyDocument=document,
        )
    for user in props.get("Users", []):
        deployer.call(
            "iam",
            "put_user_policy",
            UserName=user,
            PolicyName=props["PolicyName"],
            PolicyDocument=document,
        )
    for group in props.get("Groups", []):
        deployer.call(
            "iam",
            "put_group_policy",
            GroupName=group,
            PolicyName=props["PolicyName"],
            PolicyDocument=document,
        )
    return physical_name(deployer.stack_name, logical_id, 128), {}


CREATORS: dict[str, Creator] = {
    "AWS::IAM::Role": _create_role,
    "AWS::IAM::ManagedPolicy": _create_managed_policy,
    "AWS::IAM::Policy": _create_inline_policy,
    "AWS::IAM::RolePolicy": _create_inline_policy,
}
