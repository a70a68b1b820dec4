"""The error policy: the taxonomy, and how the state machine retries and catches each error.

This module is the policy's one home. ``statemachine/build.py`` writes every Task's Retry list and
every Catch's ErrorEquals in ``statemachine/autotuner.asl.json`` from :func:`retriers` and
:data:`CAUGHT`; the permissions manifest, the tests and docs/reliability.md read them from here.

Lambda reports an unhandled exception's class name as ``errorType`` and Step Functions
matches ``ErrorEquals`` on it, so each class name here is part of the public contract
with the ASL. Renaming a class is a breaking change.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    """A target function (or its qualifier) does not exist (Lambda ResourceNotFound)."""

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


class BudgetExceededError(PermanentError):
    """The target's counted spend reached its share of the run's limits before enough was measured to decide."""

    category = ErrorCategory.INPUT


class TargetChangedError(PermanentError):
    """Someone else changed the setting we were about to change; we do not overwrite them."""

    category = ErrorCategory.CONFLICT


class CircuitOpenError(PermanentError):
    """The target's circuit breaker is open: it is recorded SKIPPED with the next try time."""

    category = ErrorCategory.CIRCUIT


class TuningInProgressError(PermanentError):
    """Another execution holds the target's lease: it is recorded SKIPPED."""

    category = ErrorCategory.CONFLICT


class PartialFailureError(PermanentError):
    """At least one target of the run failed; each failure has its own run record."""

    category = ErrorCategory.UNKNOWN


class ThrottledError(TransientError):
    """AWS throttled a request (Throttling, TooManyRequests, 429, ProvisionedThroughputExceeded)."""

    category = ErrorCategory.THROTTLING


class ServiceUnavailableError(TransientError):
    """An AWS service failed or did not answer (5xx, timeouts, connection errors)."""

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
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
)
# A worker or a Task that ran out of time: unknown, except in a step that must complete.
TIMEOUT_ERRORS = ("Sandbox.Timedout", "States.Timeout")
# Whatever a Task's retriers give up on goes to its failure path (its Catch): nothing ends a run unrecorded.
CAUGHT = ("States.ALL",)


def _subclasses(base: type[AutotunerError]) -> list[type[AutotunerError]]:
    # Definition order, depth first: the order the ASL lists them in.
    found = []
    for cls in base.__subclasses__():
        found += [cls, *_subclasses(cls)]
    return found


# Every error a function raises, by the name Step Functions reports: the class tree's leaves and
# classes, without the two policy bases nothing raises as such.
ERROR_CLASSES: dict[str, type[AutotunerError]] = {
    cls.__name__: cls for cls in _subclasses(AutotunerError) if cls not in (PermanentError, TransientError)
}


def permanent_errors() -> tuple[str, ...]:
    """Every PermanentError subclass by name: never retried."""
    return tuple(cls.__name__ for cls in _subclasses(PermanentError))


def transient_errors() -> tuple[str, ...]:
    """Every TransientError subclass by name, then the Lambda service's errors: retried with backoff."""
    return tuple(cls.__name__ for cls in _subclasses(TransientError)) + LAMBDA_SERVICE_ERRORS


@dataclass(frozen=True)
class StepPolicy:
    """Why a Task state retries differently from the others."""

    # Losing a record or leaving a temporary alias behind is worse than waiting: such a step retries
    # its transient errors and timeouts (each such step is idempotent) with more patience.
    must_complete: bool = False
    # Pre-flight proved this step's role before the run, so a denial is IAM propagation lag.
    role_proven: bool = True

    @property
    def retries_denial(self) -> bool:
        return self.must_complete and self.role_proven


ORDINARY = StepPolicy()
MUST_COMPLETE = StepPolicy(must_complete=True)
# Task states (by name, wherever nested) that are not ORDINARY.
STEP_POLICIES: dict[str, StepPolicy] = {
    "RecordNoTargets": MUST_COMPLETE,
    "RecordTargetResult": MUST_COMPLETE,
    "RecordTargetFailure": MUST_COMPLETE,
    "CleanupMeasurement": MUST_COMPLETE,
    "CleanupAfterFailure": MUST_COMPLETE,
    # It may follow a pre-flight that failed on this very role: a denial stays permanent.
    "RecordRunFailure": StepPolicy(must_complete=True, role_proven=False),
}


def step_policy(state: str) -> StepPolicy:
    return STEP_POLICIES.get(state, ORDINARY)


@dataclass(frozen=True)
class Retrier:
    """One of a Task's retriers; Step Functions uses the first whose ErrorEquals matches."""

    comment: str
    errors: tuple[str, ...]
    max_attempts: int
    interval_seconds: int | None = None
    backoff_rate: int | None = None
    max_delay_seconds: int | None = None
    full_jitter: bool = False


TRANSIENT_ATTEMPTS = 4
MUST_COMPLETE_ATTEMPTS = 8
RETRY_INTERVAL_SECONDS = 2
BACKOFF_RATE = 2
MAX_DELAY_SECONDS = 30
UNKNOWN_ATTEMPTS = 1


def retriers(state: str) -> tuple[Retrier, ...]:
    """A Task's retriers, in order: transient (backoff, full jitter), permanent (never), unknown (once)."""
    step = step_policy(state)
    transient = transient_errors()
    permanent = permanent_errors()
    if step.retries_denial:
        comment = (
            "must complete: transient errors, IAM propagation (pre-flight proved this role's permissions) "
            "and timeouts (the step is idempotent), with more patience"
        )
        transient += (PermissionDeniedError.__name__, *TIMEOUT_ERRORS)
        permanent = tuple(name for name in permanent if name != PermissionDeniedError.__name__)
    elif step.must_complete:
        comment = (
            "must complete: transient errors and timeouts (the step is idempotent), with more patience; "
            "a denial stays permanent, as pre-flight may have failed on this very role"
        )
        transient += TIMEOUT_ERRORS
    else:
        comment = "transient: back off with full jitter"
    return (
        Retrier(
            comment,
            transient,
            MUST_COMPLETE_ATTEMPTS if step.must_complete else TRANSIENT_ATTEMPTS,
            interval_seconds=RETRY_INTERVAL_SECONDS,
            backoff_rate=BACKOFF_RATE,
            max_delay_seconds=MAX_DELAY_SECONDS,
            full_jitter=True,
        ),
        Retrier("permanent: retrying cannot change the answer", permanent, 0),
        Retrier(
            "unknown: at most one more attempt",
            ("States.ALL",),
            UNKNOWN_ATTEMPTS,
            interval_seconds=RETRY_INTERVAL_SECONDS,
            full_jitter=True,
        ),
    )
