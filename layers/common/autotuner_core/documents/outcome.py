"""What a run produced: run records, per-target outcomes and the run's summary.

JSON field names are camelCase (the execution input's style); a function's configuration keeps
Lambda's own PascalCase names so it reads like ``GetFunctionConfiguration``.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from autotuner_core.documents.base import Document, Outcome
from autotuner_core.documents.cost import RunCost, StageTimings, TuningSpend
from autotuner_core.documents.request import TargetRef, TranslatedField, TuningRequest
from autotuner_core.documents.target import (
    Candidate,
    ConfigurationStats,
    DiscoveredTarget,
    ExecutionRef,
    FunctionConfiguration,
    MeasuredItem,
    ObjectRef,
    Recommendation,
    RoundItem,
    SizeObservation,
    SizeRequest,
)


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
