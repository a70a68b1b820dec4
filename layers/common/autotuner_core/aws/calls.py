"""The one place that turns botocore errors into the tuner's error taxonomy.

Handlers never let a bare ``ClientError`` reach Step Functions: its class name would be
``ClientError`` for every cause, and the state machine could not tell a missing permission
(permanent) from throttling (transient). Translation is by error *code*, because Lambda's
``AccessDeniedException`` is not a modelled error and arrives as a plain ``ClientError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from autotuner_core.policy.errors import (
    AutotunerError,
    ConditionFailedError,
    FunctionNotFoundError,
    InvalidConfigurationError,
    ObjectNotFoundError,
    PermissionDeniedError,
    ServiceUnavailableError,
    StaleRevisionError,
    ThrottledError,
    UnexpectedAwsError,
    UpdateInProgressError,
)

_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "LimitExceededException",
}
_UNAVAILABLE = {
    "ServiceException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "InternalServerErrorException",
    "RequestTimeout",
    "RequestTimeoutException",
}
_INVALID = {"InvalidParameterValueException", "ValidationException", "InvalidRequestContentException"}


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def translate_client_error(error: ClientError, *, action: str, resource: str) -> AutotunerError:
    """Map a ``ClientError`` from ``action`` on ``resource`` to a taxonomy error.

    The message always names the action and the resource, so a run record says what was
    being done to what, not only what AWS answered.
    """
    code = error_code(error)
    message = error.response.get("Error", {}).get("Message", "") or str(error)
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    text = f"{action} on {resource}: {code}: {message}"
    if code == "ConditionalCheckFailedException":
        return ConditionFailedError(text)
    if code in _DENIED or status == 403:
        return PermissionDeniedError(text)
    if code == "ResourceNotFoundException" and action.startswith("lambda:"):
        return FunctionNotFoundError(text)
    # StartQuery on a log group that does not exist: the function has never logged (telemetry/reading.py).
    if code == "ResourceNotFoundException" and action.startswith("logs:"):
        return ObjectNotFoundError(text)
    # HeadObject answers a missing object with a bare 404 (no body to carry NoSuchKey).
    if action.startswith("s3:") and (code in {"NoSuchKey", "NoSuchBucket", "404"} or status == 404):
        return ObjectNotFoundError(text)
    if code == "ResourceConflictException":
        return UpdateInProgressError(text)
    if code == "PreconditionFailedException":
        return StaleRevisionError(text)
    if code in _THROTTLED or status == 429:
        return ThrottledError(text)
    if code in _UNAVAILABLE or status >= 500:
        return ServiceUnavailableError(text)
    if code in _INVALID and action.startswith("lambda:"):
        return InvalidConfigurationError(text)
    return UnexpectedAwsError(text)


def translate_botocore_error(error: BotoCoreError, *, action: str, resource: str) -> AutotunerError:
    """Network-level failures (no HTTP answer) are transient; anything else is unexpected."""
    text = f"{action} on {resource}: {type(error).__name__}: {error}"
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError):
        return ServiceUnavailableError(text)
    return UnexpectedAwsError(text)


@contextmanager
def aws_call(action: str, resource: str) -> Iterator[None]:
    """Run one AWS call; re-raise its failure as a taxonomy error (``raise ... from``)."""
    try:
        yield
    except ClientError as error:
        raise translate_client_error(error, action=action, resource=resource) from error
    except BotoCoreError as error:
        raise translate_botocore_error(error, action=action, resource=resource) from error
