"""The one door to moto's and botocore's internals: pinned versions, lazy imports, reversible patches.

The embedded AWS adds what moto lacks by reading and patching moto and botocore internals: private
modules, classes and module attributes that change between releases without notice. So that an
upgrade fails loudly in one place instead of quietly somewhere else:

- ``PINNED`` holds the versions every internal use was checked against. Importing this module
  compares them with the installed ones and refuses, with one message naming each difference.
- ``INTERNALS`` names every internal the embedded AWS uses and where it lives; other modules import
  them from here (``from emulator.moto_adapter import LambdaBackend``), never from moto or
  botocore directly. They are imported on first use, so importing this module stays cheap.
- ``patch()``, ``patched()`` and ``Patches`` replace an attribute and put back exactly what was
  there; patching an attribute that no longer exists fails before anything changes. ``add()``
  gives a class what moto lacks, and fails once moto has it itself.

Upgrading moto or botocore on purpose: install the new version, update PINNED (until then nothing
imports), then run ``tests/embedded/test_moto_adapter.py`` (it resolves every entry of INTERNALS)
and the tests of each module that patches.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

__all__ = [
    "INTERNALS",
    "PINNED",
    "InternalChangedError",
    "Patches",
    "VersionMismatchError",
    "add",
    "aws_managed_policies",
    "check_versions",
    "installed_versions",
    "mock_is_active",
    "patch",
    "patched",
    "resolve",
    "unresolvable_internals",
]

# Exact versions, or "X.Y.*" for any release of a minor line; pyproject.toml ([dev]) pins the same
# ones, so a fresh virtualenv gets exactly what every internal use was checked against.
PINNED: dict[str, str] = {
    "moto": "5.2.5",
    "botocore": "1.43.127",
    "boto3": "1.43.108",
}

# name -> "module" or "module:attribute". The comment says who uses it and why.
INTERNALS: dict[str, str] = {
    # moto's request entry point (a botocore before-send hook): interceptor.py wraps it.
    "BotocoreStubber": "moto.core.botocore_stubber:BotocoreStubber",
    "MockRawResponse": "moto.core.botocore_stubber:MockRawResponse",
    "AWSResponse": "botocore.awsrequest:AWSResponse",
    # Whether a mock is active (its private class flag): stack/deployer.py refuses to deploy outside one.
    "MockAWS": "moto.core.models:MockAWS",
    # moto's response type for the IAM action iam_simulation.py adds.
    "ActionResult": "moto.core.responses:ActionResult",
    # IAM: moto's copy of the AWS managed policies (stack/), its backend (stack/resources/iam.py),
    # its responses and errors (iam_simulation.py adds SimulatePrincipalPolicy).
    "aws_managed_policies_data": "moto.iam.aws_managed_policies:aws_managed_policies_data",
    "AWSManagedPolicy": "moto.iam.models:AWSManagedPolicy",
    "iam_backends": "moto.iam.models:iam_backends",
    "IamResponse": "moto.iam.responses:IamResponse",
    "IAMException": "moto.iam.exceptions:IAMException",
    "InvalidInput": "moto.iam.exceptions:InvalidInput",
    "NotFoundException": "moto.iam.exceptions:NotFoundException",
    # Lambda: lambda_service.py patches the backend, the function model and the responses.
    "LambdaBackend": "moto.awslambda.models:LambdaBackend",
    "LambdaFunction": "moto.awslambda.models:LambdaFunction",
    "LambdaResponse": "moto.awslambda.responses:LambdaResponse",
    "ConflictException": "moto.awslambda.exceptions:ConflictException",
    "InvalidParameterValueException": "moto.awslambda.exceptions:InvalidParameterValueException",
    "LambdaClientError": "moto.awslambda.exceptions:LambdaClientError",
    "PreconditionFailedException": "moto.awslambda.exceptions:PreconditionFailedException",
    # Step Functions interpreter: cloud.py scales the retriers' clock; map_runs.py runs a Distributed
    # Map's items as child executions (the map run's counts, the children's events, their end, the
    # tolerated-failure threshold) and answers for them in the backend and the responses.
    "retrier_decl": "moto.stepfunctions.parser.asl.component.common.retry.retrier_decl",
    "distributed_iteration_component": (
        "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component"
    ),
    "DistributedItemProcessorWorker": (
        "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor."
        "distributed_item_processor_worker:DistributedItemProcessorWorker"
    ),
    "HistoryEventType": "moto.stepfunctions.parser.api:HistoryEventType",
    "EventManager": "moto.stepfunctions.parser.asl.eval.event.event_manager:EventManager",
    "EventHistoryContext": "moto.stepfunctions.parser.asl.eval.event.event_manager:EventHistoryContext",
    "ProgramError": "moto.stepfunctions.parser.asl.eval.program_state:ProgramError",
    "ProgramStopped": "moto.stepfunctions.parser.asl.eval.program_state:ProgramStopped",
    "ProgramTimedOut": "moto.stepfunctions.parser.asl.eval.program_state:ProgramTimedOut",
    "FailureEvent": "moto.stepfunctions.parser.asl.component.common.error_name.failure_event:FailureEvent",
    "FailureEventException": (
        "moto.stepfunctions.parser.asl.component.common.error_name.failure_event:FailureEventException"
    ),
    "StatesErrorName": "moto.stepfunctions.parser.asl.component.common.error_name.states_error_name:StatesErrorName",
    "StatesErrorNameType": (
        "moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type:StatesErrorNameType"
    ),
    "StepFunctionsParserBackend": "moto.stepfunctions.parser.models:StepFunctionsParserBackend",
    "StepFunctionResponse": "moto.stepfunctions.responses:StepFunctionResponse",
    "StepFunctionsInvalidToken": "moto.stepfunctions.exceptions:InvalidToken",
    "StepFunctionsResourceNotFound": "moto.stepfunctions.exceptions:ResourceNotFound",
    "StepFunctionsValidationException": "moto.stepfunctions.exceptions:ValidationException",
    # The partition of a region (lambda_service.py reads a function's IAM policies by partition).
    "get_partition": "moto.utilities.utils:get_partition",
    # moto's ASL parser (asl_compat.py lets it read an integer ToleratedFailurePercentage).
    "asl_parser": "moto.stepfunctions.parser.asl.parse.asl_parser",
    # DynamoDB: dynamodb_atomic.py makes moto's conditional writes atomic, as DynamoDB's are.
    "DynamoDBBackend": "moto.dynamodb.models:DynamoDBBackend",
    "DynamoDBTable": "moto.dynamodb.models.table:Table",
    # CloudWatch: cloudwatch_exact.py makes GetMetricStatistics read one metric (its exact dimension set).
    "CloudWatchBackend": "moto.cloudwatch.models:CloudWatchBackend",
    "MetricDatumBase": "moto.cloudwatch.models:MetricDatumBase",
    # CloudWatch Logs: logs_insights.py answers StartQuery/GetQueryResults strictly; history.py writes the
    # functions' past REPORT lines into their log groups (the stream's own put, without the 14-day age check).
    "logs_backends": "moto.logs.models:logs_backends",
    "LogsResponse": "moto.logs.responses:LogsResponse",
    "LogsClientError": "moto.logs.exceptions:LogsClientError",
    # botocore's session module: sdk_cache.py gives every session one data loader.
    "botocore_session": "botocore.session",
    # botocore's endpoint module: cloud.py scales the clock of its retry sleeps.
    "botocore_endpoint": "botocore.endpoint",
    # IAM on the real calls (iam_enforcement.py): every SDK call's parameters are captured where it
    # starts (interceptor.py); the resources' tags and bucket policies are read from moto's backends.
    "BaseClient": "botocore.client:BaseClient",
    "lambda_backends": "moto.awslambda.models:lambda_backends",
    "UnknownFunctionException": "moto.awslambda.exceptions:UnknownFunctionException",
    "s3_backends": "moto.s3.models:s3_backends",
    # moto's own bucket-policy check ignores Conditions; cloud.py switches it off (iam_enforcement
    # evaluates bucket policies with their Conditions).
    "FakeBucket": "moto.s3.models:FakeBucket",
    "PermissionResult": "moto.iam.access_control:PermissionResult",
    # A Task's refused Lambda call is named as Step Functions names it (cloud.py).
    "StateTaskServiceLambda": (
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda"
        ":StateTaskServiceLambda"
    ),
}


class VersionMismatchError(RuntimeError):
    """The installed moto, botocore or boto3 is not the version the embedded AWS was checked against."""


class InternalChangedError(RuntimeError):
    """A moto or botocore internal the embedded AWS uses is gone or has moved."""


# -- versions -------------------------------------------------------------------------------------


def installed_versions() -> dict[str, str | None]:
    """Installed version of each pinned distribution (None when it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in PINNED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _matches(version: str, pin: str) -> bool:
    if pin.endswith(".*"):
        return version.startswith(pin[:-1])  # "1.43.*" admits "1.43.127", not "1.430.0"
    return version == pin


def check_versions(installed: Mapping[str, str | None] | None = None) -> None:
    """Raise VersionMismatchError naming every distribution whose installed version is not pinned.

    `installed` defaults to what is installed (installed_versions()).
    """
    installed = installed_versions() if installed is None else installed
    wrong = []
    for name, pin in PINNED.items():
        version = installed.get(name)
        if version is None:
            wrong.append(f"{name} is not installed (pinned: {pin})")
        elif not _matches(version, pin):
            wrong.append(f"{name} {version} is installed (pinned: {pin})")
    if wrong:
        pins = ", ".join(f"{name}=={pin}" for name, pin in PINNED.items())
        raise VersionMismatchError(
            f"The embedded AWS patches moto and botocore internals checked against {pins}, but "
            f"{'; '.join(wrong)}. Install the pinned versions (make venv), or, to upgrade on purpose, "
            f"re-check the internals in emulator/moto_adapter.py and update PINNED there."
        )


# -- internals ------------------------------------------------------------------------------------


def _installed_text() -> str:
    return ", ".join(f"{name} {version}" for name, version in installed_versions().items())


def resolve(name: str) -> Any:
    """The internal listed in INTERNALS under `name`, imported on first use.

    Raises KeyError for a name INTERNALS does not list and InternalChangedError when the module or
    attribute it names does not exist in the installed moto/botocore.
    """
    location = INTERNALS[name]
    module_name, _, attribute = location.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise InternalChangedError(
            f"moto_adapter.{name}: module {module_name} cannot be imported with {_installed_text()} ({e})"
        ) from e
    if not attribute:
        return module
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise InternalChangedError(
            f"moto_adapter.{name}: {module_name} has no {attribute} with {_installed_text()}"
        ) from None


def unresolvable_internals() -> dict[str, str]:
    """Every INTERNALS entry that does not resolve, with the reason (empty when all do)."""
    failures: dict[str, str] = {}
    for name in INTERNALS:
        try:
            resolve(name)
        except InternalChangedError as e:
            failures[name] = str(e)
    return failures


def __getattr__(name: str) -> Any:
    # `from emulator.moto_adapter import LambdaBackend` lands here on first use.
    if name not in INTERNALS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = resolve(name)
    globals()[name] = value  # later lookups skip this function
    return value


def mock_is_active() -> bool:
    """Whether a moto mock (mock_aws) is active in this process."""
    mock_class = resolve("MockAWS")
    return bool(_require_attribute(mock_class, "_mocks_active"))


@functools.cache
def aws_managed_policies() -> dict[str, dict[str, Any]]:
    """moto's copy of the AWS managed policies: name -> {"Path", "Document", ...}.

    Parsing it takes ~0.6 s, so it happens on first use, once.
    """
    return json.loads(resolve("aws_managed_policies_data"))


# -- patches --------------------------------------------------------------------------------------

_ABSENT = object()


def _owner_name(owner: Any) -> str:
    return getattr(owner, "__qualname__", None) or getattr(owner, "__name__", None) or repr(owner)


def _require_attribute(owner: Any, name: str) -> Any:
    try:
        return getattr(owner, name)
    except AttributeError:
        raise InternalChangedError(
            f"{_owner_name(owner)}.{name} does not exist with {_installed_text()}: the patch or read of it must be "
            f"re-checked against the installed moto/botocore"
        ) from None


def patch(owner: Any, name: str, replacement: Any) -> Callable[[], None]:
    """Set `owner.name` to `replacement` (a class, module or object); return the function that undoes it.

    The undo puts back exactly what `owner` itself held (a staticmethod stays a staticmethod) or,
    when the attribute was inherited, removes the override. Calling the undo twice does nothing.
    Raises InternalChangedError, changing nothing, when `owner` has no attribute `name`.
    """
    _require_attribute(owner, name)
    own = getattr(owner, "__dict__", {})
    saved = own.get(name, _ABSENT) if isinstance(own, Mapping) else _ABSENT
    setattr(owner, name, replacement)
    done = False

    def undo() -> None:
        nonlocal done
        if done:
            return
        done = True
        if saved is _ABSENT:
            delattr(owner, name)
        else:
            setattr(owner, name, saved)

    return undo


def add(owner: Any, name: str, value: Any) -> Callable[[], None]:
    """Give `owner` an attribute it does not have (e.g. an action moto lacks); return the undo.

    Raises InternalChangedError, changing nothing, when `owner` already has `name`: moto now
    provides it, and the addition would hide moto's own.
    """
    if hasattr(owner, name):
        raise InternalChangedError(
            f"{_owner_name(owner)}.{name} exists with {_installed_text()}: moto provides it now, and the "
            f"embedded AWS's own would hide it; re-check whether it is still needed"
        )
    setattr(owner, name, value)
    done = False

    def undo() -> None:
        nonlocal done
        if not done:
            done = True
            delattr(owner, name)

    return undo


@contextmanager
def patched(owner: Any, name: str, replacement: Any) -> Iterator[Any]:
    """`patch` for the duration of a `with` block; yields the value it replaced."""
    original = _require_attribute(owner, name)
    undo = patch(owner, name, replacement)
    try:
        yield original
    finally:
        undo()


class Patches:
    """Patches installed together and undone together, the last one first.

    For emulations that install at start and uninstall at stop::

        patches = Patches()
        original = patches.patch(LambdaBackend, "invoke", invoke)
        ...
        patches.undo()
    """

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def patch(self, owner: Any, name: str, replacement: Any) -> Any:
        """Patch `owner.name` (see `patch`); returns the value it replaced, for the replacement to call."""
        original = _require_attribute(owner, name)
        self._undo.append(patch(owner, name, replacement))
        return original

    def add(self, owner: Any, name: str, value: Any) -> None:
        """Add an attribute `owner` does not have (see `add`)."""
        self._undo.append(add(owner, name, value))

    def undo(self) -> None:
        """Undo every patch, the last one first."""
        while self._undo:
            self._undo.pop()()

    def __len__(self) -> int:
        return len(self._undo)


# An upgrade fails here, at import, before any internal is used or patched.
check_versions()
