"""The run's result, from the run records: counts by outcome; a run with a failed target fails.

The per-target results do not travel through state (a sweep's would exceed 256 KB): the summary
reads the run's target list and each target's record, so a target whose record is missing is
reported as a failure rather than silently left out.
"""

from __future__ import annotations

from collections import Counter

from autotuner_core import run_cost
from autotuner_core.errors import ERROR_CLASSES, PartialFailureError, PermanentError
from autotuner_core.models import Outcome, RunCostReport, RunSummary, SummarizeEvent, TargetOutcome

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


def summarize(event: SummarizeEvent, outcomes: list[TargetOutcome]) -> RunSummary:
    """Succeed only if no target failed.

    ``outcomes`` has one entry per target of the run (``missing_record`` where none was found).
    A run of one target that failed re-raises that target's error class (the run fails with the
    error the operator needs to see); otherwise PartialFailureError names the failed targets.
    Only permanent classes are re-raised: the target's retries are already spent, so the run
    must not be retried as a whole.
    """
    failed = [outcome for outcome in outcomes if outcome.outcome is Outcome.FAILED]
    if len(failed) == 1 and len(outcomes) == 1:
        error_class = ERROR_CLASSES.get(failed[0].error_type or "")
        if error_class is not None and issubclass(error_class, PermanentError):
            raise error_class(f"{failed[0].target}: {failed[0].error_message}")
    if failed:
        named = "; ".join(
            f"{item.target}: {item.error_type}: {item.error_message}" for item in failed[:MAX_FAILURES_NAMED]
        )
        more = len(failed) - MAX_FAILURES_NAMED
        raise PartialFailureError(
            f"{len(failed)} of {len(outcomes)} targets failed: {named}"
            + (f"; and {more} more (autotuner runs {event.execution.arn})" if more > 0 else "")
        )
    counts = Counter(outcome.outcome.value for outcome in outcomes)
    listed = outcomes if len(outcomes) <= MAX_OUTCOMES_IN_OUTPUT else _briefly(outcomes)
    return RunSummary(
        execution=event.execution,
        status="SUCCEEDED",
        targets=len(outcomes),
        counts=dict(counts),
        projected_savings_per_million_usd=round(
            -sum(
                outcome.recommendation.projected_change_per_million_usd or 0.0
                for outcome in outcomes
                if outcome.outcome is Outcome.APPLIED and outcome.recommendation is not None
            ),
            2,
        ),
        outcomes=listed,
        outcomes_omitted=len(outcomes) - len(listed),
        run_cost=RunCostReport(estimated=event.estimated_cost, counted=run_cost.counted(outcomes)),
    )


def _briefly(outcomes: list[TargetOutcome]) -> list[TargetOutcome]:
    """A sweep's first outcomes without their per-size tables: the output stays small."""
    return [
        outcome.model_copy(update={"configurations": None, "refined_sizes": None})
        for outcome in outcomes[:MAX_OUTCOMES_IN_OUTPUT]
    ]
