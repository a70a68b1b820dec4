"""The run's result: counts by outcome; a run with a failed target fails."""

from __future__ import annotations

from collections import Counter

from autotuner_core import run_cost
from autotuner_core.errors import ERROR_CLASSES, PartialFailureError, PermanentError
from autotuner_core.models import Outcome, RunCostReport, RunSummary, SummarizeEvent


def summarize(event: SummarizeEvent) -> RunSummary:
    """Succeed only if no target failed.

    A run of one target that failed re-raises that target's error class (the run fails with the
    error the operator needs to see); otherwise PartialFailureError names each failed target. Only permanent
    classes are re-raised: the target's retries are already spent, so the run must not be
    retried as a whole.
    """
    outcomes = [outcome for result in event.results for outcome in result.outcomes]
    failed = [outcome for outcome in outcomes if outcome.outcome is Outcome.FAILED]
    if len(failed) == 1 and len(outcomes) == 1:
        error_class = ERROR_CLASSES.get(failed[0].error_type or "")
        if error_class is not None and issubclass(error_class, PermanentError):
            raise error_class(f"{failed[0].target}: {failed[0].error_message}")
    if failed:
        raise PartialFailureError(
            f"{len(failed)} of {len(outcomes)} targets failed: "
            + "; ".join(f"{item.target}: {item.error_type}: {item.error_message}" for item in failed)
        )
    counts = Counter(outcome.outcome.value for outcome in outcomes)
    return RunSummary(
        execution=event.execution,
        status="SUCCEEDED",
        counts=dict(counts),
        projected_savings_per_million_usd=round(
            -sum(
                outcome.recommendation.projected_change_per_million_usd or 0.0
                for outcome in outcomes
                if outcome.outcome is Outcome.APPLIED and outcome.recommendation is not None
            ),
            2,
        ),
        outcomes=outcomes,
        run_cost=RunCostReport(estimated=event.estimated_cost, counted=run_cost.counted(outcomes)),
    )
