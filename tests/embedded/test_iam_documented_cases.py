"""The IAM evaluator where two evaluators can read a policy differently: each case as AWS documents it."""

from __future__ import annotations

from typing import Any

import pytest
from iam_statements import ACCOUNT, FN, allow, policy

from emulator.iam_evaluation import evaluate

# Four cases an independent evaluator (npm @cloud-copilot/iam-simulate, tests/tools/) can read
# otherwise; each is decided by the AWS documentation page its test names.
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
