"""The documents that flow through the state machine, as pydantic models.

Step N's output model is step N+1's input model. JSON field names are camelCase (the
execution input's style); a function's configuration keeps Lambda's own PascalCase names
so it reads like ``GetFunctionConfiguration``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, ValidationError
from pydantic.alias_generators import to_camel, to_pascal

from autotuner_core.errors import InvalidInputError

M = TypeVar("M", bound=BaseModel)

MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10_240
MAX_EXPLICIT_TARGETS = 50

# Lambda's FunctionName forms: name, partial ARN (account:function:name) or full ARN, each
# optionally qualified with a version, an alias or $LATEST.
_TARGET = re.compile(
    r"^(?:arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?"
    r"(?:function:)?"
    r"(?P<name>[a-zA-Z0-9_-]{1,64})"
    r"(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]{1,128}))?$"
)


class Document(BaseModel):
    """A JSON document between states: camelCase, no unknown fields."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Outcome(StrEnum):
    APPLIED = "APPLIED"  # the new configuration is live and verified
    UNCHANGED = "UNCHANGED"  # the target already had the desired configuration
    RECOMMENDED = "RECOMMENDED"  # dry run: what would be applied
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


MemorySize = Annotated[int, Field(strict=True, ge=MIN_MEMORY_MB, le=MAX_MEMORY_MB)]


def _function_reference(text: str) -> str:
    if not _TARGET.match(text):
        raise ValueError(f"{text!r:.80} is not a Lambda function name, partial ARN or ARN")
    return text


FunctionReference = Annotated[str, Field(strict=True), AfterValidator(_function_reference)]


class TuningRequest(Document):
    """The execution input a user writes (README: "Execution input")."""

    model_config = ConfigDict(frozen=True)

    targets: list[FunctionReference] = Field(min_length=1, max_length=MAX_EXPLICIT_TARGETS)
    memory_size: MemorySize
    apply: StrictBool = False


class TargetRef(Document):
    """A target as the run refers to it: normalised to an ARN in the tuner's account/region."""

    model_config = ConfigDict(frozen=True)

    given: str
    name: str
    arn: str  # unqualified: configuration belongs to the function, not a version
    qualifier: str | None = None

    @property
    def qualified_arn(self) -> str:
        return f"{self.arn}:{self.qualifier}" if self.qualifier else self.arn


def parse_target(text: str, *, partition: str, region: str, account: str) -> TargetRef:
    """Normalise one target; a reference to another account, region or partition is rejected."""
    match = _TARGET.match(text)
    if not match:
        raise InvalidInputError(f"target {text!r} is not a Lambda function name, partial ARN or ARN")
    parts = match.groupdict()
    for key, ours in (("partition", partition), ("region", region), ("account", account)):
        if parts[key] and parts[key] != ours:
            raise InvalidInputError(
                f"target {text!r} is in {key} {parts[key]!r}; this tuner works in {key} {ours!r} only"
            )
    arn = f"arn:{partition}:lambda:{region}:{account}:function:{parts['name']}"
    return TargetRef(given=text, name=parts["name"], arn=arn, qualifier=parts["qualifier"])


def parse_request(raw: Any) -> TuningRequest:
    """Validate the execution input, naming every problem with its field path."""
    if not isinstance(raw, dict):
        raise InvalidInputError(
            f"execution input must be a JSON object, got {type(raw).__name__}",
        )
    try:
        return TuningRequest.model_validate(raw)
    except ValidationError as error:
        problems = [_describe(problem) for problem in error.errors()]
        raise InvalidInputError(
            f"invalid execution input ({len(problems)} problem{'s' if len(problems) > 1 else ''}): "
            + "; ".join(problems),
            problems,
        ) from None


