"""The documents that flow through the state machine, as pydantic models.

Step N's output model is step N+1's input model. JSON field names are camelCase (the
execution input's style); a function's configuration keeps Lambda's own PascalCase names
so it reads like ``GetFunctionConfiguration``.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel, to_pascal

from autotuner_core.errors import InvalidInputError

M = TypeVar("M", bound=BaseModel)

MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10_240
MAX_EXPLICIT_TARGETS = 50

# Lambda's FunctionName forms: name, partial ARN (account:function:name) or full ARN, each
# optionally qualified with a version, an alias or $LATEST. Stricter than Lambda's own pattern,
# which reads "arn:aws:lambda:REGION:ACCOUNT:function" as a function named "function": an ARN
# here has every part, and a partial ARN its "function:" segment.
_TARGET = re.compile(
    r"^(?:arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):(?P<account>\d{12}):function:"
    r"|(?P<partial_account>\d{12}):function:)?"
    r"(?P<name>[a-zA-Z0-9_-]{1,64})"
    r"(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]{1,128}))?\Z"
)
# The tuner's own aliases (temporary, one per measured size) are named autotuner-<run>-<size>;
# a user alias in this namespace could be deleted by a clean-up or mistaken for the tuner's.
RESERVED_ALIAS_PREFIX = "autotuner-"


def _reference_problem(text: str) -> str:
    """Why ``text`` is not a function reference, as precisely as its shape allows."""
    problem = f"{text!r:.80} is not a Lambda function name, partial ARN or ARN"
    if not text.startswith("arn:"):
        return problem
    from botocore.utils import ArnParser, InvalidArnException  # only on this error path: a heavy import

    expected = "arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]"
    try:
        parts = ArnParser().parse_arn(text)
    except InvalidArnException:
        return f"{problem}: an ARN has six parts or more ({expected})"
    if parts["service"] != "lambda":
        return f"{problem}: it is an ARN of service {parts['service']!r:.20}"
    if not re.fullmatch(r"[a-z]{2}(?:-gov)?-[a-z]+-\d", parts["region"]):
        return f"{problem}: its region part {parts['region']!r:.20} is not a region"
    if not re.fullmatch(r"\d{12}", parts["account"]):
        return f"{problem}: its account part {parts['account']!r:.20} is not a 12-digit account id"
    if not parts["resource"].startswith("function:") or parts["resource"] == "function:":
        return f"{problem}: an ARN's resource must be function:NAME[:QUALIFIER], got {parts['resource']!r:.40}"
    return f"{problem}: expected {expected}"


def names_a_function(text: str) -> bool:
    """Whether ``text`` has the shape of a Lambda function reference (it may still not exist)."""
    return _TARGET.match(text) is not None


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
    match = _TARGET.match(text)
    if not match:
        raise ValueError(_reference_problem(text))
    qualifier = match["qualifier"]
    if qualifier and qualifier.startswith(RESERVED_ALIAS_PREFIX):
        raise ValueError(
            f"{text!r:.80} names alias {qualifier!r:.60}: aliases starting {RESERVED_ALIAS_PREFIX!r} are the tuner's "
            "temporary aliases, not a function's live version"
        )
    return text


FunctionReference = Annotated[str, Field(strict=True), AfterValidator(_function_reference)]


class Strategy(StrEnum):
    COST = "cost"  # cheapest per invocation
    SPEED = "speed"  # fastest (trimmed mean duration)
    BALANCED = "balanced"  # weighted: balancedWeight 0 = speed ... 1 = cost


# Named candidate sets. "standard" is AWS Lambda Power Tuning's default list plus 1,769 MB
# (one full vCPU); "cpu" follows the vCPU steps; "fine" is every 64 MB up to 3,008 MB.
MEMORY_PRESETS: dict[str, tuple[int, ...]] = {
    "standard": (128, 256, 512, 1024, 1536, 1769, 3008),
    "cpu": (512, 1024, 1769, 3008, 5307, 7076, 8845, 10240),
    "fine": tuple(range(128, 3009, 64)),
}
MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024  # synchronous Invoke request limit
MAX_CANDIDATES = 48
# sleepBetweenRunsMs: at most 10 s between two invocations (the measuring function runs at most 900 s).
MAX_SLEEP_BETWEEN_RUNS_MS = 10_000
# Raw samples kept in state per target (every size's Durations travel to the decision): at most
# 19 bytes each, so 10,000 stay below Step Functions' 256 KB state limit with the rest of the
# document. The engine measures at most BUDGET_PER_INVOCATION x invocations per target, over all
# its sizes and rounds (engine.budget): that is what the check below bounds.
MAX_SAMPLES_PER_TARGET = 10_000
BUDGET_PER_INVOCATION = 3
_ALIAS = re.compile(r"^(?!\d+\Z)[a-zA-Z0-9_-]{1,128}\Z")


def _expand_preset(value: Any) -> Any:
    if isinstance(value, str):
        if value not in MEMORY_PRESETS:
            raise ValueError(
                f"{value!r:.40} is not a preset; use one of {', '.join(MEMORY_PRESETS)} or a list of sizes"
            )
        return list(MEMORY_PRESETS[value])
    return value


class WeightedPayload(Document):
    model_config = ConfigDict(frozen=True)

    payload: Any
    weight: Annotated[float, Field(gt=0, allow_inf_nan=False)]


def _alias_name(name: str) -> str:
    if not _ALIAS.match(name) or name == "$LATEST":
        raise ValueError(f"{name!r:.80} is not a Lambda alias name (1-128 of a-z A-Z 0-9 - _, not only digits)")
    if name.startswith(RESERVED_ALIAS_PREFIX):
        raise ValueError(
            f"{name!r:.80} starts with {RESERVED_ALIAS_PREFIX!r}, the prefix of the tuner's temporary aliases; "
            "name an alias of your own"
        )
    return name


_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.{1,1024})\Z", re.DOTALL)


def _s3_uri(uri: str) -> str:
    if not _S3_URI.match(uri):
        raise ValueError(f"{uri!r:.80} is not an S3 object URI (s3://BUCKET/KEY)")
    return uri


def _validated_payload(payload: Any) -> Any:
    """A payload as given: a JSON value, JSON text, or a weighted list (checked item by item)."""
    if isinstance(payload, list):
        # A list is a weighted payload, as in AWS Lambda Power Tuning; a JSON array meant
        # as the payload itself is written as [{"payload": [...], "weight": 1}].
        if not payload:
            raise ValueError("a weighted payload list needs at least one {payload, weight} item")
        items, problems = [], []
        for index, item in enumerate(payload):
            try:
                items.append(WeightedPayload.model_validate(item))
            except ValidationError as error:
                problems += [
                    f"[{index}]{_path(problem['loc'], nested=True)}: {problem['msg']}" for problem in error.errors()
                ]
        if problems:
            raise ValueError("weighted payload " + "; ".join(problems))
        payload = items
    for index, text in _string_payloads(payload):
        try:
            json.loads(text)
        except ValueError:
            where = f"[{index}].payload: " if index is not None else ""
            raise ValueError(
                f"{where}a string payload is the JSON text sent to the function and must parse as JSON "
                f"(got {text!r:.40}); to send a JSON string, quote it inside the string"
            ) from None
    return payload


def _checked_payload(payload: Any) -> Any:
    payload = _validated_payload(payload)
    size = len(json.dumps(_plain_payload(payload)).encode("utf-8"))
    if size > MAX_INVOKE_PAYLOAD_BYTES:
        raise ValueError(f"{size} bytes is over Lambda's synchronous invoke limit of {MAX_INVOKE_PAYLOAD_BYTES} bytes")
    return payload


class TargetPayload(Document):
    """One function's own payload in a sweep: inline, or an S3 object (exactly one of the two)."""

    model_config = ConfigDict(frozen=True)

    payload: Any = Field(
        default=None,
        description="What this function's invocations receive, as the run-wide payload field (JSON value, "
        "JSON text or a weighted list).",
    )
    payload_s3: Annotated[str, AfterValidator(_s3_uri)] | None = Field(
        default=None,
        alias="payloadS3",
        description="An s3://BUCKET/KEY object holding this function's payload (JSON, at most 6,291,456 bytes); "
        "the bucket must be one the deployment's PayloadBuckets parameter names.",
    )

    @field_validator("payload")
    @classmethod
    def _payload(cls, payload: Any) -> Any:
        return None if payload is None else _checked_payload(payload)

    @model_validator(mode="after")
    def _one_source(self) -> TargetPayload:
        if (self.payload is None) == (self.payload_s3 is None):
            raise ValueError("give exactly one of payload and payloadS3")
        return self


