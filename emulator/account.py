"""The simulated account: what exists in the embedded AWS before the tuner runs.

One JSON file describes it (schema: docs/simulated-account.md, examples: events/accounts/).
Over 400 lines on purpose: it is the file's whole schema, one model per section of that
document, and models check one another (a function's qualifiers against its aliases, unique names).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from emulator.curves import (
    DEFAULT_NOISE,
    DEFAULT_OUTLIER_RATE,
    Curve,
    CurvePoints,
    find_record,
)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)


ProfilePreset = Literal[
    "light", "cpu-bound", "io-bound", "memory-hungry", "multi-threaded", "gc-heavy", "network-bound"
]

# Field values of each preset; fields a profile sets itself win. "light" is the defaults.
# The model behind the fields (formulas, AWS facts): emulator/simulated_function.py.
PROFILE_PRESETS: dict[str, dict[str, Any]] = {
    "light": {},
    # Single-threaded computation: faster up to 1,769 MB (one vCPU), flat above.
    "cpu-bound": {"cpu_ms": 2_000, "io_ms": 10, "base_memory_mb": 45, "working_set_mb": 30, "cold_start_ms": 200},
    # Waits on other services: memory buys almost nothing.
    "io-bound": {"cpu_ms": 20, "io_ms": 800, "base_memory_mb": 50, "working_set_mb": 15, "cold_start_ms": 250},
    # Needs 460 MB: runs out of memory below that.
    "memory-hungry": {
        "cpu_ms": 600,
        "io_ms": 50,
        "base_memory_mb": 60,
        "working_set_mb": 400,
        "cold_start_ms": 400,
    },
    # Garbage collection works hard near the floor: the cheapest size lies above it (about 800 MB).
    "gc-heavy": {
        "cpu_ms": 1_500,
        "io_ms": 300,
        "base_memory_mb": 90,
        "working_set_mb": 150,
        "gc_pressure": 0.5,
        "cold_start_ms": 350,
    },
    # Downloads 40 MB per invocation: network throughput grows with memory up to 1,769 MB.
    "network-bound": {
        "cpu_ms": 150,
        "io_ms": 40,
        "transfer_mb": 40,
        "base_memory_mb": 70,
        "working_set_mb": 60,
        "memory_jitter": 0.3,
        "cold_start_ms": 250,
    },
    # Six worker threads: keeps getting faster up to 10,240 MB.
    "multi-threaded": {
        "cpu_ms": 8_000,
        "io_ms": 20,
        "threads": 6,
        "base_memory_mb": 80,
        "working_set_mb": 200,
        "cold_start_ms": 300,
    },
}


class CurveSpec(_Spec):
    """A measured curve to replay (emulator/curves.py): its points, or a record of the data file.

    ``{"memoryMb": [...], "meanDurationMs": [...]}`` or ``{"record": "s000"}`` (an id in
    benchmarks/data/real-curves.json). Between measured sizes the duration is piecewise linear in
    log-memory; below the smallest size the function runs out of memory (the floor sits there);
    above the largest it keeps the largest size's duration (there is no data: keep memorySizes
    inside the curve).
    """

    memory_mb: list[int] | None = Field(default=None, description="measured sizes, ascending")
    mean_duration_ms: list[float] | None = Field(default=None, description="mean Duration at each size")
    record: str | None = Field(default=None, min_length=1, description="id of a record of the data file")
    noise: float = Field(default=DEFAULT_NOISE, ge=0, le=1, description="sigma of the lognormal noise")
    outlier_rate: float = Field(default=DEFAULT_OUTLIER_RATE, ge=0, lt=1, description="share of 2-4x spikes")

    @model_validator(mode="after")
    def _one_source(self) -> CurveSpec:
        inline = self.memory_mb is not None or self.mean_duration_ms is not None
        if inline == (self.record is not None):
            raise ValueError("a curve needs either memoryMb and meanDurationMs, or a record id, not both")
        self.points()  # reports unsorted or duplicate sizes, bad durations, a missing record
        return self

    def points(self) -> CurvePoints:
        """The curve's measured points (a record's, or the inline ones)."""
        if self.record is not None:
            return find_record(self.record)
        try:
            return CurvePoints(memory_mb=self.memory_mb or [], mean_duration_ms=self.mean_duration_ms or [])
        except ValidationError as error:
            raise ValueError("; ".join(_problem(item) for item in error.errors())) from None

    def replay(self) -> Curve:
        """The curve with this spec's noise, ready to sample."""
        return Curve(self.points(), noise=self.noise, outlier_rate=self.outlier_rate, name=self.record)


