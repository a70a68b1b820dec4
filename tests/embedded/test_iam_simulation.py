"""IAM policy simulation: SimulatePrincipalPolicy in moto (the evaluator alone: test_iam_evaluation.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from iam_statements import ACCOUNT, FN, PROD_FN, TAG_KEY, allow, deny, policy
from moto import mock_aws

from emulator.iam_simulation import install

ROLE_INLINE = policy(
    allow(
        ["lambda:UpdateFunctionConfiguration", "lambda:PublishVersion"],
        "arn:aws:lambda:*:*:function:*",
        Sid="TuneTagged",
        Condition={"StringEquals": {TAG_KEY: "true"}},
    )
)
MANAGED = policy(
    allow(["lambda:GetFunction*"], Sid="Read"),
    deny("lambda:*", "arn:aws:lambda:*:*:function:prod-*", Sid="NoProd"),
)


@pytest.fixture
def iam() -> Iterator[Any]:
    install()
    with mock_aws():
        # No retries: a 500 from the simulator should surface at once in tests.
        yield boto3.client("iam", region_name="us-east-1", config=Config(retries={"max_attempts": 0}))


@pytest.fixture
def role_arn(iam: Any) -> str:
    role = iam.create_role(RoleName="autotuner-apply", AssumeRolePolicyDocument=json.dumps(policy()))["Role"]
    iam.put_role_policy(RoleName="autotuner-apply", PolicyName="tune", PolicyDocument=json.dumps(ROLE_INLINE))
    managed = iam.create_policy(PolicyName="lambda-read", PolicyDocument=json.dumps(MANAGED))["Policy"]
    iam.attach_role_policy(RoleName="autotuner-apply", PolicyArn=managed["Arn"])
    return role["Arn"]


def by_action(response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["EvalActionName"]: r for r in response["EvaluationResults"]}


def per_resource(result: dict[str, Any]) -> dict[str, str]:
    return {r["EvalResourceName"]: r["EvalResourceDecision"] for r in result["ResourceSpecificResults"]}


def test_role_simulation_uses_inline_and_managed_policies(iam: Any, role_arn: str) -> None:
    # Given a role with an inline tag-scoped update policy and a managed read/deny-prod policy
    # When several actions are simulated on a normal and a prod function, with the tag in context
    response = iam.simulate_principal_policy(
        PolicySourceArn=role_arn,
        ActionNames=["lambda:UpdateFunctionConfiguration", "lambda:GetFunctionConfiguration", "iam:PassRole"],
        ResourceArns=[FN, PROD_FN],
        ContextEntries=[{"ContextKeyName": TAG_KEY, "ContextKeyValues": ["true"], "ContextKeyType": "string"}],
    )
    results = by_action(response)
    update = results["lambda:UpdateFunctionConfiguration"]
    read = results["lambda:GetFunctionConfiguration"]
    # Then each action has one result, decided per resource, most restrictive at the top
    assert list(results) == [
        "lambda:UpdateFunctionConfiguration",
        "lambda:GetFunctionConfiguration",
        "iam:PassRole",
    ]
    assert per_resource(update) == {FN: "allowed", PROD_FN: "explicitDeny"}
    assert update["EvalDecision"] == "explicitDeny"
    assert per_resource(read) == {FN: "allowed", PROD_FN: "explicitDeny"}
    assert per_resource(results["iam:PassRole"]) == {FN: "implicitDeny", PROD_FN: "implicitDeny"}
    assert results["iam:PassRole"]["EvalDecision"] == "implicitDeny"
    # And the matched statements name the inline and the managed policy the way AWS does
    update_on_fn = update["ResourceSpecificResults"][0]["MatchedStatements"]
    read_on_fn = read["ResourceSpecificResults"][0]["MatchedStatements"]
    deny_on_prod = update["ResourceSpecificResults"][1]["MatchedStatements"]
    assert [m["SourcePolicyId"] for m in update_on_fn] == ["role_autotuner-apply_tune"]
    assert [m["SourcePolicyId"] for m in read_on_fn] == ["lambda-read"]
    assert [m["SourcePolicyId"] for m in deny_on_prod] == ["lambda-read"]
    assert {m["SourcePolicyType"] for m in update_on_fn + read_on_fn} == {"IAM Policy"}
    assert update["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}
    assert "PermissionsBoundaryDecisionDetail" not in update
    assert response["IsTruncated"] is False


def test_role_simulation_reports_missing_tag_context_per_resource(iam: Any, role_arn: str) -> None:
    # Given the same role, simulated on one function without the tag in context
    response = iam.simulate_principal_policy(
        PolicySourceArn=role_arn, ActionNames=["lambda:UpdateFunctionConfiguration"], ResourceArns=[FN]
    )
    (result,) = response["EvaluationResults"]
    # Then the update is implicitly denied and the tag key is named as missing
    assert result["EvalResourceName"] == FN
    assert result["EvalDecision"] == "implicitDeny"
    assert result["ResourceSpecificResults"][0]["MissingContextValues"] == [TAG_KEY]
    assert result["MissingContextValues"] == [TAG_KEY]


def test_without_resource_arns_the_action_is_simulated_on_star(iam: Any, role_arn: str) -> None:
    # Given the role
    # When simulated without ResourceArns
    response = iam.simulate_principal_policy(PolicySourceArn=role_arn, ActionNames=["lambda:GetFunction"])
    (result,) = response["EvaluationResults"]
    # Then the result is for "*", with no per-resource section
    assert result["EvalResourceName"] == "*"
    assert result["EvalDecision"] == "allowed"
    assert [m["SourcePolicyId"] for m in result["MatchedStatements"]] == ["lambda-read"]
    assert "ResourceSpecificResults" not in result


def test_managed_policy_default_version_is_the_one_evaluated(iam: Any, role_arn: str) -> None:
    # Given a new default version of the managed policy that no longer allows reads
    managed_arn = f"arn:aws:iam::{ACCOUNT}:policy/lambda-read"
    new_doc = policy(allow("lambda:ListFunctions"))
    iam.create_policy_version(PolicyArn=managed_arn, PolicyDocument=json.dumps(new_doc), SetAsDefault=True)
    # When a read is simulated
    response = iam.simulate_principal_policy(
        PolicySourceArn=role_arn, ActionNames=["lambda:GetFunction", "lambda:ListFunctions"]
    )
    # Then the new default version decides
    decisions = {a: r["EvalDecision"] for a, r in by_action(response).items()}
    assert decisions == {"lambda:GetFunction": "implicitDeny", "lambda:ListFunctions": "allowed"}


def test_role_permissions_boundary_is_applied(iam: Any, role_arn: str) -> None:
    # Given a permissions boundary on the role that allows reads only
    boundary = iam.create_policy(
        PolicyName="read-only-boundary", PolicyDocument=json.dumps(policy(allow("lambda:Get*")))
    )
    iam.put_role_permissions_boundary(RoleName="autotuner-apply", PermissionsBoundary=boundary["Policy"]["Arn"])
    # When an allowed-by-identity update and a read are simulated
    response = iam.simulate_principal_policy(
        PolicySourceArn=role_arn,
        ActionNames=["lambda:UpdateFunctionConfiguration", "lambda:GetFunction"],
        ResourceArns=[FN],
        ContextEntries=[{"ContextKeyName": TAG_KEY, "ContextKeyValues": ["true"], "ContextKeyType": "string"}],
    )
    results = by_action(response)
    # Then the boundary turns the update into an implicit deny, and says so
    update, read = results["lambda:UpdateFunctionConfiguration"], results["lambda:GetFunction"]
    assert update["EvalDecision"] == "implicitDeny"
    assert update["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    assert read["EvalDecision"] == "allowed"
    assert read["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}


def test_user_simulation_includes_group_policies(iam: Any) -> None:
    # Given a user with no policies of their own in a group that may start executions
    user_arn = iam.create_user(UserName="operator")["User"]["Arn"]
    iam.create_group(GroupName="operators")
    iam.add_user_to_group(GroupName="operators", UserName="operator")
    iam.put_group_policy(
        GroupName="operators",
        PolicyName="run",
        PolicyDocument=json.dumps(policy(allow("states:StartExecution"))),
    )
    # When StartExecution is simulated for the user
    response = iam.simulate_principal_policy(PolicySourceArn=user_arn, ActionNames=["states:StartExecution"])
    (result,) = response["EvaluationResults"]
    # Then the group's inline policy allows it
    assert result["EvalDecision"] == "allowed"
    assert result["MatchedStatements"][0]["SourcePolicyId"] == "group_operators_run"


def test_results_can_be_paged(iam: Any, role_arn: str) -> None:
    # Given three actions to simulate, two per page
    actions = ["lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:ListFunctions"]
    # When the pages are followed through Marker
    first = iam.simulate_principal_policy(PolicySourceArn=role_arn, ActionNames=actions, MaxItems=2)
    second = iam.simulate_principal_policy(
        PolicySourceArn=role_arn, ActionNames=actions, MaxItems=2, Marker=first["Marker"]
    )
    # Then every action is answered once
    assert first["IsTruncated"] is True
    assert second["IsTruncated"] is False
    names = [r["EvalActionName"] for r in first["EvaluationResults"] + second["EvaluationResults"]]
    assert names == actions


def test_unknown_principal_is_no_such_entity(iam: Any) -> None:
    # Given no role named ghost
    # When it is simulated
    with pytest.raises(ClientError) as error:
        iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:role/ghost", ActionNames=["lambda:GetFunction"]
        )
    # Then AWS's NoSuchEntity (404) surfaces
    assert error.value.response["Error"]["Code"] == "NoSuchEntity"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_assumed_role_arn_is_invalid_input(iam: Any, role_arn: str) -> None:
    # Given the ARN of a session of the role, as sts:GetCallerIdentity would return it
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/autotuner-apply/execution-1"
    # When it is simulated
    with pytest.raises(ClientError) as error:
        iam.simulate_principal_policy(PolicySourceArn=session_arn, ActionNames=["lambda:GetFunction"])
    # Then AWS's InvalidInput (400) surfaces: the role ARN must be passed instead
    assert error.value.response["Error"]["Code"] == "InvalidInput"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_unsupported_operator_in_a_policy_fails_the_call(iam: Any, role_arn: str) -> None:
    # Given an extra policy using an operator the simulator cannot judge
    extra = policy(allow("lambda:*", Condition={"BinaryEquals": {"k": "AAAA"}}))
    # When it is included in the simulation
    with pytest.raises(ClientError) as error:
        iam.simulate_principal_policy(
            PolicySourceArn=role_arn, ActionNames=["lambda:GetFunction"], PolicyInputList=[json.dumps(extra)]
        )
    # Then the call fails with PolicyEvaluation instead of answering
    assert error.value.response["Error"]["Code"] == "PolicyEvaluation"
    assert "BinaryEquals" in error.value.response["Error"]["Message"]


def test_install_is_idempotent(iam: Any, role_arn: str) -> None:
    # Given install() called again
    install()
    # When simulating
    response = iam.simulate_principal_policy(PolicySourceArn=role_arn, ActionNames=["lambda:GetFunction"])
    # Then it still answers
    assert response["EvaluationResults"][0]["EvalDecision"] == "allowed"
