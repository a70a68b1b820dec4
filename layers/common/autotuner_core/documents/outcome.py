"""What a run produced: the documents RecordResult records, per-target outcomes and the run's summary."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from autotuner_core.documents.base import Document, Outcome, parse_event
from autotuner_core.documents.cost import RunCost, StageTimings, TuningSpend
from autotuner_core.documents.drift import DeployRevert
from autotuner_core.documents.request import TargetRef, TranslatedField, TuningRequest
from autotuner_core.documents.target import (
    Candidate,
    ConfigurationStats,
    DiscoveredTarget,
    ExecutionRef,
    FunctionConfiguration,
    ObjectRef,
    Recommendation,
    SizeObservation,
    SizeRequest,
    ValidateEvent,
)
from autotuner_core.documents.task import (
    Admission,
    AdmittedTarget,
    ChosenTask,
    Cleanup,
    MeasuredTask,
    MeasuringTask,
    PreparedRound,
    RoundItem,
    TargetEntry,
    TargetTask,
    UpdatedChoice,
    UpdatedTask,
)
from autotuner_core.documents.telemetry import Finding, TelemetryEvidence, TelemetryTask


class StepError(BaseModel):
    """What a Catch puts at ``$.error``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    error: str = Field(alias="Error")
    cause: str = Field(default="", alias="Cause")


class NoTargets(Document):
    """RecordNoTargets' input, written in the ASL: a sweep whose selector matched no function."""

    execution: ExecutionRef
    request: TuningRequest
    timings: StageTimings
    outcome: Outcome
    note: str  # why the run recorded no target


# Every document RecordResult records: a success (UpdateConfiguration's output), the ASL's no-target
# document, or the input of any state that failed, which a Catch hands on with the error added.
RECORDED: tuple[type[Document], ...] = (
    ValidateEvent,
    NoTargets,
    TargetEntry,
    AdmittedTarget,
    TargetTask,
    MeasuringTask,
    PreparedRound,
    MeasuredTask,
    ChosenTask,
    UpdatedTask,
    UpdatedChoice,
    TelemetryTask,  # telemetry mode: DiscoverResources' finding, recorded as it is
)


class Recording(Document):
    """What every recorded document has, and what the Catch blocks add to a failed state's input."""

    execution: ExecutionRef
    timings: StageTimings = StageTimings()  # a refused input has none
    error: StepError | None = None
    cleanup: Cleanup | None = None  # CleanupAfterFailure's report
    cleanup_error: StepError | None = None  # clean-up after a failure failed too: say so in the record


class RecordEvent(Recording):
    """RecordResult's and CleanupAfterFailure's input: any one of RECORDED, with what a Catch added.

    Every other field of the recorded documents, each optional, with its type there (in RECORDED's
    order of first appearance). Written out so the type checker knows each; test_task_documents.py
    checks that they are exactly the recorded documents' fields and types.
    """

    input: Any | None = None
    request: TuningRequest | None = None
    outcome: Outcome | None = None
    note: str | None = None
    ref: TargetRef | None = None
    admission: Admission | None = None
    target: DiscoveredTarget | None = None
    spend: TuningSpend | None = None
    measurement_started_ms: float | None = None
    observations: list[SizeObservation] | None = None
    plan: list[SizeRequest] | None = None
    candidates: list[Candidate] | None = None
    refined_sizes: list[int] | None = None
    round: list[RoundItem] | None = None
    configurations: list[ConfigurationStats] | None = None
    recommendation: Recommendation | None = None
    before: FunctionConfiguration | None = None
    after: FunctionConfiguration | None = None
    alias: str | None = None
    drift: DeployRevert | None = None
    source: Literal["telemetry"] | None = None
    telemetry: TelemetryEvidence | None = None
    finding: Finding | None = None


def parse_cleanup_input(event: Any) -> MeasuringTask | RecordEvent:
    """CleanupMeasurement's input: the measuring loop's last document (MeasureMore's default), or, on the
    failure path (CleanupAfterFailure), any failed state's input with the error its Catch added."""
    failed = isinstance(event, dict) and "error" in event
    return parse_event(RecordEvent, event) if failed else parse_event(MeasuringTask, event)


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
    finding: Finding | None = None  # telemetry mode's finding (source telemetry)

    def brief(self) -> TargetOutcome:
        """This outcome without its per-size tables (a sweep's output stays small)."""
        return TargetOutcome(
            target=self.target,
            outcome=self.outcome,
            memory_before=self.memory_before,
            memory_after=self.memory_after,
            error_type=self.error_type,
            error_message=self.error_message,
            recommendation=self.recommendation,
            spend=self.spend,
            daily_invocations=self.daily_invocations,
            finding=self.finding,
        )


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
