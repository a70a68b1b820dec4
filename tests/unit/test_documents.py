"""The execution input and the documents between states: what a user is told when they get it wrong."""

from __future__ import annotations

from typing import Any

import pytest

from autotuner_core.documents.base import parse_event
from autotuner_core.documents.request import parse_request, parse_target
from autotuner_core.documents.task import TargetTask
from autotuner_core.policy.errors import InvalidInputError

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ORDERS_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders"


def ours(text: str):
    return parse_target(text, partition="aws", region=REGION, account=ACCOUNT)


# --------------------------------------------------------------------------------------------
# parse_request
# --------------------------------------------------------------------------------------------


def test_valid_request_takes_defaults_and_is_a_dry_run() -> None:
    # Given the smallest valid execution input
    raw = {"targets": ["orders", ORDERS_ARN + ":live"], "memorySize": 1024}
    # When it is parsed
    request = parse_request(raw)
    # Then the values are kept and apply defaults to false (a dry run never mutates)
    assert request.targets == ["orders", ORDERS_ARN + ":live"]
    assert request.memory_size == 1024
    assert request.apply is False
    dumped = request.dump()
    assert {key: dumped[key] for key in ("targets", "memorySize", "apply")} == {
        "targets": ["orders", ORDERS_ARN + ":live"],
        "memorySize": 1024,
        "apply": False,
    }


@pytest.mark.parametrize("memory", [128, 10_240])
def test_memory_bounds_are_inclusive(memory: int) -> None:
    # Given the smallest and the largest memory Lambda accepts
    # When they are requested
    request = parse_request({"targets": ["orders"], "memorySize": memory, "apply": True})
    # Then they are accepted as they are
    assert request.memory_size == memory
    assert request.apply is True


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"memorySize": 1024}, "(input): name the functions to tune with either targets (a list) or select"),
        (
            {"targets": ["orders"], "memorySize": 1024, "dryRun": True},
            "dryRun: a field of Power Tuning's input in an input of ours",
        ),
        ({"targets": ["orders"], "memorySize": 127}, "memorySize: Input should be greater than or equal to 128"),
        ({"targets": ["orders"], "memorySize": 10_241}, "memorySize: Input should be less than or equal to 10240"),
        ({"targets": ["orders"], "memorySize": "1024"}, "memorySize: Input should be a valid integer (got '1024')"),
        ({"targets": ["orders"], "memorySize": 1024.5}, "memorySize: Input should be a valid integer (got 1024.5)"),
        ({"targets": ["orders"], "memorySize": True}, "memorySize: Input should be a valid integer (got True)"),
        ({"targets": [], "memorySize": 1024}, "targets: List should have at least 1 item"),
        ({"targets": ["orders", 42], "memorySize": 1024}, "targets[1]: Input should be a valid string (got 42)"),
        (
            {"targets": ["arn:aws:s3:::orders-bucket"], "memorySize": 1024},
            "targets[0]: 'arn:aws:s3:::orders-bucket' is not a Lambda function name, partial ARN or ARN",
        ),
        ({"targets": ["orders"], "memorySize": 1024, "apply": "yes"}, "apply: Input should be a valid boolean"),
        ({"targets": ["orders"], "memorySize": 1024, "apply": 1}, "apply: Input should be a valid boolean"),
        ({"targets": [f"fn-{i}" for i in range(51)], "memorySize": 1024}, "targets: List should have at most 50 items"),
        ({"targets": ["orders"], "minImprovement": 1.5}, "minImprovement: Input should be less than or equal to 1"),
        (
            {"targets": ["orders"], "minImprovement": -0.01},
            "minImprovement: Input should be greater than or equal to 0",
        ),
    ],
    ids=[
        "missing-targets",
        "unknown-field",
        "memory-127",
        "memory-10241",
        "memory-string",
        "memory-float",
        "memory-bool",
        "empty-targets",
        "non-string-target",
        "malformed-arn",
        "apply-string",
        "apply-int",
        "too-many-targets",
        "min-improvement-above-1",
        "min-improvement-negative",
    ],
)
def test_each_problem_is_reported_with_its_field_path(raw: dict[str, Any], problem: str) -> None:
    # Given an execution input with exactly one problem
    # When it is parsed
    with pytest.raises(InvalidInputError) as caught:
        parse_request(raw)
    # Then the one problem is listed, starting with the path of the field at fault
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(problem)
    assert problem in str(caught.value)
    assert "(1 problem)" in str(caught.value)


