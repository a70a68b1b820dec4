"""IAM policy simulation: the pure evaluator, and SimulatePrincipalPolicy in moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator.iam_evaluation import evaluate
from emulator.iam_parsing import parse_policy
from emulator.iam_policy import PolicyEvaluationError
from emulator.iam_simulation import install

ACCOUNT = "123456789012"
FN = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders"
PROD_FN = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:prod-payments"
TAG_KEY = "aws:ResourceTag/autotune"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


TAGGED_UPDATE = policy(
    allow(
        "lambda:UpdateFunctionConfiguration",
        "arn:aws:lambda:*:*:function:*",
        Sid="TaggedOnly",
        Condition={"StringEquals": {TAG_KEY: "true"}},
    )
)


# --------------------------------------------------------------------------------------------
# The evaluator
# --------------------------------------------------------------------------------------------


def test_matching_allow_is_allowed_and_names_the_statement() -> None:
    # Given a policy allowing the action on the function
    doc = policy(allow("lambda:UpdateFunctionConfiguration", FN, Sid="Tune"))
    # When the action is evaluated on that function
    result = evaluate([doc], "lambda:UpdateFunctionConfiguration", FN)
    # Then it is allowed, by that statement
    assert result.decision == "allowed"
    assert result.matched_statement_ids == ["Tune"]
    assert result.missing_context_keys == ()
    assert result.allowed_by_permissions_boundary is None


def test_no_matching_statement_is_an_implicit_deny() -> None:
    # Given a policy that allows reading only
    doc = policy(allow("lambda:GetFunction", FN))
    # When an update is evaluated
    result = evaluate([doc], "lambda:UpdateFunctionConfiguration", FN)
    # Then nothing allows it and nothing is reported as matching
    assert result.decision == "implicitDeny"
    assert result.matched_statements == ()


def test_explicit_deny_overrides_an_allow_and_is_the_only_match_reported() -> None:
    # Given one policy allowing all of Lambda and another denying prod functions
    allow_all = policy(allow("lambda:*", Sid="All"))
    no_prod = policy(deny("lambda:*", "arn:aws:lambda:*:*:function:prod-*", Sid="NoProd"))
    # When prod and non-prod functions are evaluated
    on_prod = evaluate([allow_all, no_prod], "lambda:UpdateFunctionConfiguration", PROD_FN)
    on_other = evaluate([allow_all, no_prod], "lambda:UpdateFunctionConfiguration", FN)
    # Then prod is explicitly denied by the Deny alone, the other function allowed
    assert on_prod.decision == "explicitDeny"
    assert on_prod.matched_statement_ids == ["NoProd"]
    assert on_other.decision == "allowed"
    assert on_other.matched_statement_ids == ["All"]


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("lambda:Get*", "lambda:GetFunctionConfiguration", "allowed"),
        ("LAMBDA:get*", "lambda:GetFunction", "allowed"),  # actions are case-insensitive
        ("lambda:?etFunction", "lambda:GetFunction", "allowed"),
        ("lambda:Get*", "lambda:UpdateFunctionCode", "implicitDeny"),
        ("*", "states:StartExecution", "allowed"),
    ],
)
def test_action_wildcards(pattern: str, action: str, expected: str) -> None:
    # Given an Allow for an action pattern
    doc = policy(allow(pattern))
    # When an action is evaluated
    # Then the pattern matches as IAM's case-insensitive glob
    assert evaluate([doc], action, FN).decision == expected


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        ("arn:aws:lambda:*:function:orders", FN, "allowed"),  # "*" crosses ":"
        ("arn:aws:logs:*", "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/x:*", "allowed"),  # and "/"
        ("arn:aws:lambda:eu-west-1:123456789012:function:order?", FN, "allowed"),
        ("arn:aws:lambda:eu-west-1:123456789012:function:ORDERS", FN, "implicitDeny"),  # case-sensitive
        ("arn:aws:lambda:*:*:function:orders", "*", "implicitDeny"),  # "*" is not a wildcard request
    ],
)
def test_resource_wildcards(pattern: str, resource: str, expected: str) -> None:
    # Given an Allow on a resource pattern
    doc = policy(allow("lambda:GetFunction", pattern))
    # When a resource is evaluated
    # Then the pattern matches as IAM's case-sensitive glob
    assert evaluate([doc], "lambda:GetFunction", resource).decision == expected


def test_not_action_allows_everything_except_the_listed_actions() -> None:
    # Given a policy allowing everything except IAM
    doc = policy({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"})
    # When a Lambda and an IAM action are evaluated
    # Then Lambda is allowed and IAM is not
    assert evaluate([doc], "lambda:UpdateFunctionConfiguration", FN).decision == "allowed"
    assert evaluate([doc], "iam:PassRole", "*").decision == "implicitDeny"


def test_not_resource_deny_protects_everything_but_the_listed_resources() -> None:
    # Given Lambda is allowed, but denied on everything except one function
    doc = policy(allow("lambda:*"), {"Effect": "Deny", "Action": "lambda:*", "NotResource": FN})
    # When that function and another are evaluated
    # Then only the listed function stays allowed
    assert evaluate([doc], "lambda:GetFunction", FN).decision == "allowed"
    assert evaluate([doc], "lambda:GetFunction", PROD_FN).decision == "explicitDeny"


def test_documents_may_be_json_text_with_a_single_statement_object() -> None:
    # Given a policy document as JSON text whose Statement is an object, Action a string
    text = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}})
    # When it is evaluated
    # Then it behaves like the list form
    assert evaluate([text], "s3:GetObject", "arn:aws:s3:::bucket/key").decision == "allowed"


def test_tag_condition_satisfied() -> None:
    # Given an update allowed only on functions tagged autotune=true, and that tag in the context
    context = {TAG_KEY: ["true"]}
    # When the update is evaluated
    result = evaluate([TAGGED_UPDATE], "lambda:UpdateFunctionConfiguration", FN, context)
    # Then it is allowed and no context is missing
    assert result.decision == "allowed"
    assert result.matched_statement_ids == ["TaggedOnly"]
    assert result.missing_context_keys == ()


def test_tag_condition_unsatisfied() -> None:
    # Given the function's tag says false
    context = {TAG_KEY: ["false"]}
    # When the update is evaluated
    result = evaluate([TAGGED_UPDATE], "lambda:UpdateFunctionConfiguration", FN, context)
    # Then it is implicitly denied
    assert result.decision == "implicitDeny"
    assert result.missing_context_keys == ()


def test_tag_condition_key_is_case_insensitive() -> None:
    # Given the context key spelled in another case, as IAM allows
    context = {"AWS:RESOURCETAG/AUTOTUNE": "true"}
    # When the update is evaluated
    # Then the condition still sees the value
    assert evaluate([TAGGED_UPDATE], "lambda:UpdateFunctionConfiguration", FN, context).allowed


def test_tag_condition_with_missing_context_is_implicit_deny_and_reports_the_key() -> None:
    # Given no context at all
    # When the update is evaluated
    result = evaluate([TAGGED_UPDATE], "lambda:UpdateFunctionConfiguration", FN)
    # Then it is implicitly denied and the tag key is reported as missing
    assert result.decision == "implicitDeny"
    assert result.missing_context_keys == (TAG_KEY,)


def test_permissions_boundary_caps_what_identity_policies_allow() -> None:
    # Given identity policies allowing all of Lambda, and a boundary allowing reads only
    identity = [policy(allow("lambda:*"))]
    boundary = policy(allow("lambda:Get*"))
    # When an update and a read are evaluated
    update = evaluate(identity, "lambda:UpdateFunctionConfiguration", FN, permissions_boundary=boundary)
    read = evaluate(identity, "lambda:GetFunction", FN, permissions_boundary=boundary)
    # Then the update is implicitly denied because the boundary does not allow it; the read passes
    assert update.decision == "implicitDeny"
    assert update.allowed_by_permissions_boundary is False
    assert read.decision == "allowed"
    assert read.allowed_by_permissions_boundary is True


def test_boundary_alone_grants_nothing() -> None:
    # Given a boundary that allows everything but no identity policy allowing the action
    # When the action is evaluated
    result = evaluate([policy(allow("s3:*"))], "lambda:GetFunction", FN, permissions_boundary=policy(allow("*")))
    # Then it is denied although the boundary would allow it
    assert result.decision == "implicitDeny"
    assert result.allowed_by_permissions_boundary is True


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        ({"StringNotEquals": {TAG_KEY: "false"}}, {}, "allowed"),  # negated op: absent key is true
        ({"StringEqualsIfExists": {TAG_KEY: "true"}}, {}, "allowed"),
        ({"StringEqualsIfExists": {TAG_KEY: "true"}}, {TAG_KEY: "no"}, "implicitDeny"),
        ({"StringLike": {TAG_KEY: "t*"}}, {TAG_KEY: "true"}, "allowed"),
        ({"StringNotLike": {TAG_KEY: "t*"}}, {TAG_KEY: "true"}, "implicitDeny"),
        ({"StringEqualsIgnoreCase": {TAG_KEY: "TRUE"}}, {TAG_KEY: "True"}, "allowed"),
        ({"StringEquals": {TAG_KEY: ["yes", "true"]}}, {TAG_KEY: "true"}, "allowed"),  # values ORed
        ({"Null": {TAG_KEY: "true"}}, {}, "allowed"),
        ({"Null": {TAG_KEY: "true"}}, {TAG_KEY: "x"}, "implicitDeny"),
        ({"Null": {TAG_KEY: "false"}}, {TAG_KEY: "x"}, "allowed"),
        ({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": "true"}, "allowed"),
        ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "false"}, "implicitDeny"),
        ({"NumericLessThanEquals": {"lambda:MemorySize": "3008"}}, {"lambda:MemorySize": "1024"}, "allowed"),
        ({"NumericGreaterThan": {"lambda:MemorySize": 3008}}, {"lambda:MemorySize": "1024"}, "implicitDeny"),
        ({"NumericEquals": {"n": "10"}}, {"n": "10.0"}, "allowed"),
        ({"NumericLessThan": {"n": "10"}}, {"n": "not-a-number"}, "implicitDeny"),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:states:*:*:stateMachine:tuner*"}},
         {"aws:SourceArn": f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:tuner-v2"}, "allowed"),
        ({"ArnEquals": {"aws:SourceArn": "arn:aws:states:*:*:stateMachine:tuner"}},
         {"aws:SourceArn": f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:other"}, "implicitDeny"),
        ({"ArnNotLike": {"aws:SourceArn": "arn:aws:states:*:*:*"}},
         {"aws:SourceArn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:x"}, "allowed"),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "env"]}}, {"aws:TagKeys": ["env", "x"]},
         "allowed"),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}}, {"aws:TagKeys": ["env", "x"]},
         "implicitDeny"),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}}, {"aws:TagKeys": ["env"]},
         "allowed"),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}, {}, "allowed"),  # empty set
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}, {}, "implicitDeny"),
        ({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
         {"aws:CurrentTime": "2026-05-01T12:00:00Z"}, "allowed"),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "10.1.2.3"}, "allowed"),
        # Several keys under one operator, and several operators, are ANDed.
        ({"StringEquals": {TAG_KEY: "true", "aws:RequestedRegion": "eu-west-1"}}, {TAG_KEY: "true"},
         "implicitDeny"),
        ({"StringEquals": {TAG_KEY: "true"}, "Bool": {"aws:SecureTransport": "true"}},
         {TAG_KEY: "true", "aws:SecureTransport": "true"}, "allowed"),
    ],
)  # fmt: skip
def test_condition_operators(condition: dict[str, Any], context: dict[str, Any], expected: str) -> None:
    # Given an Allow guarded by a condition
    doc = policy(allow("lambda:UpdateFunctionConfiguration", Condition=condition))
    # When evaluated with the context
    # Then the decision follows IAM's condition rules
    assert evaluate([doc], "lambda:UpdateFunctionConfiguration", FN, context).decision == expected


def test_missing_keys_are_reported_for_if_exists_and_negated_operators_but_not_null() -> None:
    # Given conditions that tolerate an absent key in different ways
    doc = policy(
        allow(
            "lambda:*",
            Condition={
                "StringEqualsIfExists": {"aws:ResourceTag/team": "perf"},
                "StringNotEquals": {"aws:ResourceTag/env": "prod"},
                "Null": {"aws:ResourceTag/owner": "true"},
            },
        )
    )
    # When evaluated without context
    result = evaluate([doc], "lambda:GetFunction", FN)
    # Then it is allowed, and the keys whose absence changed the outcome are reported
    assert result.decision == "allowed"
    assert set(result.missing_context_keys) == {"aws:ResourceTag/team", "aws:ResourceTag/env"}


def test_a_deny_with_an_unsatisfied_condition_does_not_deny() -> None:
    # Given Lambda allowed, and denied only on functions tagged env=prod
    doc = policy(allow("lambda:*"), deny("lambda:*", Condition={"StringEquals": {"aws:ResourceTag/env": "prod"}}))
    # When a dev function and a prod function are evaluated
    dev = evaluate([doc], "lambda:GetFunction", FN, {"aws:ResourceTag/env": "dev"})
    prod = evaluate([doc], "lambda:GetFunction", FN, {"aws:ResourceTag/env": "prod"})
    # Then only the prod one is explicitly denied
    assert dev.decision == "allowed"
    assert prod.decision == "explicitDeny"


def test_policy_variables_are_substituted_from_the_context() -> None:
    # Given a policy scoping functions to the caller's team through a principal tag
    doc = policy(allow("lambda:GetFunction", "arn:aws:lambda:*:*:function:${aws:PrincipalTag/team}-*"))
    team_fn = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders-api"
    # When the team's function is evaluated for its team, another team, and without the tag
    own = evaluate([doc], "lambda:GetFunction", team_fn, {"aws:PrincipalTag/team": "orders"})
    other = evaluate([doc], "lambda:GetFunction", team_fn, {"aws:PrincipalTag/team": "billing"})
    untagged = evaluate([doc], "lambda:GetFunction", team_fn)
    # Then only its own team may, and a missing tag is reported rather than guessed
    assert own.decision == "allowed"
    assert other.decision == "implicitDeny"
    assert untagged.decision == "implicitDeny"
    assert untagged.missing_context_keys == ("aws:PrincipalTag/team",)


@pytest.mark.parametrize("operator", ["BinaryEquals", "StringEqualz", "ForSomeValues:StringEquals"])
def test_unsupported_operator_is_a_clear_error_not_a_silent_allow(operator: str) -> None:
    # Given an Allow guarded by an operator the evaluator does not know
    doc = policy(allow("lambda:*", Condition={operator: {"k": "v"}}))
    # When it is evaluated
    # Then it fails loudly, naming the operator
    with pytest.raises(PolicyEvaluationError, match="unsupported condition operator"):
        evaluate([doc], "lambda:GetFunction", FN, {"k": "v"})


def test_malformed_statement_is_rejected() -> None:
    # Given a statement with neither Action nor NotAction
    doc = policy({"Effect": "Allow", "Resource": "*"})
    # When it is parsed
    # Then it is rejected
    with pytest.raises(PolicyEvaluationError, match="Action"):
        parse_policy(doc)


def test_statement_positions_are_reported_like_aws() -> None:
    # Given the single-line policy from the AWS CLI documentation (simulate-custom-policy example)
    text = (
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*",'
        '"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}'
    )
    # When it is evaluated with a later current time
    result = evaluate([text], "dynamodb:CreateBackup", "*", {"aws:CurrentTime": "2019-04-25T11:00:00Z"})
    # Then the matched statement's positions are those AWS documents (1:38 to 1:167)
    assert result.decision == "allowed"
    (matched,) = result.matched_statements
    assert (matched.source_policy_id, matched.start, matched.end) == ("PolicyInputList.1", (1, 38), (1, 167))


# Four places where an independent evaluator (npm @cloud-copilot/iam-simulate, tests/tools/) and
# ours once disagreed; each is decided by the AWS documentation page cited in the test.
IAM_GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"StringEquals": {"aws:TagKeys": "env"}}, "implicitDeny"),
        ({"StringNotEquals": {"aws:TagKeys": "team"}}, "implicitDeny"),
        ({"StringLike": {"aws:TagKeys": "*"}}, "implicitDeny"),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": "env"}}, "allowed"),
        ({"ForAllValues:StringNotEquals": {"aws:TagKeys": "team"}}, "allowed"),
    ],
)
def test_a_multivalued_key_is_matched_only_through_a_set_operator(condition: dict[str, Any], expected: str) -> None:
    # Given a request carrying two tag keys: aws:TagKeys is multivalued, and "multivalued context
    # keys require a condition set operator" (reference_policies_condition-single-vs-multi-valued-context-keys.html)
    doc = policy(allow("lambda:TagResource", Condition=condition))
    context = {"aws:TagKeys": ["env", "owner"]}
    # When a plain operator, negated or not, and the set operators test it
    decision = evaluate([doc], "lambda:TagResource", FN, context).decision
    # Then only ForAnyValue/ForAllValues can satisfy the condition
    assert decision == expected, IAM_GUIDE + "reference_policies_condition-single-vs-multi-valued-context-keys.html"


def test_for_any_value_with_if_exists_on_an_absent_key_is_false() -> None:
    # Given an Allow on "ForAnyValue:StringEqualsIfExists" of aws:TagKeys, and a request without tags.
    # IAM documents ForAnyValue as false when the key is absent from the request
    # (reference_policies_condition-single-vs-multi-valued-context-keys.html); IfExists does not
    # turn that into true (the same policy denies ListQueues in AWS: repost.aws QU9HFmDzP0QGuU-fd7rS6B7w).
    doc = policy(allow("lambda:ListFunctions", Condition={"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "team"}}))
    # When it is evaluated
    result = evaluate([doc], "lambda:ListFunctions", "*")
    # Then it does not allow, and the absent key is reported; ForAllValues...IfExists still holds
    assert result.decision == "implicitDeny", (
        IAM_GUIDE + "reference_policies_condition-single-vs-multi-valued-context-keys.html"
    )
    assert result.missing_context_keys == ("aws:TagKeys",)
    for_all = policy(
        allow("lambda:ListFunctions", Condition={"ForAllValues:StringEqualsIfExists": {"aws:TagKeys": "team"}})
    )
    assert evaluate([for_all], "lambda:ListFunctions", "*").decision == "allowed"


@pytest.mark.parametrize(
    ("operator", "pattern", "expected"),
    [
        ("ArnLike", "arn:aws:states*", "implicitDeny"),
        ("ArnLike", "*", "implicitDeny"),
        ("ArnEquals", "arn:aws:states:us-east-1:123456789012", "implicitDeny"),
        ("ArnNotLike", "arn:aws:states*", "allowed"),  # negated: the NOR of no match
        ("ArnLike", "arn:aws:states:*:*:*", "allowed"),  # six components: the last one takes the rest
    ],
)
def test_an_arn_pattern_is_compared_component_by_component(operator: str, pattern: str, expected: str) -> None:
    # Given ARN conditions whose patterns have fewer than six colon-separated components. ArnLike
    # checks "each of the six colon-delimited components of the ARN separately"
    # (reference_policies_elements_condition_operators.html#Conditions_ARN), so "*" never spans a colon.
    doc = policy(allow("lambda:InvokeFunction", Condition={operator: {"aws:SourceArn": pattern}}))
    source = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:tuner"
    # When a state machine's ARN is the source
    decision = evaluate([doc], "lambda:InvokeFunction", FN, {"aws:SourceArn": source}).decision
    # Then a short pattern matches no ARN
    assert decision == expected, IAM_GUIDE + "reference_policies_elements_condition_operators.html#Conditions_ARN"


@pytest.mark.parametrize("version", ["2008-10-17", None])
def test_policy_variables_are_literal_text_outside_the_2012_language(version: str | None) -> None:
    # Given a policy scoped by ${aws:username}, in the 2008 language or without Version (which
    # defaults to 2008-10-17: reference_policies_elements_version.html). Variables need Version
    # 2012-10-17; otherwise "variables like ${aws:username} are treated as literal strings"
    # (reference_policies_variables.html).
    statement = allow("s3:GetObject", "arn:aws:s3:::reports/${aws:username}/*")
    doc: dict[str, Any] = (
        {"Statement": [statement]} if version is None else {"Version": version, "Statement": [statement]}
    )
    context = {"aws:username": "alice"}
    # When alice reads her object, and an object literally under "${aws:username}/"
    own = evaluate([doc], "s3:GetObject", "arn:aws:s3:::reports/alice/a.txt", context)
    literal = evaluate([doc], "s3:GetObject", "arn:aws:s3:::reports/${aws:username}/a.txt", context)
    # Then the variable is not substituted: only the literal key matches
    assert own.decision == "implicitDeny", IAM_GUIDE + "reference_policies_variables.html"
    assert literal.decision == "allowed"
    # And the same document in the 2012-10-17 language substitutes it
    assert evaluate([policy(statement)], "s3:GetObject", "arn:aws:s3:::reports/alice/a.txt", context).allowed


# --------------------------------------------------------------------------------------------
# SimulatePrincipalPolicy in moto
# --------------------------------------------------------------------------------------------

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
