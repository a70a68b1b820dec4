"""The run's result: a run with a failed target fails, with the error the operator needs to see."""

from __future__ import annotations

from typing import Any

import pytest

from autotuner_core.documents.base import parse_event
from autotuner_core.documents.outcome import SummarizeEvent, TargetOutcome
from autotuner_core.policy.errors import (
    FunctionNotFoundError,
    PartialFailureError,
    PermanentError,
    PermissionDeniedError,
    TargetChangedError,
    TransientError,
)
from autotuner_core.run.summary import MAX_FAILURES_NAMED, MAX_OUTCOMES_IN_OUTPUT, missing_record, summarize

ACCOUNT = "123456789012"
EXECUTION = {
    "arn": f"arn:aws:states:eu-west-1:{ACCOUNT}:execution:autotuner:run-42",
    "startTime": "2025-11-26T10:00:00Z",
}


def fn(name: str) -> str:
    return f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{name}"


def ok(name: str, outcome: str = "APPLIED", before: int = 512, after: int = 1024) -> dict[str, Any]:
    return {"target": fn(name), "outcome": outcome, "memoryBefore": before, "memoryAfter": after}


def failed(name: str, error_type: str, message: str) -> dict[str, Any]:
    return {
        "target": fn(name),
        "outcome": "FAILED",
        "memoryBefore": 512,
        "errorType": error_type,
        "errorMessage": message,
    }


def event(*outcomes: dict[str, Any]) -> tuple[SummarizeEvent, list[TargetOutcome]]:
    # The state's document names the stored target list; the outcomes come from the run records.
    document = {
        "execution": EXECUTION,
        "targetList": {"bucket": "sweep-bucket", "key": "runs/run-42/targets.json"},
    }
    return parse_event(SummarizeEvent, document), [TargetOutcome.model_validate(item) for item in outcomes]


def test_all_targets_ok_succeeds_with_counts_by_outcome() -> None:
    # Given three targets that were applied, left unchanged and recommended
    # When the run is summarised
    summary = summarize(*event(ok("a"), ok("b", "UNCHANGED", 1024, 1024), ok("c", "RECOMMENDED"), ok("d")))
    # Then it succeeds, counting each outcome and listing every target
    assert summary.status == "SUCCEEDED"
    assert summary.counts == {"APPLIED": 2, "UNCHANGED": 1, "RECOMMENDED": 1}
    assert [outcome.target for outcome in summary.outcomes] == [fn("a"), fn("b"), fn("c"), fn("d")]
    assert summary.dump()["execution"] == {**EXECUTION, "workers": 1, "targets": 1}


@pytest.mark.parametrize(
    ("error_type", "error_class"),
    [
        ("PermissionDeniedError", PermissionDeniedError),
        ("FunctionNotFoundError", FunctionNotFoundError),
        ("TargetChangedError", TargetChangedError),
    ],
)
def test_a_single_target_run_that_failed_fails_with_the_targets_own_error(
    error_type: str, error_class: type[PermanentError]
) -> None:
    # Given a run of one target, which failed permanently
    message = f"lambda:UpdateFunctionConfiguration on {fn('b')}: AccessDeniedException: not authorized"
    # When the run is summarised
    with pytest.raises(PermanentError) as caught:
        summarize(*event(failed("b", error_type, message)))
    # Then the run fails with that target's own class (the ErrorEquals name), naming target and cause
    assert type(caught.value) is error_class
    assert str(caught.value) == f"{fn('b')}: {message}"


@pytest.mark.parametrize(
    "error_type", ["UpdateInProgressError", "ThrottledError", "Lambda.TooManyRequestsException", "States.Timeout"]
)
def test_one_transiently_failed_target_fails_the_run_as_partial_failure_never_transient(error_type: str) -> None:
    # Given one target failed with an error whose retries are already spent
    # When the run is summarised
    with pytest.raises(PartialFailureError) as caught:
        summarize(*event(ok("a"), failed("b", error_type, "still busy after 60 s")))
    # Then the run fails permanently (it must not be retried as a whole), naming the target and its error
    assert not isinstance(caught.value, TransientError)
    assert str(caught.value) == f"1 of 2 targets failed: {fn('b')}: {error_type}: still busy after 60 s"


def test_several_failed_targets_are_each_listed() -> None:
    # Given two failures of different kinds among three targets
    # When the run is summarised
    with pytest.raises(PartialFailureError) as caught:
        summarize(
            *event(
                failed("a", "FunctionNotFoundError", "no such function"),
                ok("b"),
                failed("c", "ThrottledError", "rate exceeded"),
            )
        )
    # Then one error lists both, with type and message, and how many of all failed
    assert str(caught.value) == (
        f"2 of 3 targets failed: {fn('a')}: FunctionNotFoundError: no such function; "
        f"{fn('c')}: ThrottledError: rate exceeded"
    )