def _describe(problem: Any) -> str:
    path = ""
    for part in problem["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = problem["msg"].removeprefix("Value error, ")
    if problem["type"] == "extra_forbidden":
        message = "unknown field"
    elif problem["type"] == "missing":
        message = "required field is missing"
    value = problem.get("input")
    shown = "" if problem["type"] in ("missing", "value_error") else f" (got {value!r:.60})"
    return f"{path or '(input)'}: {message}{shown}"


class ExecutionRef(Document):
    """The execution a document belongs to, taken from the Step Functions context object."""

    model_config = ConfigDict(frozen=True)

    arn: str
    start_time: str

    @property
    def name(self) -> str:
        return self.arn.rsplit(":", 1)[-1]


class FunctionConfiguration(BaseModel):
    """The part of a function's configuration the tuner reads, changes or preserves."""

    model_config = ConfigDict(extra="ignore", alias_generator=to_pascal, populate_by_name=True, frozen=True)

    memory_size: int
    timeout: int
    architectures: list[str] = ["x86_64"]
    ephemeral_storage: int = 512
    revision_id: str | None = None
    state: str | None = None
    last_update_status: str | None = None

    @classmethod
    def from_lambda(cls, configuration: dict[str, Any]) -> FunctionConfiguration:
        """Read GetFunction's ``Configuration`` (EphemeralStorage is nested there)."""
        data = dict(configuration)
        data["EphemeralStorage"] = (configuration.get("EphemeralStorage") or {}).get("Size", 512)
        return cls.model_validate(data)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class DiscoveredTarget(Document):
    ref: TargetRef
    configuration: FunctionConfiguration
    tags: dict[str, str] = {}


class StageTimings(Document):
    """Milliseconds each completed stage took; a missing stage did not complete."""

    validate_permissions_ms: float | None = None
    discover_resources_ms: float | None = None
    update_configuration_ms: float | None = None


class ValidateEvent(Document):
    execution: ExecutionRef
    input: Any = None


class PermissionCheck(Document):
    role_arn: str
    actions: list[str]
    resources: list[str]
    context: dict[str, str] = {}


class PreflightResult(Document):
    execution: ExecutionRef
    request: TuningRequest
    targets: list[TargetRef]
    permission_checks: int
    timings: StageTimings


class DiscoveryResult(Document):
    execution: ExecutionRef
    request: TuningRequest
    targets: list[DiscoveredTarget]
    timings: StageTimings


class TargetTask(Document):
    """One Map iteration's input: a discovered target and the run it belongs to."""

    execution: ExecutionRef
    request: TuningRequest
    target: DiscoveredTarget
    timings: StageTimings


class UpdateResult(Document):
    execution: ExecutionRef
    request: TuningRequest
    target: DiscoveredTarget
    outcome: Outcome
    before: FunctionConfiguration
    after: FunctionConfiguration
    timings: StageTimings


class StepError(BaseModel):
    """What a Catch puts at ``$.error``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    error: str = Field(alias="Error")
    cause: str = Field(default="", alias="Cause")


class RecordEvent(Document):
    """RecordResult's input: a success (UpdateResult) or any state's input plus ``error``.

    Failure documents are whatever the failing state received, so every field a state
    document can carry is listed here.
    """

    execution: ExecutionRef
    input: Any = None
    request: TuningRequest | None = None
    targets: list[DiscoveredTarget] | list[TargetRef] | None = None
    permission_checks: int | None = None
    target: DiscoveredTarget | None = None
    outcome: Outcome | None = None
    before: FunctionConfiguration | None = None
    after: FunctionConfiguration | None = None
    timings: StageTimings = StageTimings()
    error: StepError | None = None


class TargetOutcome(Document):
    """One target's result, as the run summary lists it."""

    target: str
    outcome: Outcome
    memory_before: int | None = None
    memory_after: int | None = None
    error_type: str | None = None
    error_message: str | None = None


class RecordResponse(Document):
    execution: ExecutionRef
    records: int
    outcomes: list[TargetOutcome]


class SummarizeEvent(Document):
    execution: ExecutionRef
    results: list[RecordResponse]


class RunSummary(Document):
    execution: ExecutionRef
    status: str
    counts: dict[str, int]
    outcomes: list[TargetOutcome]


def parse_event(model: type[M], event: Any) -> M:
    """Parse a state's input; a malformed document is permanent bad input, not a crash to retry."""
    try:
        return model.model_validate(event)
    except ValidationError as error:
        problems = [_describe(problem) for problem in error.errors()]
        raise InvalidInputError(f"invalid {model.__name__} document: " + "; ".join(problems), problems) from None
