"""What the run knows of one target: its configuration, traffic, candidates, observations and recommendation.

JSON field names are camelCase (the execution input's style); a function's configuration keeps
Lambda's own PascalCase names so it reads like ``GetFunctionConfiguration``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)
from pydantic.alias_generators import to_pascal

from autotuner_core.documents.base import Document
from autotuner_core.documents.cost import RunCost, StageTimings
from autotuner_core.documents.payload import PayloadSource
from autotuner_core.documents.request import Strategy, TargetRef, TuningRequest


class ExecutionRef(Document):
    """The execution a document belongs to, taken from the Step Functions context object."""

    model_config = ConfigDict(frozen=True)

    arn: str
    start_time: str
    # Targets tuned side by side in this run (set by ValidatePermissions): each one's worker
    # takes that share of the account's Lambda control-plane budget (pacing.py).
    workers: Annotated[int, Field(ge=1)] = 1
    # Targets in the run (set by ValidatePermissions): each one may spend this share of the run's limits.
    targets: Annotated[int, Field(ge=0)] = 1  # 0: an empty selection, a recorded no-op

    @property
    def name(self) -> str:
        return self.arn.rsplit(":", 1)[-1]

    def with_workers(self, workers: int, *, targets: int = 1) -> ExecutionRef:
        return ExecutionRef(arn=self.arn, start_time=self.start_time, workers=workers, targets=targets)


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
    # When the configuration last changed, and the code: a later run tells a deploy's revert of a
    # tuned size by them (targets/drift.py).
    last_modified: str | None = None
    code_sha256: str | None = None
    # Where the function logs and in which format (LogGroup, LogFormat): discovery reads telemetry there in the
    # same step, so it is never dumped (records and state keep the configuration they had).
    logging_config: dict[str, str] | None = Field(default=None, exclude=True)

    @classmethod
    def from_lambda(cls, configuration: dict[str, Any]) -> FunctionConfiguration:
        """Read GetFunction's ``Configuration`` (EphemeralStorage is nested there)."""
        data = dict(configuration)
        data["EphemeralStorage"] = (configuration.get("EphemeralStorage") or {}).get("Size", 512)
        return cls.model_validate(data)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def at_size(self, memory_size: int) -> FunctionConfiguration:
        """This configuration at another memory size, as a dry run reports it: no revision was made."""
        return FunctionConfiguration(
            memory_size=memory_size,
            timeout=self.timeout,
            architectures=self.architectures,
            ephemeral_storage=self.ephemeral_storage,
            description=self.description,
            revision_id=None,
            state=self.state,
            last_update_status=self.last_update_status,
            role=self.role,
            code_sha256=self.code_sha256,
            logging_config=self.logging_config,
        )


# How far back the live-traffic check asks CloudWatch for invocations that ran $LATEST: a weekly
# caller authorised by IAM alone leaves nothing else to see, so a day is not enough.
LIVE_TRAFFIC_LOOKBACK_DAYS = 14
RECENT_TRAFFIC_HOURS = LIVE_TRAFFIC_LOOKBACK_DAYS * 24


class LiveTrafficEvidence(Document):
    """What discovery found sending requests to the unqualified function (``$LATEST``)."""

    live: bool
    sources: list[str] = []
    recent_invocations: int = 0  # Invocations that ran $LATEST in the last window_hours (see live_traffic.py)
    window_hours: int = RECENT_TRAFFIC_HOURS
    # The function's aliases at discovery: the re-checks during measuring count what ran $LATEST through each.
    aliases: list[str] = []
    # Invocations of the function, every version and alias, in the last 24 hours: its traffic,
    # by which a sweep weighs savings per million. It includes the tuner's own measuring invocations of
    # that window (at most 3 x invocations per run). None where it was not read.
    daily_invocations: int | None = None
    # How measuring avoids it (discovery decides): "versions" of an idle $LATEST, a "shadow" copy of a
    # live one, or "in-place" on a live one because the input asked for measureOnLive.
    measured_on: str | None = None

    def measured(self, on: str) -> LiveTrafficEvidence:
        """This evidence with discovery's decision of how measuring avoids the traffic."""
        return LiveTrafficEvidence(
            live=self.live,
            sources=self.sources,
            recent_invocations=self.recent_invocations,
            window_hours=self.window_hours,
            aliases=self.aliases,
            daily_invocations=self.daily_invocations,
            measured_on=on,
        )


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

    def pointed(self, *, version: str | None = None, function_arn: str | None = None) -> Candidate:
        """This candidate with its version (once its alias points at it) or the function that carries it."""
        return Candidate(
            memory_size=self.memory_size,
            current=self.current,
            version=version or self.version,
            aliases=self.aliases,
            excluded=self.excluded,
            function_arn=function_arn or self.function_arn,
        )


class InvocationSample(Document):
    """One invocation, as its REPORT line tells it."""

    duration_ms: float
    billed_duration_ms: float
    memory_size_mb: int
    max_memory_used_mb: int | None = None
    init_duration_ms: float | None = None  # present only on a cold start
    error: str | None = None  # the function's errorType, if it failed

    def failed(self, error: str | None) -> InvocationSample:
        """This sample with the errorType the invocation returned (None: it succeeded)."""
        return InvocationSample(
            duration_ms=self.duration_ms,
            billed_duration_ms=self.billed_duration_ms,
            memory_size_mb=self.memory_size_mb,
            max_memory_used_mb=self.max_memory_used_mb,
            init_duration_ms=self.init_duration_ms,
            error=error,
        )


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

    def unranked(self, reason: str) -> ConfigurationStats:
        """This size's statistics, marked as a size the decision could not rank, and why."""
        return ConfigurationStats(
            memory_size=self.memory_size,
            current=self.current,
            invocations=self.invocations,
            errors=self.errors,
            error_types=self.error_types,
            cold_starts=self.cold_starts,
            cold_start_share=self.cold_start_share,
            mean_ms=self.mean_ms,
            p50_ms=self.p50_ms,
            p90_ms=self.p90_ms,
            p99_ms=self.p99_ms,
            billed_mean_ms=self.billed_mean_ms,
            billed_total_ms=self.billed_total_ms,
            max_memory_used_mb=self.max_memory_used_mb,
            cost_per_invocation_usd=self.cost_per_invocation_usd,
            cost_per_million_usd=self.cost_per_million_usd,
            measured_usd=self.measured_usd,
            excluded=reason,
        )


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