def _problem(item: Any) -> str:
    where = ".".join(to_camel(str(part)) for part in item["loc"])
    message = str(item["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


class FunctionProfile(_Spec):
    """How a simulated target behaves: its work, its memory, its cold start, its failures.

    ``{"preset": "cpu-bound"}`` takes a preset's values; fields given next to it override them.
    Without a preset every field has its default: a light function (50 ms of CPU, 20 ms of I/O).
    With a ``curve`` its Duration replays a measured curve instead (CurveSpec).
    """

    preset: ProfilePreset | None = Field(default=None, description="start from these values (PROFILE_PRESETS)")
    cpu_ms: float = Field(default=50.0, ge=0, description="CPU work per invocation, in ms at one full vCPU (1,769 MB)")
    io_ms: float = Field(
        default=20.0, ge=0, description="time spent waiting on I/O per invocation; memory does not help"
    )
    threads: int = Field(default=1, ge=1, le=6, description="threads the CPU work runs on in parallel")
    base_memory_mb: int = Field(
        default=40, ge=1, description="memory of the runtime and code, used by every invocation"
    )
    working_set_mb: float = Field(
        default=10.0, ge=0, description="memory an invocation allocates on top of the base, times the payload scale"
    )
    cold_start_ms: float = Field(
        default=150.0, ge=0, le=10_000, description="Init Duration of a new environment at 128 MB"
    )
    gc_pressure: float = Field(
        default=0.0,
        ge=0,
        le=20,
        description="garbage collection near the floor: CPU work grows by gc_pressure x (max memory used / m)^2",
    )
    transfer_mb: float = Field(
        default=0.0, ge=0, description="MB moved over the network per invocation, times the payload scale"
    )
    bandwidth_mb_s: float = Field(
        default=75.0,
        gt=0,
        description="network throughput from 1,769 MB up; below, it shrinks with the square root of the CPU share",
    )
    memory_jitter: float = Field(
        default=0.0, ge=0, le=1, description="the working set varies per invocation, uniformly within +-this share"
    )
    slow_share: float = Field(default=0.0, ge=0, le=1, description="share of invocations in a slow mode (bimodal)")
    slow_factor: float = Field(default=3.0, ge=1, le=100, description="how much slower the slow mode is")
    noise: float = Field(default=0.05, ge=0, le=1, description="sigma of the lognormal factor on each Duration")
    seed: int = Field(default=0, description="seed of the noise and the errors; same seed, same sequence")
    error_rate: float = Field(default=0.0, ge=0, le=1, description="share of invocations that fail with error_type")
    error_type: str = Field(default="Function.Error", min_length=1, description="errorType of those failures")
    log_format: Literal["Text", "JSON"] = Field(
        default="Text", description="Lambda's LoggingConfig.LogFormat: REPORT line, or platform.* JSON records"
    )
    curve: CurveSpec | None = Field(
        default=None, description="replay a measured curve: Duration follows it instead of cpu_ms, io_ms, threads"
    )

    @model_validator(mode="after")
    def _floor_within_curve(self) -> FunctionProfile:
        if self.curve is not None:
            smallest = self.curve.points().memory_mb[0]
            needed = self.base_memory_mb + self.working_set_mb
            if needed > smallest:
                raise ValueError(
                    f"curve: the function needs {needed:g} MB (baseMemoryMb + workingSetMb), more than the "
                    f"curve's smallest size {smallest} MB; the memory floor must sit at or below it"
                )
        return self

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("preset") not in PROFILE_PRESETS:
            return data  # no preset, or an unknown one that field validation reports
        names = {info.alias or name: name for name, info in cls.model_fields.items()}
        given = {names.get(key, key): value for key, value in data.items()}
        return {**PROFILE_PRESETS[data["preset"]], **given}


class LiveTrafficSpec(_Spec):
    """Requests the function's users send during a run (emulator/live_traffic.py)."""

    requests_per_second: float = Field(gt=0, le=100, description="requests per AWS second of the embedded clock")
    qualifier: str | None = Field(
        default=None,
        pattern=r"^(\$LATEST|[a-zA-Z0-9_-]{1,128})$",
        description="the version or alias they invoke; none: the unqualified function, which runs $LATEST",
    )
    payload: Any = Field(default_factory=dict, description="the event each request sends")


class ScheduledCallerSpec(_Spec):
    """A caller IAM alone authorises (a Step Functions task, EventBridge Scheduler or Pipes, AppSync, an
    API Gateway credentials role, a Lambda destination): no trigger, no resource policy; only its
    ``Invocations`` in CloudWatch show it (emulator/live_sources.py, emulator/live_traffic.py)."""

    every_hours: float = Field(gt=0, le=24 * 90, description="how often it calls, in hours; 168: weekly")
    last_call_hours_ago: float | None = Field(
        default=None,
        ge=0,
        description="how long before the run its latest call was (less than everyHours); none: it has never "
        "called (a caller that starts mid-run)",
    )
    requests: int = Field(default=1, ge=1, le=1000, description="requests per call")
    qualifier: str | None = Field(
        default=None,
        pattern=r"^(\$LATEST|[a-zA-Z0-9_-]{1,128})$",
        description="the version or alias it invokes; none: the unqualified function, which runs $LATEST",
    )
    calls_during_run: bool = Field(
        default=False,
        description="its next call falls during the run: right after the tuner first sets the function's "
        "$LATEST to a memory size other than its own",
    )

    @model_validator(mode="after")
    def _last_call_within_schedule(self) -> ScheduledCallerSpec:
        if self.last_call_hours_ago is not None and self.last_call_hours_ago >= self.every_hours:
            raise ValueError(
                f"last_call_hours_ago {self.last_call_hours_ago:g} must be less than every_hours {self.every_hours:g}: "
                "a caller on that schedule has called since"
            )
        if self.last_call_hours_ago is None and not self.calls_during_run:
            raise ValueError(
                "a caller that never called before the run (no last_call_hours_ago) needs calls_during_run"
            )
        return self


class VpcSpec(_Spec):
    """The function's VPC attachment, as CreateFunction's VpcConfig (the subnets are not modelled further)."""

    subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(min_length=1, max_length=16)
    security_group_ids: list[Annotated[str, Field(pattern=r"^sg-[0-9a-f]{8,17}$")]] = Field(
        default_factory=list, max_length=5
    )


class EventSourceMappingSpec(_Spec):
    """An SQS queue mapped to the function: Lambda polls it and invokes the mapped qualifier."""

    qualifier: str | None = Field(default=None, description="alias or version mapped; none: the unqualified function")
    enabled: bool = True


class FunctionUrlSpec(_Spec):
    """A function URL on the unqualified function (requests run $LATEST)."""

    auth_type: Literal["NONE", "AWS_IAM"] = "NONE"


class InvokePermissionSpec(_Spec):
    """A resource-policy statement letting a service or account invoke the function."""

    principal: str = Field(min_length=1, description="e.g. apigateway.amazonaws.com, s3.amazonaws.com, an account id")
    qualifier: str | None = Field(default=None, description="alias or version granted; none: the unqualified function")
    source_arn: str | None = None


class DeployedBySpec(_Spec):
    """The CloudFormation stack that deployed the function (SAM, CDK or plain): CloudFormation tags it
    aws:cloudformation:stack-name, stack-id and logical-id; a SAM template adds lambda:createdBy=SAM."""

    stack: str = Field(pattern=r"^[a-zA-Z][a-zA-Z0-9-]{0,127}$", description="the stack's name")
    logical_id: str = Field(pattern=r"^[A-Za-z0-9]{1,255}$", description="the function's logical id in the template")
    sam: bool = Field(default=False, description="a SAM template (AWS::Serverless::Function)")


class RedeploySpec(_Spec):
    """A deploy of the function's source after a run: its MemorySize returns to the declared size."""

    after_run: int = Field(ge=1, description="after the Nth execution this embedded AWS ran (EmbeddedAws.run)")
    memory_size: int | None = Field(
        default=None, ge=128, le=10_240, description="the size the source declares; none: the function's memorySize"
    )


# Managed runtimes Lambda offers SnapStart for (docs: snapstart, "Supported features and limitations").
SNAP_START_RUNTIMES = ("java11", "java17", "java21", "python3.12", "python3.13", "dotnet8")


class HistorySegment(_Spec):
    """Days of production traffic before the run (history.py): REPORT lines in the log group, AWS/Lambda metrics."""

    days: int = Field(default=1, ge=1, le=90, description="how many consecutive days this segment lasts")
    invocations_per_day: int = Field(ge=0, le=5000, description="invocations each day, spread evenly over it")
    memory_size: int | None = Field(
        default=None, ge=128, le=10_240, description="the size it ran at; none: the function's memorySize"
    )


class SimulatedFunction(_Spec):
    """A target function. Labelled simulated: its code is not run, its behaviour is modelled."""

    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    memory_size: int = Field(default=128, ge=128, le=10_240)
    timeout: int = Field(default=3, ge=1, le=900)
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    runtime: str = "python3.13"
    ephemeral_storage: int = Field(default=512, ge=512, le=10_240)
    tags: dict[str, str] = {}
    state: Literal["Active", "Pending"] = "Active"
    pending_seconds: float = Field(default=0.0, ge=0, description="how long a Pending function stays Pending")
    aliases: list[str] = []
    latest_aliases: list[str] = Field(
        default=[], description="aliases created on $LATEST itself (no version published): live traffic on $LATEST"
    )
    profile: FunctionProfile | None = Field(
        default=None, description="how invocations behave; none: FunctionProfile() (a light function)"
    )
    live_traffic: LiveTrafficSpec | None = Field(
        default=None, description="production requests during a run; none: the function is idle"
    )
    event_source_mappings: list[EventSourceMappingSpec] = []
    function_url: FunctionUrlSpec | None = None
    invoke_permissions: list[InvokePermissionSpec] = []
    scheduled_callers: list[ScheduledCallerSpec] = Field(
        default=[], description="callers authorised by IAM alone, on a schedule: seen only in CloudWatch"
    )
    recent_invocations: int = Field(
        default=0, ge=0, description="CloudWatch Invocations of the unqualified function in the last hours"
    )
    history: list[HistorySegment] = Field(
        default_factory=list, description="production traffic of the past days, oldest first, ending at the run"
    )
    log_group: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_/.#-]+$",
        max_length=512,
        description="LoggingConfig.LogGroup; none: Lambda's default /aws/lambda/<name>",
    )

    snap_start: Literal["PublishedVersions", "None"] = Field(
        default="None", description="Lambda's SnapStart.ApplyOn: PublishedVersions makes each new version Pending"
    )
    pending_version_seconds: float = Field(
        default=0.0,
        ge=0,
        le=900,
        description="with snapStart PublishedVersions: how long a newly published version stays Pending",
    )
    layers: list[Annotated[str, Field(pattern=r"^[a-zA-Z0-9_-]{1,140}$")]] = Field(
        default_factory=list,
        max_length=5,
        description="layer names: the embedded AWS publishes a version of each and attaches it",
    )
    vpc: VpcSpec | None = Field(default=None, description="the function's VpcConfig; none: not in a VPC")
    image_uri: str | None = Field(
        default=None,
        pattern=r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$",
        description="a container image function (PackageType Image) from this ECR image; none: a zip package",
    )
    capacity_provider: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:capacity-provider:[a-zA-Z0-9_-]{1,140}$",
        description="ARN of the capacity provider the function runs on (Lambda Managed Instances)",
    )
    # What a copy of the function (a shadow) must reproduce or refuse (docs/measuring.md).
    environment: dict[str, str] = Field(default_factory=dict, description="environment variables")
    kms_key_arn: str | None = Field(default=None, description="customer managed KMS key of the environment")
    kms_key_usable: bool = Field(
        default=True, description="whether the key policy lets the tuner's roles decrypt with kms_key_arn"
    )
    logging_config: dict[str, str] = Field(
        default_factory=dict, description="LoggingConfig: LogFormat, ApplicationLogLevel, SystemLogLevel, LogGroup"
    )
    reserved_concurrency: int | None = Field(default=None, ge=0, description="PutFunctionConcurrency; none: unreserved")
    runtime_version_pinned: bool = Field(
        default=False, description="runs an older runtime version than a function created now gets (Manual mode)"
    )
    code_signed: bool = Field(default=False, description="its code is signed (SigningProfileVersionArn)")
    image_tag_moved: bool = Field(
        default=False, description="image_uri's tag was pushed again after deploy: it names another image now"
    )
    deployed_by: DeployedBySpec | None = Field(
        default=None, description="the CloudFormation stack that deployed it; none: created by hand"
    )
    redeploys: list[RedeploySpec] = Field(
        default=[], description="deploys of its source that put the declared MemorySize back after a run"
    )

    @model_validator(mode="after")
    def _no_reserved_tags(self) -> SimulatedFunction:
        # Lambda refuses tag keys with the aws: prefix from anyone but AWS: deployedBy sets CloudFormation's.
        reserved = sorted(key for key in self.tags if key.lower().startswith("aws:"))
        if reserved:
            raise ValueError(
                f"tags {reserved}: the aws: prefix is reserved for AWS; use deployedBy for CloudFormation's"
            )
        return self

    def stack_tags(self, region: str, account_id: str) -> dict[str, str]:
        """The tags CloudFormation (and SAM) put on the function when its stack deployed it."""
        spec = self.deployed_by
        if spec is None:
            return {}
        tags = {
            "aws:cloudformation:stack-name": spec.stack,
            "aws:cloudformation:stack-id": f"arn:aws:cloudformation:{region}:{account_id}:stack/{spec.stack}/"
            "00000000-0000-4000-8000-000000000000",
            "aws:cloudformation:logical-id": spec.logical_id,
        }
        if spec.sam:
            tags["lambda:createdBy"] = "SAM"
        return tags

    @model_validator(mode="after")
    def _qualifiers_exist(self) -> SimulatedFunction:
        qualifiers = [
            item.qualifier for item in (*self.event_source_mappings, *self.invoke_permissions, *self.scheduled_callers)
        ]
        if self.live_traffic is not None:
            qualifiers.append(self.live_traffic.qualifier)
        declared = [*self.aliases, *self.latest_aliases]
        missing = sorted({q for q in qualifiers if q and q != "$LATEST" and q not in declared})
        if missing:
            raise ValueError(f"qualifiers {missing} are not among the function's aliases {declared}")
        both = sorted(set(self.aliases) & set(self.latest_aliases))
        if both:
            raise ValueError(f"latest_aliases {both} are also in aliases")
        return self

    @model_validator(mode="after")
    def _consistent_settings(self) -> SimulatedFunction:
        if self.pending_version_seconds and self.snap_start != "PublishedVersions":
            raise ValueError(
                "pendingVersionSeconds is how long a SnapStart snapshot takes: it needs snapStart PublishedVersions"
            )
        if self.snap_start == "PublishedVersions" and self.runtime not in SNAP_START_RUNTIMES:
            raise ValueError(
                f"snapStart: Lambda offers SnapStart for {', '.join(SNAP_START_RUNTIMES)}, not {self.runtime}"
            )
        return self

    def lambda_settings(self) -> dict[str, Any]:
        """CreateFunction parameters beyond the basic ones: SnapStart and the capacity provider, when set."""
        settings: dict[str, Any] = {}
        if self.snap_start != "None":
            settings["SnapStart"] = {"ApplyOn": self.snap_start}
        if self.capacity_provider:
            settings["CapacityProviderConfig"] = {
                "LambdaManagedInstancesCapacityProviderConfig": {"CapacityProviderArn": self.capacity_provider}
            }
        return settings