def test_every_problem_is_listed_in_one_error() -> None:
    # Given an input with five independent problems
    raw = {"targets": ["orders", 7, "s3://bucket/key"], "memorySize": "2048", "apply": "true", "owner": "me"}
    # When it is parsed
    with pytest.raises(InvalidInputError) as caught:
        parse_request(raw)
    # Then one error carries all of them, one entry each, each naming its field
    problems = caught.value.problems
    assert len(problems) == 5
    paths = sorted(problem.split(":", 1)[0] for problem in problems)
    assert paths == ["apply", "memorySize", "owner", "targets[1]", "targets[2]"]
    message = str(caught.value)
    assert message.startswith("invalid execution input (5 problems): ")
    for problem in problems:
        assert problem in message


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ([], "got an array"),
        ("orders", "got a string"),
        (None, "got null"),
        (1024, "got a number"),
        (True, "got a boolean"),
    ],
)
def test_input_that_is_not_an_object_is_rejected_by_type(raw: Any, kind: str) -> None:
    # Given an execution input that is not a JSON object
    # When it is parsed
    with pytest.raises(InvalidInputError) as caught:
        parse_request(raw)
    # Then the error says an object was expected and what arrived instead
    assert "execution input must be a JSON object" in str(caught.value)
    assert kind in str(caught.value)
    assert caught.value.problems == [str(caught.value)]


# --------------------------------------------------------------------------------------------
# parse_target
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "qualifier"),
    [
        ("orders", None),
        (f"{ACCOUNT}:function:orders", None),
        (ORDERS_ARN, None),
        (f"{ORDERS_ARN}:$LATEST", "$LATEST"),
        (f"{ORDERS_ARN}:7", "7"),
        (f"{ORDERS_ARN}:live", "live"),
        ("orders:live", "live"),
        (f"{ACCOUNT}:function:orders:live", "live"),
    ],
    ids=["name", "partial-arn", "full-arn", "latest", "version", "alias", "name-alias", "partial-arn-alias"],
)
def test_every_spelling_normalises_to_the_unqualified_arn(text: str, qualifier: str | None) -> None:
    # Given a target written as a name, a partial ARN or a full ARN, possibly qualified
    # When it is normalised in the tuner's own partition, region and account
    target = ours(text)
    # Then configuration is addressed on the function itself, and the qualifier is kept apart
    assert target.arn == ORDERS_ARN
    assert target.name == "orders"
    assert target.given == text
    assert target.qualifier == qualifier
    # ($LATEST is the function itself: discovery reads it unqualified)
    assert target.qualified_arn == (f"{ORDERS_ARN}:{qualifier}" if qualifier not in (None, "$LATEST") else ORDERS_ARN)