def test_one_failed_target_among_several_is_a_partial_failure_naming_it() -> None:
    # Given one target failed and another succeeded
    with pytest.raises(PartialFailureError) as caught:
        summarize(*event(ok("a"), failed("b", "FunctionNotFoundError", "gone")))
    # Then the run fails as a partial failure naming the failed target and its error
    assert str(caught.value) == f"1 of 2 targets failed: {fn('b')}: FunctionNotFoundError: gone"


def test_a_target_without_a_run_record_fails_the_run() -> None:
    # Given a target whose run record was never written (its child execution failed to record)
    summary_event, outcomes = event(ok("a"))
    outcomes.append(missing_record(fn("b")))
    # When the run is summarised
    with pytest.raises(PartialFailureError) as caught:
        summarize(summary_event, outcomes)
    # Then the run fails, naming the target whose record is missing
    assert (
        str(caught.value)
        == f"1 of 2 targets failed: {fn('b')}: RunRecordMissing: no run record was written for this target"
    )


def test_a_large_sweep_lists_the_first_outcomes_briefly_and_counts_them_all() -> None:
    # Given a sweep of more targets than the output lists, each with its per-size table
    rows = [{"memorySize": 512, "invocations": 5}]
    outcomes = [{**ok(f"fn-{i:03d}"), "configurations": rows} for i in range(MAX_OUTCOMES_IN_OUTPUT + 7)]
    # When it is summarised
    summary = summarize(*event(*outcomes))
    # Then the counts cover every target, the output lists the first ones without their tables
    assert summary.targets == MAX_OUTCOMES_IN_OUTPUT + 7
    assert summary.counts == {"APPLIED": MAX_OUTCOMES_IN_OUTPUT + 7}
    assert len(summary.outcomes) == MAX_OUTCOMES_IN_OUTPUT and summary.outcomes_omitted == 7
    assert all(outcome.configurations is None for outcome in summary.outcomes)
    # And the run cost still counts every target's measurements
    assert summary.run_cost.counted.target_invocations == 5 * (MAX_OUTCOMES_IN_OUTPUT + 7)


def test_many_failures_are_named_up_to_a_limit_then_counted() -> None:
    # Given more failed targets than the error names
    failures = [failed(f"fn-{i:03d}", "ThrottledError", "rate exceeded") for i in range(MAX_FAILURES_NAMED + 5)]
    # When the run is summarised
    with pytest.raises(PartialFailureError) as caught:
        summarize(*event(*failures))
    # Then the message names the first ones and says how many more, and where to read them all
    message = str(caught.value)
    assert message.startswith(f"{MAX_FAILURES_NAMED + 5} of {MAX_FAILURES_NAMED + 5} targets failed: ")
    assert message.count("ThrottledError") == MAX_FAILURES_NAMED
    assert message.endswith(f"; and 5 more (autotuner runs {EXECUTION['arn']})")


def changed(name: str, per_million: float, *, daily: float | None = None, outcome: str = "APPLIED") -> dict[str, Any]:
    """A target moved from 1024 to 512 MB, saving ``per_million`` dollars per million of its invocations."""
    recommendation = {
        "strategy": "cost",
        "memorySize": 512,
        "currentMemorySize": 1024,
        "meanMs": 20.0,
        "costPerInvocationUsd": 1e-6,
        "projectedChangePerMillionUsd": -per_million,
        "costChangePct": -10.0,
        "summary": "512 MB is cheaper",
    }
    item = {**ok(name, outcome, before=1024, after=512), "recommendation": recommendation}
    return item | ({"dailyInvocations": daily} if daily is not None else {})


def test_savings_are_listed_per_function_and_not_added_up_when_traffic_is_unknown() -> None:
    # Given two functions changed, saving $3 and $1 per million of their own invocations, traffic unknown
    summary = summarize(*event(changed("rare", 3.0), changed("busy", 1.0)))

    # Then each function's savings are listed, largest first, and no total is made up
    assert [(row.target, row.savings_per_million_usd) for row in summary.savings] == [
        (fn("rare"), 3.0),
        (fn("busy"), 1.0),
    ]
    assert summary.projected_savings_per_day_usd is None
    assert "traffic unknown for 2 of 2" in summary.savings_note and "not added up" in summary.savings_note


