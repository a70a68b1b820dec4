"""IAM policy simulation: the pure evaluator (SimulatePrincipalPolicy in moto: test_iam_simulation.py;
the cases two evaluators can read differently: test_iam_documented_cases.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from iam_statements import ACCOUNT, FN, PROD_FN, TAG_KEY, allow, deny, policy

from emulator.iam_evaluation import evaluate
from emulator.iam_parsing import parse_policy
from emulator.iam_policy import PolicyEvaluationError

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
