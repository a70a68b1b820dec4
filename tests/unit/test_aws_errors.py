"""botocore errors become the taxonomy the state machine's Retry/Catch blocks match on."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from autotuner_core.aws.calls import aws_call, translate_client_error
from autotuner_core.policy.errors import (
    AutotunerError,
    ConditionFailedError,
    ErrorCategory,
    FunctionNotFoundError,
    InvalidConfigurationError,
    InvalidInputError,
    PermissionDeniedError,
    RetryPolicy,
    ServiceUnavailableError,
    StaleRevisionError,
    ThrottledError,
    UnexpectedAwsError,
    UpdateInProgressError,
    classify,
)

FN = "arn:aws:lambda:eu-west-1:123456789012:function:orders"
TABLE = "autotuner-RunHistory"

# (error code, HTTP status, action, resource, expected class)
TRANSLATIONS = [
    ("AccessDeniedException", 403, "lambda:UpdateFunctionConfiguration", FN, PermissionDeniedError),
    ("AccessDenied", 403, "iam:SimulatePrincipalPolicy", "arn:aws:iam::123456789012:role/r", PermissionDeniedError),
    ("AccessDeniedException", 400, "dynamodb:PutItem", TABLE, PermissionDeniedError),
    ("ResourceNotFoundException", 404, "lambda:GetFunction", FN, FunctionNotFoundError),
    ("ResourceConflictException", 409, "lambda:UpdateFunctionConfiguration", FN, UpdateInProgressError),
    ("PreconditionFailedException", 412, "lambda:UpdateFunctionConfiguration", FN, StaleRevisionError),
    ("TooManyRequestsException", 429, "lambda:GetFunction", FN, ThrottledError),
    ("ThrottlingException", 400, "dynamodb:PutItem", TABLE, ThrottledError),
    ("Throttling", 400, "iam:SimulatePrincipalPolicy", "arn:aws:iam::123456789012:role/r", ThrottledError),
    ("ProvisionedThroughputExceededException", 400, "dynamodb:PutItem", TABLE, ThrottledError),
    ("SomethingNewAndBusy", 429, "lambda:GetFunction", FN, ThrottledError),
    ("ServiceException", 500, "lambda:GetFunction", FN, ServiceUnavailableError),
    ("InternalServerError", 500, "dynamodb:PutItem", TABLE, ServiceUnavailableError),
    ("SomethingNewAndBroken", 500, "lambda:GetFunction", FN, ServiceUnavailableError),
    (
        "ServiceUnavailable",
        503,
        "iam:SimulatePrincipalPolicy",
        "arn:aws:iam::123456789012:role/r",
        ServiceUnavailableError,
    ),
    ("", 503, "lambda:GetFunction", FN, ServiceUnavailableError),
    ("InvalidParameterValueException", 400, "lambda:UpdateFunctionConfiguration", FN, InvalidConfigurationError),
    ("ConditionalCheckFailedException", 400, "dynamodb:PutItem", TABLE, ConditionFailedError),
    ("NoSuchBucketOrWhatever", 400, "lambda:GetFunction", FN, UnexpectedAwsError),
    # The same codes outside Lambda mean something else: not our function, not our configuration.
    ("ResourceNotFoundException", 400, "dynamodb:PutItem", TABLE, UnexpectedAwsError),
    ("ValidationException", 400, "dynamodb:PutItem", TABLE, UnexpectedAwsError),
]


@pytest.mark.parametrize(
    ("code", "status", "action", "resource", "expected"),
    TRANSLATIONS,
    ids=[f"{code or 'no-code'}-{status}-{action}" for code, status, action, *_ in TRANSLATIONS],
)
def test_client_error_is_translated_by_code_and_status(
    client_error: Callable[..., ClientError],
    code: str,
    status: int,
    action: str,
    resource: str,
    expected: type[AutotunerError],
) -> None:
    # Given a plain ClientError as botocore raises it (Lambda's AccessDenied is not modelled)
    error = client_error(code, f"AWS says {code or 'nothing'}", status)
    # When it is translated
    translated = translate_client_error(error, action=action, resource=resource)
    # Then it is exactly the taxonomy class the state machine expects
    assert type(translated) is expected
    # And the message says what was being done to what, and what AWS answered
    message = str(translated)
    assert message.startswith(f"{action} on {resource}: {code}: ")
    assert f"AWS says {code or 'nothing'}" in message


def test_policy_follows_the_translated_class(client_error: Callable[..., ClientError]) -> None:
    # Given a permission denial and a throttle
    denied = translate_client_error(
        client_error("AccessDeniedException", status=403), action="lambda:GetFunction", resource=FN
    )
    throttled = translate_client_error(
        client_error("TooManyRequestsException", status=429), action="lambda:GetFunction", resource=FN
    )
    # Then one fails fast and the other is retried
    assert denied.policy is RetryPolicy.PERMANENT
    assert denied.category is ErrorCategory.PERMISSION
    assert throttled.policy is RetryPolicy.TRANSIENT
    assert throttled.category is ErrorCategory.THROTTLING


def test_aws_call_reraises_the_translation_with_the_client_error_as_cause(
    client_error: Callable[..., ClientError],
) -> None:
    # Given a call that fails with AccessDeniedException
    original = client_error(
        "AccessDeniedException",
        "User: arn:aws:sts::123456789012:assumed-role/r/s is not authorized to perform: lambda:GetFunction",
        403,
    )
    # When it runs inside aws_call
    with pytest.raises(PermissionDeniedError) as caught, aws_call("lambda:GetFunction", FN):
        raise original
    # Then the taxonomy error names action and resource, and chains the original error
    assert caught.value.__cause__ is original
    assert "lambda:GetFunction on " + FN in str(caught.value)
    assert "is not authorized to perform" in str(caught.value)


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://lambda.eu-west-1.amazonaws.com/"),
        ConnectTimeoutError(endpoint_url="https://lambda.eu-west-1.amazonaws.com/"),
        ReadTimeoutError(endpoint_url="https://lambda.eu-west-1.amazonaws.com/"),
    ],
    ids=["endpoint-connection", "connect-timeout", "read-timeout"],
)
def test_network_failure_without_an_answer_is_transient(error: Exception) -> None:
    # Given a call that never got an HTTP answer
    # When it runs inside aws_call
    with pytest.raises(ServiceUnavailableError) as caught, aws_call("lambda:GetFunction", FN):
        raise error
    # Then it is retried as a service problem, naming action, resource and the botocore error
    assert caught.value.__cause__ is error
    assert str(caught.value).startswith(f"lambda:GetFunction on {FN}: {type(error).__name__}: ")


def test_other_botocore_error_is_unexpected() -> None:
    # Given a botocore failure that is not a network failure
    error = NoCredentialsError()
    # When it runs inside aws_call
    with pytest.raises(UnexpectedAwsError) as caught, aws_call("dynamodb:PutItem", TABLE):
        raise error
    # Then it is neither permanent nor transient, and says what was being done
    assert caught.value.__cause__ is error
    assert f"dynamodb:PutItem on {TABLE}: NoCredentialsError" in str(caught.value)


def test_aws_call_leaves_other_exceptions_alone() -> None:
    # Given a failure that is not botocore's (a bug in our own code)
    # When it runs inside aws_call
    # Then it passes through untranslated
    with pytest.raises(KeyError), aws_call("lambda:GetFunction", FN):
        raise KeyError("Configuration")


# --------------------------------------------------------------------------------------------
# errors.classify: what run records and metrics call an error name
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "policy", "category"),
    [
        ("InvalidInputError", RetryPolicy.PERMANENT, ErrorCategory.INPUT),
        ("PermissionDeniedError", RetryPolicy.PERMANENT, ErrorCategory.PERMISSION),
        ("FunctionNotFoundError", RetryPolicy.PERMANENT, ErrorCategory.NOT_FOUND),
        ("InvalidConfigurationError", RetryPolicy.PERMANENT, ErrorCategory.CONFIGURATION),
        ("TargetChangedError", RetryPolicy.PERMANENT, ErrorCategory.CONFLICT),
        ("CircuitOpenError", RetryPolicy.PERMANENT, ErrorCategory.CIRCUIT),
        ("TuningInProgressError", RetryPolicy.PERMANENT, ErrorCategory.CONFLICT),
        ("ThrottledError", RetryPolicy.TRANSIENT, ErrorCategory.THROTTLING),
        ("ServiceUnavailableError", RetryPolicy.TRANSIENT, ErrorCategory.SERVICE),
        ("UpdateInProgressError", RetryPolicy.TRANSIENT, ErrorCategory.CONFLICT),
        ("StaleRevisionError", RetryPolicy.TRANSIENT, ErrorCategory.CONFLICT),
        ("UnexpectedAwsError", RetryPolicy.UNKNOWN, ErrorCategory.UNKNOWN),
        ("Lambda.TooManyRequestsException", RetryPolicy.TRANSIENT, ErrorCategory.THROTTLING),
        ("Lambda.ServiceException", RetryPolicy.TRANSIENT, ErrorCategory.SERVICE),
        ("Lambda.AWSLambdaException", RetryPolicy.TRANSIENT, ErrorCategory.SERVICE),
        ("Lambda.SdkClientException", RetryPolicy.TRANSIENT, ErrorCategory.SERVICE),
        ("Lambda.ClientExecutionTimeoutException", RetryPolicy.TRANSIENT, ErrorCategory.SERVICE),
        ("States.Timeout", RetryPolicy.UNKNOWN, ErrorCategory.UNKNOWN),
        ("States.TaskFailed", RetryPolicy.UNKNOWN, ErrorCategory.UNKNOWN),
        ("ClientError", RetryPolicy.UNKNOWN, ErrorCategory.UNKNOWN),
        ("", RetryPolicy.UNKNOWN, ErrorCategory.UNKNOWN),
    ],
)
def test_classify_names_the_policy_the_state_machine_applies(
    name: str, policy: RetryPolicy, category: ErrorCategory
) -> None:
    # Given an error name as Step Functions reports it
    # When it is classified
    # Then it gets the policy and category policy/errors.py gives it
    assert classify(name) == (policy, category)


def test_invalid_input_error_lists_itself_as_the_only_problem_by_default() -> None:
    # Given an InvalidInputError raised with a message only
    error = InvalidInputError("memorySize: required field is missing")
    # Then its problems are that message, so a caller can always list problems
    assert error.problems == ["memorySize: required field is missing"]