def test_savings_are_weighted_by_traffic_where_every_functions_traffic_is_known() -> None:
    # Given a rarely called function saving more per million than a busy one
    summary = summarize(*event(changed("rare", 3.0, daily=1_000), changed("busy", 1.0, daily=2_000_000)))

    # Then the total weighs each by its traffic: the busy one dominates ($2.00 + $0.003 a day)
    assert summary.projected_savings_per_day_usd == pytest.approx(2.003)
    # And a month is 730 hours of that day's traffic
    assert summary.projected_savings_per_month_usd == pytest.approx(2.003 * 730 / 24)
    monthly = {row.target: row.savings_per_month_usd for row in summary.savings}
    assert monthly[fn("busy")] == pytest.approx(2.0 * 730 / 24)
    assert summary.savings_note is None
    assert {row.target: row.savings_per_day_usd for row in summary.savings} == {fn("rare"): 0.003, fn("busy"): 2.0}


def test_a_kept_current_size_and_a_dry_run_are_not_counted_as_applied_savings() -> None:
    # Given one dry-run recommendation and one function kept at its size (below minImprovement)
    kept = changed("steady", 0.5)
    kept["recommendation"] |= {"keptCurrent": True, "memorySize": 1024, "projectedChangePerMillionUsd": 0.0}
    kept |= {"outcome": "UNCHANGED", "memoryAfter": 1024}
    summary = summarize(*event(changed("maybe", 2.0, outcome="RECOMMENDED"), kept))

    # Then the recommendation is listed as such, the kept one not at all, and there is no total
    assert [(row.target, row.outcome.value) for row in summary.savings] == [(fn("maybe"), "RECOMMENDED")]
    assert summary.projected_savings_per_day_usd is None and summary.savings_note is None


# --- Power Tuning's names: results.power / cost / duration / stateMachine / stats ---------------


def measured(name: str, chosen: int, sizes: dict[int, tuple[float, float]], excluded: int | None = None):
    """A measured target's outcome: sizes maps MB to (trimmed mean ms, cost per invocation)."""
    rows = [
        {"memorySize": size, "invocations": 4, "meanMs": mean, "costPerInvocationUsd": cost, "billedTotalMs": mean * 4}
        for size, (mean, cost) in sizes.items()
    ]
    if excluded is not None:
        rows.append({"memorySize": excluded, "invocations": 2, "errors": 2, "excluded": "out of memory"})
    recommendation = {
        "strategy": "cost",
        "memorySize": chosen,
        "currentMemorySize": 1024,
        "meanMs": 99.0,
        "costPerInvocationUsd": 9e-6,
        "summary": f"cost: {chosen} MB",
    }
    return {**ok(name, "RECOMMENDED", 1024, chosen), "recommendation": recommendation, "configurations": rows}


def test_a_single_measured_target_has_power_tunings_results() -> None:
    # Given one target measured at three sizes (one excluded), 512 MB chosen
    sizes = {512: (120.5, 1.1e-6), 1024: (80.25, 1.4e-6)}
    summary = summarize(*event(measured("orders", 512, sizes, excluded=128)))
    # Then results names the choice and its row as Power Tuning does, every ranked size in stats
    results = summary.dump()["results"]
    assert (results["power"], results["cost"], results["duration"]) == (512, 1.1e-6, 120.5)
    assert results["stats"] == [
        {"value": 512, "averagePrice": 1.1e-6, "averageDuration": 120.5},
        {"value": 1024, "averagePrice": 1.4e-6, "averageDuration": 80.25},
    ]
    # And stateMachine is the counted run cost
    counted = summary.run_cost.counted
    assert results["stateMachine"] == {
        "executionCost": counted.step_functions_usd,
        "lambdaCost": counted.target_invocations_usd,
    }


def test_no_results_for_a_sweep_or_a_target_that_measured_nothing() -> None:
    sizes = {512: (120.5, 1.1e-6)}
    assert summarize(*event(measured("a", 512, sizes), measured("b", 512, sizes))).results is None
    assert summarize(*event(ok("fixed", "APPLIED", 512, 1024))).results is None


def test_the_translation_is_read_back_from_the_records_numbers_as_written() -> None:
    from decimal import Decimal

    from autotuner_core.run.summary import power_tuning_fields

    # Given the run records as DynamoDB returns them (numbers as Decimal)
    rows = [{"field": "num", "given": Decimal("50"), "ours": {"invocations": Decimal("50")}, "note": "budget"}]
    records = [{"target": fn("a"), "requested": {"powerTuning": rows}}]
    # When the summary reads the translation back
    fields = power_tuning_fields(records)
    # Then the numbers are the JSON ones the input had
    assert [item.dump() for item in fields] == [
        {"field": "num", "given": 50, "ours": {"invocations": 50}, "note": "budget"}
    ]
    assert power_tuning_fields([{"target": fn("a"), "requested": {"targets": ["a"]}}]) is None
    summary = summarize(*event(ok("a")), fields)
    assert summary.dump()["powerTuning"][0]["field"] == "num"
