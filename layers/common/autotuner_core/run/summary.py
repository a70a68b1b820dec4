"""The run's result, from the run records: counts by outcome; a run with a failed target fails.

The per-target results do not travel through state (a sweep's would exceed 256 KB): the summary
reads the run's target list and each target's record, so a target whose record is missing is
reported as a failure rather than silently left out. A single measured target's result is also
named as AWS Lambda Power Tuning's output names it (``results``), and a Power Tuning input's
translation, which the records keep with the request, is repeated in the output (``powerTuning``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from autotuner_core.cost import run_cost, savings
from autotuner_core.documents.base import Outcome
from autotuner_core.documents.cost import RunCost
from autotuner_core.documents.outcome import (
    FunctionSavings,
    PowerTuningResults,
    PowerTuningStateMachine,
    PowerTuningStats,
    ReportLink,
    RunCostReport,
    RunSummary,
    SummarizeEvent,
    TargetOutcome,
)
from autotuner_core.documents.request import TranslatedField
from autotuner_core.policy.errors import ERROR_CLASSES, PartialFailureError, PermanentError
from autotuner_core.run.records import plain

# Outcomes listed in the output (failures first); the records hold every one.
MAX_OUTCOMES_IN_OUTPUT = 25
# Failures named in a PartialFailureError's message; Step Functions keeps 32,768 characters of a cause.
MAX_FAILURES_NAMED = 20
MISSING_RECORD = "RunRecordMissing"


def missing_record(target: str) -> TargetOutcome:
    return TargetOutcome(
        target=target,
        outcome=Outcome.FAILED,
        error_type=MISSING_RECORD,
        error_message="no run record was written for this target",
    )


def run_status(outcomes: list[TargetOutcome]) -> str:
    """FAILED when any target failed (``summarize`` then raises), else SUCCEEDED."""
    return "FAILED" if any(outcome.outcome is Outcome.FAILED for outcome in outcomes) else "SUCCEEDED"


def summarize(
    event: SummarizeEvent,
    outcomes: list[TargetOutcome],
    power_tuning: list[TranslatedField] | None = None,
    *,
    report: ReportLink | None = None,
    warnings: list[str] | None = None,
) -> RunSummary:
    """Succeed only if no target failed.

    ``outcomes`` has one entry per target of the run (``missing_record`` where none was found).
    ``report`` (the stored HTML report) goes into the output, or, for a failed run, its S3 URI
    into the error's message; ``warnings`` (a report that could not be written) into the output.
    A run of one target that failed re-raises that target's error class (the run fails with the
    error the operator needs to see); otherwise PartialFailureError names the failed targets.
    Only permanent classes are re-raised: the target's retries are already spent, so the run
    must not be retried as a whole.
    """
    failed = [outcome for outcome in outcomes if outcome.outcome is Outcome.FAILED]
    where = f" (report: {report.s3_uri})" if report is not None else ""
    if len(failed) == 1 and len(outcomes) == 1:
        error_class = ERROR_CLASSES.get(failed[0].error_type or "")
        if error_class is not None and issubclass(error_class, PermanentError):
            raise error_class(f"{failed[0].target}: {failed[0].error_message}{where}")
    if failed:
        named = "; ".join(
            f"{item.target}: {item.error_type}: {item.error_message}" for item in failed[:MAX_FAILURES_NAMED]
        )
        more = len(failed) - MAX_FAILURES_NAMED
        raise PartialFailureError(
            f"{len(failed)} of {len(outcomes)} targets failed: {named}"
            + (f"; and {more} more (autotuner runs {event.execution.arn})" if more > 0 else "")
            + where
        )
    counts = Counter(outcome.outcome.value for outcome in outcomes)
    listed = outcomes if len(outcomes) <= MAX_OUTCOMES_IN_OUTPUT else _briefly(outcomes)
    counted = run_cost.counted(outcomes)
    return RunSummary(
        execution=event.execution,
        status="SUCCEEDED",
        targets=len(outcomes),
        counts=dict(counts),
        **_savings(outcomes),
        outcomes=listed,
        outcomes_omitted=len(outcomes) - len(listed),
        run_cost=RunCostReport(estimated=event.estimated_cost, counted=counted),
        power_tuning=power_tuning,
        results=power_tuning_results(outcomes, counted),
        report=report,
        warnings=list(warnings or []),
    )


def power_tuning_results(outcomes: list[TargetOutcome], counted: RunCost) -> PowerTuningResults | None:
    """A single measured target's result under AWS Lambda Power Tuning's names (its ``results``).

    ``power`` is the size the run chose (applied, or recommended on a dry run; the current size
    when no size was ``minImprovement`` better); ``cost`` and ``duration`` are that size's row of
    the table, as Power Tuning's are its winner's row of ``stats``: the trimmed mean of Duration and
    the cost per invocation at the trimmed mean Billed Duration. Ours prices the request too, and
    Power Tuning's duration adds Init Duration on a cold start; ours is Duration alone.
    ``stateMachine`` is the counted run cost: Step Functions, and the target's invocations.
    """
    if len(outcomes) != 1:
        return None
    outcome = outcomes[0]
    recommendation, table = outcome.recommendation, outcome.configurations or []
    stats = [
        PowerTuningStats(value=row.memory_size, average_price=row.cost_per_invocation_usd, average_duration=row.mean_ms)
        for row in table
        if row.excluded is None and row.mean_ms is not None and row.cost_per_invocation_usd is not None
    ]
    if recommendation is None or not stats:
        return None
    chosen = next((row for row in stats if row.value == recommendation.memory_size), None)
    cost, duration = (
        (chosen.average_price, chosen.average_duration)
        if chosen
        else (recommendation.cost_per_invocation_usd, recommendation.mean_ms)
    )
    return PowerTuningResults(
        power=recommendation.memory_size,
        cost=cost,
        duration=duration,
        state_machine=PowerTuningStateMachine(
            execution_cost=counted.step_functions_usd, lambda_cost=counted.target_invocations_usd
        ),
        stats=stats,
    )


def power_tuning_fields(records: list[dict[str, Any]]) -> list[TranslatedField] | None:
    """The translation of a Power Tuning input, as the run's records keep it with the request."""
    for record in records:
        rows = (record.get("requested") or {}).get("powerTuning")
        if rows:
            return [TranslatedField.model_validate(plain(row)) for row in rows]
    return None