class PayloadSource(Document):
    """Where a target's payload comes from, as discovery resolved it (the payload itself stays out of state)."""

    model_config = ConfigDict(frozen=True)

    origin: str  # "payloads" (the input's map), "tag" (autotuner:payload), "run" (payload/payloadS3), "default" ({})
    entry: str | None = None  # the payloads map's key, for origin "payloads"
    s3: str | None = None  # the object to read, for an S3 payload


class TargetSelector(Document):
    """A fleet sweep: every function with all these tags and/or this name prefix, minus exclusions."""

    model_config = ConfigDict(frozen=True)

    tags: dict[Annotated[str, Field(min_length=1, max_length=128)], Annotated[str, Field(max_length=256)]] = Field(
        default_factory=dict, max_length=10
    )
    name_prefix: Annotated[str, Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")] | None = None
    exclude: list[FunctionReference] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _selects_something(self) -> TargetSelector:
        if not self.tags and self.name_prefix is None:
            raise ValueError("a selector needs tags and/or namePrefix (it would otherwise select every function)")
        return self


class CircuitBreakerOverride(Document):
    """Per-execution breaker settings; the template's parameters are the defaults."""

    model_config = ConfigDict(frozen=True)

    failure_threshold: Annotated[int, Field(strict=True, ge=1, le=100)] | None = None
    cooldown_seconds: Annotated[int, Field(strict=True, ge=0, le=90 * 86_400)] | None = None


class TranslatedField(Document):
    """One field of a Power Tuning input and what it became here (power_tuning.py)."""

    model_config = ConfigDict(frozen=True)

    field: str  # Power Tuning's name
    given: Any = None  # its value as given (a payload only described); absent: not given
    ours: dict[str, Any] = {}  # the fields of ours it set; {} where it sets none
    note: str  # where the two tools differ, or that they agree


class TuningRequest(Document):
    """The execution input a user writes (README: "Execution input")."""

    model_config = ConfigDict(frozen=True)

    targets: list[FunctionReference] | None = Field(default=None, min_length=1, max_length=MAX_EXPLICIT_TARGETS)
    select: TargetSelector | None = None
    memory_size: MemorySize | None = None
    memory_sizes: Annotated[list[MemorySize], BeforeValidator(_expand_preset)] = list(MEMORY_PRESETS["standard"])
    invocations: Annotated[int, Field(strict=True, ge=5, le=1000)] = 10
    # None: not given. A single named target is then invoked with {} (as Power Tuning does); a
    # sweep skips every function without a payload of its own (payloads.py).
    payload: Any = None
    payload_s3: Annotated[str, AfterValidator(_s3_uri)] | None = Field(default=None, alias="payloadS3")
    payloads: dict[Annotated[str, Field(min_length=1, max_length=200)], TargetPayload] | None = Field(
        default=None, min_length=1, max_length=MAX_EXPLICIT_TARGETS * 20
    )
    # Invoked around each measured invocation, as in AWS Lambda Power Tuning (payloads.py): a function
    # the deployment allows (template parameter PayloadProcessorArns). Their durations are not measured.
    pre_processor: FunctionReference | None = None
    post_processor: FunctionReference | None = None
    sleep_between_runs_ms: Annotated[int, Field(strict=True, ge=0, le=MAX_SLEEP_BETWEEN_RUNS_MS)] = 0
    parallel_invocation: StrictBool = False
    strategy: Strategy = Strategy.COST
    balanced_weight: Annotated[float, Field(ge=0, le=1)] = 0.5
    discard_top_bottom: Annotated[float, Field(ge=0, le=0.4)] = 0.2
    only_cold_starts: StrictBool = False
    allowed_exceptions: list[Annotated[str, Field(min_length=1, max_length=200)]] = []
    apply: StrictBool = False
    alias: Annotated[str, AfterValidator(_alias_name)] | None = None
    refine: StrictBool = True
    # The smallest projected improvement (a fraction: 0.05 = 5 %) worth a change; below it the
    # current size is kept, so measurement noise does not churn a function's configuration.
    min_improvement: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.05
    measure_on_live: StrictBool = Field(
        default=False,
        description="Measure a $LATEST that serves live traffic in place, when the deployment allows no shadow "
        "copy: production then runs at the candidate sizes, never below the function's observed max memory used "
        "x headroom, for as short a window per size as Lambda allows (docs/measuring.md)",
    )
    circuit_breaker: CircuitBreakerOverride | None = None
    # What the Step Functions console suggests a parent execution passes to a nested one; kept
    # so callers can link the two executions, and otherwise unused.
    started_by: str | None = Field(default=None, alias="AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID")
    # Set by the translation of a Power Tuning input (parse_request), never written by a user: it
    # carries what each of its fields became into the run records and the run's output.
    power_tuning: list[TranslatedField] | None = None

    @field_validator("memory_sizes")
    @classmethod
    def _sizes(cls, sizes: list[int]) -> list[int]:
        if not sizes:
            raise ValueError(f"list at least one memory size, or name a preset: {', '.join(MEMORY_PRESETS)}")
        if len(set(sizes)) != len(sizes):
            raise ValueError(f"duplicate memory sizes {sorted({s for s in sizes if sizes.count(s) > 1})}")
        if len(sizes) > MAX_CANDIDATES:
            raise ValueError(f"at most {MAX_CANDIDATES} memory sizes, got {len(sizes)}")
        return sorted(sizes)

    @field_validator("payload")
    @classmethod
    def _payload(cls, payload: Any) -> Any:
        if payload is None:
            return None
        return _checked_payload(payload)

    @model_validator(mode="after")
    def _consistent(self) -> TuningRequest:
        weighted = [("payload", self.payload)] + [
            (f"payloads[{key!r}].payload", entry.payload) for key, entry in (self.payloads or {}).items()
        ]
        for field, payload in weighted:
            if isinstance(payload, list) and len(payload) > self.invocations:
                raise ValueError(
                    f"{field}: {len(payload)} weighted payloads need at least as many invocations "
                    f"(invocations is {self.invocations})"
                )
        if self.sleep_between_runs_ms and self.parallel_invocation:
            # Power Tuning ignores it then; a setting that silently does nothing is refused here.
            raise ValueError("sleepBetweenRunsMs: a wait between invocations needs parallelInvocation false")
        if self.payload is not None and self.payload_s3 is not None:
            raise ValueError("give the run-wide payload inline (payload) or as an S3 object (payloadS3), not both")
        samples = BUDGET_PER_INVOCATION * self.invocations
        if self.memory_size is None and samples > MAX_SAMPLES_PER_TARGET:
            raise ValueError(
                f"invocations: {self.invocations} invocations let the engine keep up to {samples} samples "
                f"({BUDGET_PER_INVOCATION} x invocations) in the run's state; at most {MAX_SAMPLES_PER_TARGET} fit"
            )
        if self.alias is not None and not self.apply:
            raise ValueError("alias: an alias is only moved when apply is true")
        if (self.targets is None) == (self.select is None):
            raise ValueError("name the functions to tune with either targets (a list) or select (a selector), not both")
        return self

    @property
    def fixed(self) -> bool:
        """A fixed memory size was asked for: no measurement, just apply it."""
        return self.memory_size is not None


def _string_payloads(payload: Any) -> list[tuple[int | None, str]]:
    if isinstance(payload, str):
        return [(None, payload)]
    if isinstance(payload, list):
        return [(index, item.payload) for index, item in enumerate(payload) if isinstance(item.payload, str)]
    return []


def _plain_payload(payload: Any) -> Any:
    if isinstance(payload, list):
        return [item.model_dump() if isinstance(item, BaseModel) else item for item in payload]
    return payload


class TargetRef(Document):
    """A target as the run refers to it: normalised to an ARN in the tuner's account/region."""

    model_config = ConfigDict(frozen=True)

    given: str
    name: str
    arn: str  # unqualified: configuration belongs to the function, not a version
    qualifier: str | None = None

    @property
    def qualified_arn(self) -> str:
        """The ARN discovery reads: $LATEST is the function itself."""
        return f"{self.arn}:{self.qualifier}" if self.qualifier and self.qualifier != "$LATEST" else self.arn


def partition_for(region: str) -> str:
    """The AWS partition a region belongs to."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def parse_target(text: str, *, partition: str, region: str, account: str) -> TargetRef:
    """Normalise one target; a reference to another account, region or partition is rejected."""
    match = _TARGET.match(text)
    if not match:
        raise InvalidInputError(f"target {_reference_problem(text)}")
    parts = match.groupdict()
    parts["account"] = parts["account"] or parts["partial_account"]
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
            f"execution input must be a JSON object, got {_json_type(raw)}",
        )
    from autotuner_core import power_tuning  # it builds on this module's models

    if power_tuning.is_power_tuning_input(raw):
        return power_tuning.translate(raw).request
    if "powerTuning" in raw:
        raise InvalidInputError(
            "powerTuning: the tuner sets it when it translates a Power Tuning input; not an input field"
        )
    try:
        return TuningRequest.model_validate(raw)
    except ValidationError as error:
        # A field of Power Tuning's is named as one (with ours that says the same), not as unknown.
        problems = power_tuning.mixed_fields(raw) + [
            _describe(problem)
            for problem in error.errors()
            if not (problem["loc"] and problem["loc"][0] in power_tuning.POWER_TUNING_ONLY)
        ]
        raise InvalidInputError(
            f"invalid execution input ({len(problems)} problem{'s' if len(problems) > 1 else ''}): "
            + "; ".join(problems),
            problems,
        ) from None


def _json_type(value: Any) -> str:
    # The input was written as JSON: name what arrived in JSON's words, not Python's (NoneType, str).
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return {str: "a string", list: "an array"}.get(type(value), type(value).__name__)


def _path(loc: tuple[Any, ...], nested: bool = False) -> str:
    path = ""
    for part in loc:
        if isinstance(part, str) and ("[" in part or part.startswith("function-")):
            continue  # pydantic's validator/union branch labels, not field names
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path or nested else str(part))
    return path


def _describe(problem: Any) -> str:
    path = _path(problem["loc"])
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
    # Targets tuned side by side in this run (set by ValidatePermissions): each one's worker
    # takes that share of the account's Lambda control-plane budget (pacing.py).
    workers: Annotated[int, Field(ge=1)] = 1

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
    description: str | None = None
    revision_id: str | None = None
    state: str | None = None
    last_update_status: str | None = None
    role: str | None = None  # the execution role: a shadow copy runs with it (shadow.py)

    @classmethod
    def from_lambda(cls, configuration: dict[str, Any]) -> FunctionConfiguration:
        """Read GetFunction's ``Configuration`` (EphemeralStorage is nested there)."""
        data = dict(configuration)
        data["EphemeralStorage"] = (configuration.get("EphemeralStorage") or {}).get("Size", 512)
        return cls.model_validate(data)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# How far back discovery asks CloudWatch for invocations of the unqualified function.
RECENT_TRAFFIC_HOURS = 24


class LiveTrafficEvidence(Document):
    """What discovery found sending requests to the unqualified function (``$LATEST``)."""

    live: bool
    sources: list[str] = []
    recent_invocations: int = 0  # Invocations of the unqualified function in the last window_hours
    window_hours: int = RECENT_TRAFFIC_HOURS
    # Invocations of the function, every version and alias, in the last window_hours (24): its traffic,
    # by which a sweep weighs savings per million. It includes the tuner's own measuring invocations of
    # that window (at most 3 x invocations per run). None where it was not read.
    daily_invocations: int | None = None
    # How measuring avoids it (discovery decides): "versions" of an idle $LATEST, a "shadow" copy of a
    # live one, or "in-place" on a live one because the input asked for measureOnLive.
    measured_on: str | None = None


class DiscoveredTarget(Document):
    ref: TargetRef
    configuration: FunctionConfiguration
    tags: dict[str, str] = {}
    live_traffic: LiveTrafficEvidence | None = None  # read before measuring; none for a fixed size
    payload: PayloadSource | None = None  # what measuring sends (discovery, payloads.py); none for a fixed size


class Candidate(Document):
    """One memory size to measure, and the temporary version/aliases that carry it."""

    memory_size: int
    current: bool = False  # the target's configuration before the run: the comparison baseline
    version: str | None = None
    aliases: list[str] = []  # one alias, or one per invocation when only cold starts are measured
    excluded: str | None = None  # why it is not measured (e.g. the account's memory quota)
    # The function whose aliases are invoked: a shadow copy of a live target; None: the target itself.
    function_arn: str | None = None


class InvocationSample(Document):
    """One invocation, as its REPORT line tells it."""

    duration_ms: float
    billed_duration_ms: float
    memory_size_mb: int
    max_memory_used_mb: int | None = None
    init_duration_ms: float | None = None  # present only on a cold start
    error: str | None = None  # the function's errorType, if it failed


class SizeObservation(Document):
    """What was measured at one size so far, all rounds together."""

    memory_size: int
    durations_ms: list[float] = Field(default_factory=list)  # every successful invocation's Duration
    billed_durations_ms: list[float] = Field(default_factory=list)
    errors: int = 0  # invocations that failed with an error not in allowedExceptions
    errors_billed_ms: float = 0.0  # their Billed Duration, summed: they cost the target too
    error_types: list[str] = Field(default_factory=list)  # their errorTypes, sorted
    cold_starts: int = 0
    max_memory_used_mb: int | None = None
    # Why this size cannot be ranked (Lambda rejected it, failed invocations, it ran at another size).
    excluded: str | None = None

    @property
    def invocations(self) -> int:
        """Every invocation made at this size, failed ones included."""
        return len(self.durations_ms) + self.errors

    def pooled(self, more: SizeObservation) -> SizeObservation:
        """This size's samples together with ``more`` of the same size (another round, or the current size)."""
        used = [value for value in (self.max_memory_used_mb, more.max_memory_used_mb) if value is not None]
        return SizeObservation(
            memory_size=self.memory_size,
            durations_ms=[*self.durations_ms, *more.durations_ms],
            billed_durations_ms=[*self.billed_durations_ms, *more.billed_durations_ms],
            errors=self.errors + more.errors,
            errors_billed_ms=self.errors_billed_ms + more.errors_billed_ms,
            error_types=sorted({*self.error_types, *more.error_types}),
            cold_starts=self.cold_starts + more.cold_starts,
            max_memory_used_mb=max(used) if used else None,
            excluded=self.excluded or more.excluded,
        )


class SizeRequest(Document):
    """Measure this size this many more times."""

    memory_size: int
    invocations: int = Field(ge=1)


class ConfigurationStats(Document):
    """What one memory size did: durations after trimming, percentiles, errors, cost."""

    memory_size: int
    current: bool = False
    invocations: int = 0
    errors: int = 0
    error_types: list[str] = []
    cold_starts: int = 0
    cold_start_share: float = 0.0
    mean_ms: float | None = None  # trimmed mean of Duration
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    billed_mean_ms: float | None = None
    billed_total_ms: float | None = None  # every invocation's Billed Duration, summed: the target's GB-seconds
    max_memory_used_mb: int | None = None
    cost_per_invocation_usd: float | None = None
    cost_per_million_usd: float | None = None
    # What this size's measured invocations cost: every Billed Duration (not the trimmed mean, which
    # leaves out cold starts and spikes) at the function's price, and the requests.
    measured_usd: float | None = None
    excluded: str | None = None


class Recommendation(Document):
    """The winner for the strategy, against the configuration the target had."""

    strategy: Strategy
    balanced_weight: float | None = None
    memory_size: int
    current_memory_size: int
    mean_ms: float
    cost_per_invocation_usd: float
    current_mean_ms: float | None = None
    current_cost_per_invocation_usd: float | None = None
    speed_change_pct: float | None = None  # negative: faster
    cost_change_pct: float | None = None  # negative: cheaper
    projected_change_per_million_usd: float | None = None  # negative: saves money
    # The change of the strategy's objective (cost, duration or the balanced score) from the
    # current size to best_memory_size, in percent, and its confidence interval [low, high]
    # (engine v2's 90 % interval, log-normal; analysis.recommendation_from). Durations and costs
    # above are the engine's estimates, not the table's trimmed means.
    projected_change_pct: float | None = None
    change_interval_pct: list[float] | None = None
    confidence: float | None = None
    # Below minImprovement the current size is kept: memorySize is the current one, and the
    # changes and the interval above are the best measured size's (best_memory_size, not applied).
    kept_current: bool = False
    best_memory_size: int | None = None
    min_improvement: float | None = None
    summary: str


class TargetEstimate(Document):
    """One target's share of the pre-run budget estimate (budget.py): upper bounds, and how they were bounded."""

    target: str
    target_invocations: int
    target_gb_seconds: float
    # What bounded the GB-seconds: "duration" (CloudWatch's recent Maximum Duration), "timeout" (no
    # recent Duration: every invocation at its timeout), "fixed" (a memorySize: nothing measured) or
    # "not-found" (discovery fails it before anything is measured).
    basis: str
    current_memory_size: int | None = None
    max_duration_ms: float | None = None
    versions_created: int
    shadows_created: int = 0
    control_plane_calls: int
    state_transitions: int
    tuner_invocations: int = 0
    tuner_gb_seconds: float = 0.0
    target_invocations_usd: float = 0.0
    tuner_lambda_usd: float = 0.0
    total_usd: float


class RunCost(Document):
    """What the run itself costs: transitions, the target's invocations and the tuner's own Lambda time."""

    state_transitions: int
    target_invocations: int
    step_functions_usd: float
    target_invocations_usd: float
    total_usd: float
    target_gb_seconds: float = 0.0
    tuner_invocations: int = 0  # the tuner's own Lambda invocations (one per Task state)
    tuner_gb_seconds: float = 0.0  # its functions wait synchronously for every target invocation
    tuner_lambda_usd: float = 0.0
    control_plane_calls: int = 0  # Lambda API calls other than Invoke, as the measuring steps counted them
    # The pre-run estimate only (budget.py): versions and shadow functions the run may create, and per target.
    versions_created: int | None = None
    shadows_created: int | None = None
    targets: list[TargetEstimate] | None = None


class TuningSpend(Document):
    """What one target's tuning has spent so far, added up by the measuring steps as they run."""

    rounds: int = 0  # measuring rounds run
    round_items: int = 0  # sizes measured, summed over rounds (one MeasureConfiguration each)
    tuner_invocations: int = 0
    tuner_gb_seconds: float = 0.0
    control_plane_calls: int = 0


class StageTimings(Document):
    """Milliseconds each completed stage took; a missing stage did not complete."""

    validate_permissions_ms: float | None = None
    discover_resources_ms: float | None = None
    measurement_ms: float | None = None
    update_configuration_ms: float | None = None


class ValidateEvent(Document):
    execution: ExecutionRef
    input: Any = None


class PermissionCheck(Document):
    role_setting: str = ""  # the environment variable carrying role_arn, named when it is empty
    role_arn: str
    actions: list[str]
    resources: list[str]
    context: dict[str, str] = {}


class ObjectRef(Document):
    """Where a document too large for the state payload is kept (S3)."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str


class PreflightResult(Document):
    """The run, validated. The targets themselves are stored (``target_list``): a sweep's list
    can exceed the 256 KB state payload limit, so only its location travels through state."""

    execution: ExecutionRef
    request: TuningRequest
    target_count: int
    target_list: ObjectRef
    permission_checks: int
    estimated_cost: RunCost | None = None
    max_concurrency: int = 4  # targets tuned side by side (template parameter SweepMaxConcurrency)
    timings: StageTimings


class TargetEntry(Document):
    """One Map iteration's input: a target as pre-flight resolved it, before anything touches it."""

    execution: ExecutionRef
    request: TuningRequest
    ref: TargetRef
    timings: StageTimings
    admission: str | None = None  # set by CheckCircuit: NORMAL, or PROBE for a half-open circuit


class TargetTask(Document):
    """One target's document through its Map iteration: grows as measurement proceeds."""

    execution: ExecutionRef
    request: TuningRequest
    target: DiscoveredTarget
    timings: StageTimings
    admission: str | None = None
    candidates: list[Candidate] | None = None  # every size prepared so far, all rounds
    measurement_started_ms: float | None = None
    # The measuring loop: the planner's request for this round, the round's items (a prepared
    # candidate and its invocation count), what the round measured, and everything so far.
    plan: list[SizeRequest] | None = None
    round: list[RoundItem] | None = None
    measured: list[MeasuredItem] | None = None
    observations: list[SizeObservation] | None = None
    spend: TuningSpend = TuningSpend()
    configurations: list[ConfigurationStats] | None = None  # everything measured
    refined_sizes: list[int] | None = None  # sizes measured after the first round
    recommendation: Recommendation | None = None
    cleanup: dict[str, Any] | None = None


class MeasuredItem(Document):
    """What one MeasureConfiguration returns: the size's observation and what measuring it spent."""

    observation: SizeObservation
    spend: TuningSpend


class RoundItem(Document):
    """One size of one measuring round: the prepared candidate and how many invocations it gets."""

    candidate: Candidate
    invocations: int


class MeasureTask(Document):
    """One iteration of the measurement Map: one candidate of one target."""

    execution: ExecutionRef
    request: TuningRequest
    target: DiscoveredTarget
    candidate: Candidate
    invocations: int | None = None  # this round's count; None: the request's invocations


class UpdateResult(TargetTask):
    outcome: Outcome
    before: FunctionConfiguration
    after: FunctionConfiguration
    alias: str | None = None  # the alias now pointing at a version with the new configuration


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
    estimated_cost: RunCost | None = None
    max_concurrency: int | None = None
    ref: TargetRef | None = None
    admission: str | None = None
    target: DiscoveredTarget | None = None
    candidates: list[Candidate] | None = None
    measurement_started_ms: float | None = None
    plan: list[SizeRequest] | None = None
    round: list[RoundItem] | None = None
    measured: list[MeasuredItem] | None = None
    observations: list[SizeObservation] | None = None
    spend: TuningSpend | None = None
    configurations: list[ConfigurationStats] | None = None
    refined_sizes: list[int] | None = None
    recommendation: Recommendation | None = None
    cleanup: dict[str, Any] | None = None
    outcome: Outcome | None = None
    before: FunctionConfiguration | None = None
    after: FunctionConfiguration | None = None
    alias: str | None = None
    timings: StageTimings = StageTimings()
    error: StepError | None = None
    cleanup_error: StepError | None = None  # clean-up after a failure failed too: say so in the record
    note: str | None = None  # why a run recorded no target (e.g. an empty selection)


class TargetOutcome(Document):
    """One target's result, as the run summary lists it."""

    target: str
    outcome: Outcome
    memory_before: int | None = None
    memory_after: int | None = None
    error_type: str | None = None
    error_message: str | None = None
    recommendation: Recommendation | None = None
    configurations: list[ConfigurationStats] | None = None
    refined_sizes: list[int] | None = None
    spend: TuningSpend | None = None  # what measuring this target spent (rounds, tuner time, calls)
    # Invocations a day, where the function's traffic is known (the sweep summary weighs by it).
    daily_invocations: float | None = None


class RecordResponse(Document):
    execution: ExecutionRef
    records: int
    outcomes: list[TargetOutcome]


class SummarizeEvent(Document):
    execution: ExecutionRef
    target_list: ObjectRef  # the targets that must each have a run record
    estimated_cost: RunCost | None = None


class RunCostReport(Document):
    estimated: RunCost | None = None  # upper bound, before the run
    counted: RunCost  # from what the run measured


class FunctionSavings(Document):
    """What one function's new size is projected to save (negative: cost more)."""

    target: str
    outcome: Outcome  # APPLIED, or RECOMMENDED on a dry run
    memory_before: int
    memory_after: int
    savings_per_million_usd: float  # per million of this function's own invocations
    cost_change_pct: float | None = None
    daily_invocations: float | None = None
    savings_per_day_usd: float | None = None  # where its traffic is known
    savings_per_month_usd: float | None = None  # the same, over a month (savings.DAYS_PER_MONTH)


class PowerTuningStats(Document):
    """One measured size as Power Tuning's ``results.stats`` names it."""

    value: int  # the memory size, MB
    average_price: float  # the table's cost per invocation, USD
    average_duration: float  # the table's trimmed mean Duration, ms


class PowerTuningStateMachine(Document):
    execution_cost: float  # Step Functions, USD
    lambda_cost: float  # the target's measured invocations, USD


class PowerTuningResults(Document):
    """A single-target run's result named as Power Tuning's ``results`` (summary.power_tuning_results)."""

    power: int
    cost: float
    duration: float
    state_machine: PowerTuningStateMachine
    stats: list[PowerTuningStats]


class ReportLink(Document):
    """The run's HTML report in the sweep bucket, and a presigned GET link to it (report_store.py)."""

    s3_uri: str  # lasts as long as the bucket keeps run objects (SweepObjectRetentionDays)
    url: str
    # The link's own expiry. It stops working earlier if the Lambda session that signed it
    # ends first (docs/integration.md, "The HTML report"); s3_uri can be presigned again.
    url_expires_at: str


class RunSummary(Document):
    execution: ExecutionRef
    status: str
    targets: int
    counts: dict[str, int]
    # Per function: a change per million invocations is that function's own; functions with
    # different traffic are never summed per million. A total is given only where every
    # function's traffic is known (weighted by it); savings_note says when it is not.
    savings: list[FunctionSavings] = []
    projected_savings_per_day_usd: float | None = None
    projected_savings_per_month_usd: float | None = None
    savings_note: str | None = None
    # Every target's outcome for a small run; for a sweep, the first outcomes only (the run
    # records hold all of them: autotuner runs EXECUTION_ARN), so the output stays far below 256 KB.
    outcomes: list[TargetOutcome]
    outcomes_omitted: int = 0
    run_cost: RunCostReport
    # A Power Tuning input's fields and what each became (power_tuning.py); a single target's result
    # under Power Tuning's names.
    power_tuning: list[TranslatedField] | None = None
    results: PowerTuningResults | None = None

    report: ReportLink | None = None
    # What went wrong around the tuning without changing its result (a report that was not written).
    warnings: list[str] = []


def parse_event(model: type[M], event: Any) -> M:
    """Parse a state's input; a malformed document is permanent bad input, not a crash to retry."""
    try:
        return model.model_validate(event)
    except ValidationError as error:
        problems = [_describe(problem) for problem in error.errors()]
        raise InvalidInputError(f"invalid {model.__name__} document: " + "; ".join(problems), problems) from None
