"""The execution input: what to tune, how, and the references to functions it names.

JSON field names are camelCase (the execution input's style). Over 400 lines on purpose: the input
is one model, and its cross-field checks read beside the fields they check.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from autotuner_core.documents.base import (
    _TARGET,
    MAX_EXPLICIT_TARGETS,
    RESERVED_ALIAS_PREFIX,
    Document,
    MemorySize,
    _describe,
    _json_type,
    _reference_problem,
)
from autotuner_core.documents.payload import (
    MAX_INVOKE_PAYLOAD_BYTES as MAX_INVOKE_PAYLOAD_BYTES,  # re-exported: the schema and the CLI read them here
)
from autotuner_core.documents.payload import PayloadSource as PayloadSource
from autotuner_core.documents.payload import TargetPayload, _checked_payload, _s3_uri
from autotuner_core.documents.payload import WeightedPayload as WeightedPayload
from autotuner_core.policy.errors import InvalidInputError


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


# Power Tuning's default powerValues (its template's PowerValues parameter).
POWER_TUNING_SIZES_MB = (128, 256, 512, 1024, 1536, 3008)
# Named candidate sets. "standard" is AWS Lambda Power Tuning's default list plus 1,769 MB
# (one full vCPU); "cpu" follows the vCPU steps; "fine" is every 64 MB up to 3,008 MB.
MEMORY_PRESETS: dict[str, tuple[int, ...]] = {
    "standard": tuple(sorted((*POWER_TUNING_SIZES_MB, 1769))),
    "cpu": (512, 1024, 1769, 3008, 5307, 7076, 8845, 10240),
    "fine": tuple(range(128, 3009, 64)),
}
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


def _alias_name(name: str) -> str:
    if not _ALIAS.match(name) or name == "$LATEST":
        raise ValueError(f"{name!r:.80} is not a Lambda alias name (1-128 of a-z A-Z 0-9 - _, not only digits)")
    if name.startswith(RESERVED_ALIAS_PREFIX):
        raise ValueError(
            f"{name!r:.80} starts with {RESERVED_ALIAS_PREFIX!r}, the prefix of the tuner's temporary aliases; "
            "name an alias of your own"
        )
    return name


# -- mode and lookbackDays (telemetry.py reads production telemetry; docs/telemetry.md) ----------------
class Mode(StrEnum):
    MEASURE = "measure"  # invoke each target at candidate sizes (the engine)
    TELEMETRY = "telemetry"  # recommend from production logs and metrics alone: no invocation, no change
    AUTO = "auto"  # telemetry first, measure where it pays: reserved, refused until it exists


DEFAULT_LOOKBACK_DAYS = 14  # Compute Optimizer's window for Lambda
MAX_LOOKBACK_DAYS = 90
# What telemetry mode never uses: fields that only shape measurement or change a function.
MEASUREMENT_ONLY_FIELDS = (
    "memory_size",
    "memory_sizes",
    "invocations",
    "payload",
    "payload_s3",
    "payloads",
    "pre_processor",
    "post_processor",
    "sleep_between_runs_ms",
    "parallel_invocation",
    "only_cold_starts",
    "allowed_exceptions",
    "refine",
    "measure_on_live",
    "discard_top_bottom",
    "apply",
    "alias",
)


def _mode_problems(request: TuningRequest) -> str | None:
    """Why the request's mode does not fit its other fields, or None."""
    if request.mode is Mode.AUTO:
        return "mode: 'auto' is not available yet; use 'measure' or 'telemetry'"
    if request.mode is Mode.TELEMETRY:
        # By value, not by presence: each state re-reads the request with every default written out.
        given = [name for name in MEASUREMENT_ONLY_FIELDS if getattr(request, name) != _default(name)]
        if given:
            names = ", ".join(TuningRequest.model_fields[name].alias or name for name in given)
            return (
                f"mode: 'telemetry' reads production telemetry only; it takes no measurement or change fields ({names})"
            )
    elif request.lookback_days != DEFAULT_LOOKBACK_DAYS:
        return "lookbackDays: only mode 'telemetry' reads production telemetry"
    return None