@pytest.mark.parametrize(
    ("text", "part", "theirs"),
    [
        (f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders", "region", "us-east-1"),
        (f"arn:aws:lambda:{REGION}:210987654321:function:orders", "account", "210987654321"),
        ("210987654321:function:orders", "account", "210987654321"),
        (f"arn:aws-cn:lambda:cn-north-1:{ACCOUNT}:function:orders", "partition", "aws-cn"),
    ],
    ids=["other-region", "other-account", "other-account-partial", "other-partition"],
)
def test_target_outside_the_tuners_account_region_or_partition_is_rejected_naming_the_part(
    text: str, part: str, theirs: str
) -> None:
    # Given a target that lives somewhere this tuner does not work
    # When it is normalised
    with pytest.raises(InvalidInputError) as caught:
        ours(text)
    # Then the error quotes the target and names the part that differs, theirs and ours
    message = str(caught.value)
    assert repr(text) in message
    assert f"{part} {theirs!r}" in message
    ours_value = {"region": REGION, "account": ACCOUNT, "partition": "aws"}[part]
    assert f"works in {part} {ours_value!r} only" in message


@pytest.mark.parametrize("text", ["", "orders:", "arn:aws:s3:::bucket", "a" * 65, "orders:live:extra", "my func"])
def test_malformed_target_is_rejected(text: str) -> None:
    # Given a string that is no Lambda FunctionName form
    # When it is normalised
    with pytest.raises(InvalidInputError) as caught:
        ours(text)
    # Then the error quotes it and says what was expected
    assert repr(text) in str(caught.value)
    assert "not a Lambda function name, partial ARN or ARN" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function", "an ARN's resource must be function:NAME[:QUALIFIER]"),
        (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:", "an ARN's resource must be function:NAME[:QUALIFIER]"),
        (f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:orders", "an ARN's resource must be function:NAME[:QUALIFIER]"),
        (f"arn:aws:lambda:{ACCOUNT}:function:orders", f"its region part '{ACCOUNT}' is not a region"),
        (f"arn:aws:lambda:{REGION}:orders", "an ARN has six parts or more"),
        (f"arn:aws:lambda:{REGION}:1234:function:orders", "its account part '1234' is not a 12-digit account id"),
        (f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders", "it is an ARN of service 'sqs'"),
    ],
    ids=[
        "no-name",
        "empty-name",
        "layer",
        "no-region",
        "five-parts",
        "short-account",
        "other-service",
    ],
)
def test_a_malformed_arn_is_refused_saying_what_is_wrong_not_read_as_a_name(text: str, says: str) -> None:
    # Given an ARN missing a part (Lambda's own pattern reads the first as a function named "function")
    # When it is given as a target in the execution input
    with pytest.raises(InvalidInputError) as caught:
        parse_request({"targets": [text]})
    # Then the input is refused, naming the field and what is wrong with the ARN
    message = str(caught.value)
    assert "targets[0]" in message
    assert says in message


@pytest.mark.parametrize(
    ("field", "value"),
    [("alias", "autotuner-abc-256"), ("alias", "autotuner-live"), ("targets", ["orders:autotuner-1a2b3c4d-256"])],
    ids=["tuner-shaped-alias", "prefixed-alias", "target-qualified-by-a-tuner-alias"],
)
def test_the_tuners_alias_prefix_is_reserved(field: str, value: object) -> None:
    # Given an input that names an alias in the tuner's own namespace (its temporary aliases live there)
    raw = {"targets": ["orders"], "apply": True, field: value}
    # When it is parsed
    with pytest.raises(InvalidInputError) as caught:
        parse_request(raw)
    # Then it is refused, naming the field and the reserved prefix
    assert field in str(caught.value)
    assert "'autotuner-'" in str(caught.value)


def test_an_alias_that_merely_contains_the_word_is_the_users() -> None:
    # Given user aliases that contain but do not start with the prefix
    request = parse_request({"targets": ["orders:my-autotuner-x"], "apply": True, "alias": "live-autotuner-1"})
    # Then they are accepted as the user's own
    assert request.alias == "live-autotuner-1"


# --------------------------------------------------------------------------------------------
# parse_event
# --------------------------------------------------------------------------------------------


def test_malformed_state_document_is_permanent_bad_input_naming_each_field() -> None:
    # Given a TargetTask document without request and target, and a stray field
    event = {
        "execution": {
            "arn": "arn:aws:states:eu-west-1:123456789012:execution:sm:run-1",
            "startTime": "2025-01-01T00:00:00Z",
        },
        "timings": {},
        "admission": "NORMAL",
        "spend": {},
        "surprise": 1,
    }
    # When it is parsed
    with pytest.raises(InvalidInputError) as caught:
        parse_event(TargetTask, event)
    # Then it is InvalidInputError (permanent, never retried), naming the model and every field
    message = str(caught.value)
    assert message.startswith("invalid TargetTask document: ")
    assert sorted(caught.value.problems) == [
        "request: required field is missing",
        "surprise: unknown field (got 1)",
        "target: required field is missing",
    ]


# --------------------------------------------------------------------------------------------
# the tuning fields of the execution input
# --------------------------------------------------------------------------------------------


def test_tuning_fields_have_documented_defaults() -> None:
    # Given only targets
    request = parse_request({"targets": ["orders"]})
    # Then the run measures the standard preset, 10 invocations each, for cost, as a dry run with refinement
    assert request.memory_sizes == [128, 256, 512, 1024, 1536, 1769, 3008]
    assert (request.invocations, request.strategy.value, request.balanced_weight) == (10, "cost", 0.5)
    assert (request.discard_top_bottom, request.only_cold_starts, request.parallel_invocation) == (0.2, False, False)
    assert (request.apply, request.alias, request.refine, request.fixed) == (False, None, True, False)


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"memorySizes": [128, 99]}, "memorySizes[1]"),
        ({"memorySizes": [128, 128]}, "duplicate memory sizes [128]"),
        ({"memorySizes": [512.5]}, "memorySizes[0]"),
        ({"memorySizes": "huge"}, "not a preset"),
        ({"invocations": 4}, "invocations"),
        ({"payload": [{"payload": {}, "weight": -1}]}, "[0].weight"),
        ({"payload": [{"payload": {}, "weight": 1}] * 11}, "11 weighted payloads"),
        ({"payload": "not json"}, "must parse as JSON"),
        ({"payload": {"blob": "x" * (6 * 1024 * 1024)}}, "synchronous invoke limit"),
        ({"balancedWeight": -0.1}, "balancedWeight"),
        ({"discardTopBottom": 0.5}, "discardTopBottom"),
        ({"strategy": "cheapest"}, "strategy"),
        ({"alias": "live"}, "alias: an alias is only moved when apply is true"),
        ({"alias": "12", "apply": True}, "not a Lambda alias name"),
        ({"alias": "$LATEST", "apply": True}, "not a Lambda alias name"),
    ],
)
def test_bad_tuning_fields_name_the_field(raw: dict[str, Any], named: str) -> None:
    # When a tuning field is out of range or malformed
    with pytest.raises(InvalidInputError) as caught:
        parse_request({"targets": ["orders"], **raw})
    # Then the error names it
    assert named in str(caught.value)