def savings_by_function(outcomes: list[TargetOutcome]) -> list[FunctionSavings]:
    """Each changed (or, on a dry run, recommended) function's projected savings, largest first."""
    rows = []
    for outcome in outcomes:
        recommendation = outcome.recommendation
        if outcome.finding is not None and outcome.outcome is Outcome.RECOMMENDED:
            rows.extend(_telemetry_saving(outcome))
            continue
        if outcome.outcome not in (Outcome.APPLIED, Outcome.RECOMMENDED) or recommendation is None:
            continue
        if recommendation.kept_current or recommendation.projected_change_per_million_usd is None:
            continue
        per_million = -recommendation.projected_change_per_million_usd
        daily = outcome.daily_invocations
        rows.append(
            FunctionSavings(
                target=outcome.target,
                outcome=outcome.outcome,
                memory_before=recommendation.current_memory_size,
                memory_after=recommendation.memory_size,
                savings_per_million_usd=round(per_million, 6),
                cost_change_pct=recommendation.cost_change_pct,
                daily_invocations=daily,
                savings_per_day_usd=round(per_million * daily / 1_000_000, 6) if daily is not None else None,
                savings_per_month_usd=round(savings.per_month(per_million, daily), 6) if daily is not None else None,
            )
        )
    return sorted(rows, key=lambda row: -row.savings_per_million_usd)


def _telemetry_saving(outcome: TargetOutcome) -> list[FunctionSavings]:
    """A telemetry finding's saving as a row (its range stays in the record's projectedSavings)."""
    finding = outcome.finding
    if finding is None or finding.savings is None or finding.recommended_memory_mb in (None, finding.current_memory_mb):
        return []
    priced = finding.savings
    return [
        FunctionSavings(
            target=outcome.target,
            outcome=outcome.outcome,
            memory_before=finding.current_memory_mb,
            memory_after=finding.recommended_memory_mb,
            savings_per_million_usd=priced.per_million_usd,
            daily_invocations=priced.daily_invocations,
            savings_per_day_usd=round(priced.per_million_usd * priced.daily_invocations / 1_000_000, 6),
            savings_per_month_usd=priced.per_month_usd,
        )
    ]


def _savings(outcomes: list[TargetOutcome]) -> dict[str, object]:
    """The per-function savings, and a total only where it means something.

    "Per million invocations" is per million of each function's own invocations: adding them up
    across functions would treat a function called once a day like one called a million times.
    The applied functions' savings are summed only when every one's traffic is known, weighted by it.
    """
    rows = savings_by_function(outcomes)
    applied = [row for row in rows if row.outcome is Outcome.APPLIED]
    unknown = [row.target for row in applied if row.savings_per_day_usd is None]
    if not applied:
        return {"savings": rows}
    if unknown:
        note = (
            f"traffic unknown for {len(unknown)} of {len(applied)} changed functions: savings are per million of "
            "each function's own invocations and are not added up"
        )
        return {"savings": rows, "savings_note": note}
    total = sum(row.savings_per_day_usd or 0.0 for row in applied)
    return {
        "savings": rows,
        "projected_savings_per_day_usd": round(total, 6),
        "projected_savings_per_month_usd": round(sum(row.savings_per_month_usd or 0.0 for row in applied), 6),
    }


def _briefly(outcomes: list[TargetOutcome]) -> list[TargetOutcome]:
    """A sweep's first outcomes without their per-size tables: the output stays small."""
    return [outcome.brief() for outcome in outcomes[:MAX_OUTCOMES_IN_OUTPUT]]