# The state machine's own role is revoked from under this name (its logical id in template.yaml).
STATE_MACHINE_PRINCIPAL = "TunerStateMachine"


class RevokedPermission(_Spec):
    """Remove actions from a tuner role's inline policies, as if the template had never granted them.

    A statement left without actions is dropped; an inline policy left without statements is
    deleted (IAM holds no empty policy). Each action must be granted by the role's inline
    policies: revoking what the role does not hold is an error naming the action.
    """

    function: str = Field(
        description="logical id of a tuner function, e.g. UpdateConfigurationFunction, "
        f"or {STATE_MACHINE_PRINCIPAL} for the state machine's role"
    )
    actions: list[Annotated[str, Field(pattern=r"^[a-z0-9-]+:[A-Za-z0-9*]+$")]] = Field(
        min_length=1, description="IAM actions as the template writes them, e.g. lambda:UpdateFunctionConfiguration"
    )

    @model_validator(mode="after")
    def _distinct_actions(self) -> RevokedPermission:
        lowered = [action.lower() for action in self.actions]
        duplicates = sorted({action for action in self.actions if lowered.count(action.lower()) > 1})
        if duplicates:
            raise ValueError(f"actions: {duplicates} listed twice")
        return self


class Fault(_Spec):
    """Answer matching requests with an AWS error instead of serving them."""

    service: Literal[
        "lambda", "iam", "sts", "dynamodb", "sfn", "cloudwatch", "cloudwatch-logs", "eventbridge", "s3", "sqs"
    ] = Field(description="botocore service id of the requests to fail")
    action: str = Field(default="*", description="API operation, e.g. UpdateFunctionConfiguration; * for all")
    code: str = Field(description="AWS error code, e.g. TooManyRequestsException, ServiceException")
    status: int = Field(default=400, ge=400, le=599)
    message: str = "injected by the embedded AWS"
    times: int | None = Field(default=None, ge=1, description="fail this many matching requests, then serve")
    probability: float | None = Field(default=None, gt=0, le=1, description="fail each request with this chance")
    seed: int = 0
    caller: str | None = Field(
        default=None,
        description="only requests made by this tuner function (logical id, e.g. MeasureConfigurationFunction)",
    )

    @model_validator(mode="after")
    def _one_trigger(self) -> Fault:
        if (self.times is None) == (self.probability is None):
            raise ValueError("a fault needs exactly one of 'times' or 'probability'")
        return self


