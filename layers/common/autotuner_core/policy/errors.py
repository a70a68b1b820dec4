"""The error taxonomy the state machine's Retry/Catch blocks are written against.

Lambda reports an unhandled exception's class name as ``errorType`` and Step Functions
matches ``ErrorEquals`` on it, so each class name here is part of the public contract
with ``statemachine/autotuner.asl.json``. Renaming a class is a breaking change.
"""

from __future__ import annotations

from enum import StrEnum


class RetryPolicy(StrEnum):
    """How the state machine treats an error: retried as transient, failed at once, or retried once."""

    PERMANENT = "permanent"  # never retried: retrying cannot change the answer
    TRANSIENT = "transient"  # retried with exponential backoff and full jitter
    UNKNOWN = "unknown"  # retried at most once


class ErrorCategory(StrEnum):
    """What went wrong, for run records, metrics and dashboards."""

    INPUT = "input"
    PERMISSION = "permission"
    NOT_FOUND = "not-found"
    CONFIGURATION = "configuration"
    CONFLICT = "conflict"
    THROTTLING = "throttling"
    SERVICE = "service"
    CIRCUIT = "circuit"
    UNKNOWN = "unknown"


class AutotunerError(Exception):
    """Base of every error a tuner function raises on purpose."""

    policy: RetryPolicy = RetryPolicy.UNKNOWN
    category: ErrorCategory = ErrorCategory.UNKNOWN


class PermanentError(AutotunerError):
    policy = RetryPolicy.PERMANENT


class TransientError(AutotunerError):
    policy = RetryPolicy.TRANSIENT


class InvalidInputError(PermanentError):
    """The execution input (or an event) is malformed; nothing was changed."""

    category = ErrorCategory.INPUT

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class PermissionDeniedError(PermanentError):
    """A role the run depends on lacks an action on a resource."""

    category = ErrorCategory.PERMISSION


class FunctionNotFoundError(PermanentError):
    category = ErrorCategory.NOT_FOUND


class ObjectNotFoundError(AutotunerError):
    """An S3 object does not exist. payloads.py turns it into the error of its step; elsewhere (the
    target list) it keeps the unknown policy an unexpected S3 error had: at most one retry."""

    category = ErrorCategory.NOT_FOUND


class InvalidConfigurationError(PermanentError):
    """Lambda rejected the desired configuration (range, account quota, failed update)."""

    category = ErrorCategory.CONFIGURATION


class LiveTrafficError(PermanentError):
    """The target's $LATEST serves live traffic: measuring it in place would run production at candidate sizes."""

    category = ErrorCategory.CONFIGURATION


class NoPayloadError(PermanentError):
    """A function in a sweep has no payload of its own: it is not invoked with a guess, and is recorded SKIPPED."""

    category = ErrorCategory.INPUT


class ProcessorFailedError(PermanentError):
    """The preProcessor or postProcessor function failed: the measurement cannot go on (as in Power Tuning)."""

    category = ErrorCategory.CONFIGURATION


class TargetChangedError(PermanentError):
    """Someone else changed the setting we were about to change; we do not overwrite them."""

    category = ErrorCategory.CONFLICT


class CircuitOpenError(PermanentError):
    category = ErrorCategory.CIRCUIT


class TuningInProgressError(PermanentError):
    category = ErrorCategory.CONFLICT


class PartialFailureError(PermanentError):
    """At least one target of the run failed; each failure has its own run record."""

    category = ErrorCategory.UNKNOWN


class ThrottledError(TransientError):
    category = ErrorCategory.THROTTLING


class ServiceUnavailableError(TransientError):
    category = ErrorCategory.SERVICE


class UpdateInProgressError(TransientError):
    """The target is Pending or has an update in progress; try again shortly."""

    category = ErrorCategory.CONFLICT


class StaleRevisionError(TransientError):
    """Our RevisionId no longer matches; the updater re-reads and decides again."""

    category = ErrorCategory.CONFLICT


class ConditionFailedError(AutotunerError):
    """A DynamoDB condition did not hold; callers decide what that means (never raised to Step Functions)."""


class UnexpectedAwsError(AutotunerError):
    """An AWS error outside the taxonomy: retried at most once by the state machine."""


ERROR_CLASSES: dict[str, type[AutotunerError]] = {
    cls.__name__: cls
    for cls in (
        InvalidInputError,
        PermissionDeniedError,
        FunctionNotFoundError,
        InvalidConfigurationError,
        LiveTrafficError,
        NoPayloadError,
        ProcessorFailedError,
        TargetChangedError,
        CircuitOpenError,
        TuningInProgressError,
        PartialFailureError,
        ThrottledError,
        ServiceUnavailableError,
        UpdateInProgressError,
        StaleRevisionError,
        ConditionFailedError,
        UnexpectedAwsError,
    )
}


def classify(error_name: str) -> tuple[RetryPolicy, ErrorCategory]:
    """Policy and category for an error name as Step Functions reports it.

    Names outside our taxonomy come from the Lambda service or the state machine itself
    (``Lambda.TooManyRequestsException``, ``States.Timeout``); they are classified the way
    the state machine's retriers treat them.
    """
    cls = ERROR_CLASSES.get(error_name)
    if cls is not None:
        return cls.policy, cls.category
    if error_name == "Lambda.TooManyRequestsException":
        return RetryPolicy.TRANSIENT, ErrorCategory.THROTTLING
    if error_name in LAMBDA_SERVICE_ERRORS:
        return RetryPolicy.TRANSIENT, ErrorCategory.SERVICE
    return RetryPolicy.UNKNOWN, ErrorCategory.UNKNOWN


# Errors of the Lambda service itself, as the Step Functions Lambda integration names them.
LAMBDA_SERVICE_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.TooManyRequestsException",
)
