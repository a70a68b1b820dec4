"""What production telemetry said about one target, and the finding drawn from it (telemetry/, docs/telemetry.md).

The finding names follow AWS Compute Optimizer's vocabulary for Lambda, so a reader who knows
that service reads these the same way; NEEDS_MEASUREMENT is ours (Compute Optimizer cannot measure).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from autotuner_core.documents.base import Document, Outcome
from autotuner_core.documents.task import TargetTask


class FindingKind(StrEnum):
    OPTIMIZED = "OPTIMIZED"
    MEMORY_OVERPROVISIONED = "MEMORY_OVERPROVISIONED"
    MEMORY_UNDERPROVISIONED = "MEMORY_UNDERPROVISIONED"
    NEEDS_MEASUREMENT = "NEEDS_MEASUREMENT"  # duration likely depends on memory: only measuring can say how
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class PerformanceRisk(StrEnum):
    """How likely the recommended size is to make the function slower or fail (Compute Optimizer's scale)."""

    VERY_LOW = "VeryLow"
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"


class SizeTelemetry(Document):
    """The REPORT lines of one memory size within the window read: one row of the Logs Insights answer."""

    memory_size: int  # MB
    invocations: int
    duration_p50_ms: float
    duration_p90_ms: float
    duration_p99_ms: float
    billed_duration_avg_ms: float
    billed_duration_p99_ms: float
    max_memory_used_p99_mb: float
    max_memory_used_max_mb: float
    cold_starts: int
    init_duration_avg_ms: float | None = None
    out_of_memory: int = 0
    timeouts: int = 0

    @property
    def cold_start_share(self) -> float:
        return self.cold_starts / self.invocations if self.invocations else 0.0


class LogsRead(Document):
    """What was read of the function's log group, and why not all of it where it was not."""

    log_group: str
    log_format: str  # Text or JSON: LoggingConfig.LogFormat
    estimated_bytes: int | None = None  # the log group's IncomingBytes over the lookback, before the query
    scan_cap_bytes: int
    window_days: float  # 0: not read at all
    bytes_scanned: int = 0  # GetQueryResults' statistics: what the query was billed for
    scan_usd: float = 0.0  # what that scan costs (cost/prices.py logs_insights_usd)
    records_matched: int = 0
    note: str | None = None  # shortened or not read: why


class MetricTotals(Document):
    """CloudWatch AWS/Lambda metrics of the function (dimension FunctionName) over the lookback."""

    invocations: float = 0
    errors: float = 0
    throttles: float = 0
    duration_avg_ms: float | None = None
    concurrent_executions_max: float | None = None
    days_with_invocations: int = 0


class TelemetryEvidence(Document):
    """Everything telemetry mode read about one target."""

    lookback_days: int
    logs: LogsRead
    metrics: MetricTotals
    sizes: list[SizeTelemetry] = []  # one per memory size seen in the window, smallest first


class SavingsRange(Document):
    """A month's saving of the finding's size at the observed traffic, with its range (USD; negative costs more)."""

    per_month_usd: float
    low_per_month_usd: float
    high_per_month_usd: float
    per_million_usd: float
    daily_invocations: float


class Finding(Document):
    """The telemetry finding: what to do, on what evidence, at what risk and for what money."""

    finding: FindingKind
    reasons: list[str]  # the evidence, in words; for INSUFFICIENT_DATA why there is too little
    current_memory_mb: int
    recommended_memory_mb: int | None = None
    performance_risk: PerformanceRisk | None = None
    savings: SavingsRange | None = None
    # Where Compute Optimizer would give no answer (over 1,792 MB, fewer than 50 invocations in 14 days).
    compute_optimizer_note: str | None = None


class TelemetryTask(TargetTask):
    """DiscoverResources' output in telemetry mode, RecordTargetResult's input: the finding, nothing changed."""

    outcome: Outcome
    source: Literal["telemetry"] = "telemetry"
    telemetry: TelemetryEvidence
    finding: Finding

    @classmethod
    def of(cls, task: TargetTask, evidence: TelemetryEvidence, finding: Finding) -> TelemetryTask:
        """The discovered target with what its telemetry said: a recommendation, never a change."""
        return cls(
            execution=task.execution,
            request=task.request,
            target=task.target,
            timings=task.timings,
            admission=task.admission,
            spend=task.spend,
            outcome=Outcome.RECOMMENDED,
            telemetry=evidence,
            finding=finding,
        )