class WorkerTimeout(_Spec):
    """Cut a tuner function's invocation off right after one of its AWS calls, as its timeout would.

    The call is served (its effect stays); the invocation makes no further call and ends as
    Lambda ends a timed-out one: errorType ``Sandbox.Timedout``. The next ``times`` invocations
    of the function that make the call are cut off.
    """

    function: str = Field(description="logical id of a tuner function, e.g. UpdateConfigurationFunction")
    after: str = Field(
        pattern=r"^[a-z0-9-]+:[A-Za-z0-9]+$",
        description="the call, as the call log names it: lambda:UpdateFunctionConfiguration",
    )
    times: int = Field(default=1, ge=1, description="how many invocations are cut off")
    seconds: float | None = Field(
        default=None,
        gt=0,
        le=900,
        description="real seconds from the invocation's start to its timeout; none: its Timeout x retryTimeScale",
    )


class PayloadObjectSpec(_Spec):
    """An S3 object the account holds before the run: a measurement payload (payloadS3, autotuner:payload)."""

    uri: str = Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$", description="s3://BUCKET/KEY")
    body: Any = Field(default=None, description="the object's JSON document (ignored with sizeBytes)")
    size_bytes: int | None = Field(
        default=None, ge=2, le=16 * 1024 * 1024, description="instead of body: a JSON string of this many bytes"
    )

    def content(self) -> bytes:
        """The object's bytes: ``body`` as JSON, or a JSON string ``size_bytes`` long."""
        if self.size_bytes is not None:
            return b'"' + b"x" * (self.size_bytes - 2) + b'"'
        return json.dumps(self.body).encode("utf-8")