def _default(name: str) -> Any:
    field = TuningRequest.model_fields[name]
    return field.get_default(call_default_factory=True)


# -- end of mode and lookbackDays ---------------------------------------------------------------------


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
    # --- Constraints on what may be applied (decision/constraints.py): a size that breaks one is not
    # chosen, the table says why, and with none left the current size is kept.
    max_duration_increase_pct: Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)] | None = Field(
        default=None,
        description="A size whose duration (the engine's estimate) is more than this many percent above the "
        "current size's is not chosen: 50 allows at most 1.5 x the current duration, 0 no slower size at all. "
        "Not given: no limit.",
    )
    max_p99_duration_ms: Annotated[float, Field(strict=True, ge=1, le=900_000, allow_inf_nan=False)] | None = Field(
        default=None,
        description="A size whose measured p99 Duration (nearest rank over its invocations) exceeds this many "
        "milliseconds is not chosen; where production's p99 is known, its projection to the size is checked "
        "too. Not given: no limit.",
    )
    memory_headroom_pct: Annotated[float, Field(strict=True, ge=0, le=100, allow_inf_nan=False)] = Field(
        default=5,
        description="No size below the memory floor is chosen: the Max Memory Used measured at the current size "
        "(its REPORT lines) plus this many percent. 5 matches the headroom the engine plans with.",
    )
    min_memory_size: MemorySize | None = Field(
        default=None,
        description="A floor you state (MB): no size below it is chosen, whatever was measured. Not given: "
        "only the memory floor from Max Memory Used applies.",
    )

    @model_validator(mode="after")
    def _constraints_possible(self) -> TuningRequest:
        # Constraints no size can meet, or that a fixed memorySize makes meaningless, are refused
        # here, before anything changes, naming the field.
        if self.memory_size is not None:
            for name, value in (
                ("maxDurationIncreasePct", self.max_duration_increase_pct),
                ("maxP99DurationMs", self.max_p99_duration_ms),
            ):
                if value is not None:
                    raise ValueError(f"{name}: a fixed memorySize measures nothing to check it against")
            if self.min_memory_size is not None and self.memory_size < self.min_memory_size:
                raise ValueError(
                    f"minMemorySize: the fixed memorySize {self.memory_size} MB is below it ({self.min_memory_size} MB)"
                )
        elif self.min_memory_size is not None and max(self.memory_sizes) < self.min_memory_size:
            raise ValueError(
                f"minMemorySize: every size of memorySizes (up to {max(self.memory_sizes)} MB) is below "
                f"{self.min_memory_size} MB, so no size can be chosen"
            )
        return self

    measure_on_live: StrictBool = Field(
        default=False,
        description="Measure a $LATEST that serves live traffic in place, when the deployment allows no shadow "
        "copy: production then runs at the candidate sizes, never below the function's observed max memory used "
        "x headroom, for as short a window per size as Lambda allows (docs/measuring.md)",
    )
    circuit_breaker: CircuitBreakerOverride | None = None
    mode: Mode = Mode.MEASURE
    lookback_days: Annotated[int, Field(strict=True, ge=1, le=MAX_LOOKBACK_DAYS)] = DEFAULT_LOOKBACK_DAYS
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
        if problem := _mode_problems(self):
            raise ValueError(problem)
        return self

    @property
    def from_telemetry(self) -> bool:
        """Telemetry mode: production logs and metrics decide; nothing is invoked or changed."""
        return self.mode is Mode.TELEMETRY

    @property
    def fixed(self) -> bool:
        """A fixed memory size was asked for: no measurement, just apply it."""
        return self.memory_size is not None

    def sending(self, payload: Any) -> TuningRequest:
        """This request with a target's own payload in place of the run-wide one (payloads.planned_request).

        Not validated again: the payload was validated with the request, and a run-wide payloadS3 beside it
        is not the conflict the validator refuses."""
        kept = {name: value for name, value in self if name != "payload"}
        return TuningRequest.model_construct(self.model_fields_set | {"payload"}, payload=payload, **kept)


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