class SimulatedAccount(_Spec):
    """Everything the embedded AWS starts with."""

    region: str = "us-east-1"
    account_id: str = Field(default="123456789012", pattern=r"^\d{12}$")
    stack_name: str = Field(default="lambda-autotuner", pattern=r"^[a-zA-Z][a-zA-Z0-9-]{0,100}$")
    parameters: dict[str, str] = Field(
        default={"StatusPollIntervalMs": "20", "MaxStatusWaitSeconds": "5"},
        description="template parameter overrides, as sam deploy --parameter-overrides",
    )
    memory_quota_mb: int = Field(default=3008, ge=128, le=10_240, description="account memory limit per function")
    update_seconds: float = Field(default=0.1, ge=0, description="LastUpdateStatus stays InProgress this long")
    retry_time_scale: float = Field(
        default=0.01,
        gt=0,
        le=1,
        description="the embedded AWS's clock: retry waits, SDK backoff and pacing waits are multiplied "
        "by this, and rate limits count AWS seconds of this length",
    )
    rate_limits: bool = Field(
        default=True, description="enforce Lambda's control-plane limits (15/s shared, GetFunction 100/s)"
    )
    functions: list[SimulatedFunction] = []
    revoke: list[RevokedPermission] = []
    faults: list[Fault] = []
    worker_timeouts: list[WorkerTimeout] = []
    payload_objects: list[PayloadObjectSpec] = Field(
        default=[], description="S3 objects created (with their buckets) before the run, e.g. payloads"
    )

    @model_validator(mode="after")
    def _unique_functions(self) -> SimulatedAccount:
        names = [function.name for function in self.functions]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"functions: duplicate names {duplicates}")
        return self


def load_account(path: Path | str) -> SimulatedAccount:
    """Read and validate a simulated-account file; errors name the file and each bad field."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: cannot read simulated account: {error}") from None
    try:
        return SimulatedAccount.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or '(file)'}: {item['msg']}" for item in error.errors()
        )
        raise ValueError(f"{path}: invalid simulated account: {problems}") from None
