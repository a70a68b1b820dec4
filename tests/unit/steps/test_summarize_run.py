"""SummarizeRun's handler: the run's outcome from its records, and its HTML report in the sweep bucket."""

from __future__ import annotations

from typing import Any

import pytest

from autotuner_core.policy.errors import FunctionNotFoundError, PartialFailureError
from autotuner_core.steps import record_result, summarize_run, update_configuration, validate_permissions

from .conftest import BUCKET, discovered, execution, failed, map_entries, summarize_input

REPORT = "reports/run-1/report.html"


def _validated(run_step, *targets: str) -> dict[str, Any]:
    """A dry run of a fixed 512 MB for these targets, through pre-flight."""
    return run_step(
        validate_permissions.run, {"execution": execution(), "input": {"targets": list(targets), "memorySize": 512}}
    )


def _recorded(run_step, entry: dict[str, Any]) -> None:
    """The entry's target discovered, its dry run's result reported and recorded."""
    run_step(record_result.run, run_step(update_configuration.run, discovered(run_step, entry)))


def _report(aws) -> str:
    return aws("s3").get_object(Bucket=BUCKET, Key=REPORT)["Body"].read().decode()


def test_a_run_whose_targets_all_have_a_result_succeeds_with_its_report(run_step, deployed, aws, roles, target) -> None:
    # Given a run of one target, recommended 512 MB and recorded
    validated = _validated(run_step, "orders")
    [entry] = map_entries(aws, validated)
    _recorded(run_step, entry)
    # When the deployed SummarizeRun runs
    summary = deployed("summarize_run", summarize_input(validated))
    # Then the run succeeded, with the target's outcome counted and listed
    assert (summary["status"], summary["targets"], summary["counts"]) == ("SUCCEEDED", 1, {"RECOMMENDED": 1})
    [outcome] = summary["outcomes"]
    assert (outcome["target"], outcome["memoryBefore"], outcome["memoryAfter"]) == (target, 1024, 512)
    # And its cost is reported beside pre-flight's estimate
    assert summary["runCost"]["estimated"] == validated["estimatedCost"]
    assert summary["runCost"]["counted"]["tunerInvocations"] > 0
    # And the HTML report is in the sweep bucket, named in the output, and it names the target
    assert summary["report"]["s3Uri"] == f"s3://{BUCKET}/{REPORT}"
    assert REPORT in summary["report"]["url"]
    assert "orders" in _report(aws)


def test_a_target_without_a_record_fails_the_run(run_step, aws, roles, target) -> None:
    # Given a run of two targets, only one of which was recorded
    validated = _validated(run_step, "orders", "payments")
    recorded, missing = map_entries(aws, validated)
    _recorded(run_step, recorded)
    # When SummarizeRun runs, then the run fails naming the target without a record, and the report
    named = rf"1 of 2 targets failed: {missing['ref']['arn']}: .*report: s3://{BUCKET}/{REPORT}"
    with pytest.raises(PartialFailureError, match=named):
        run_step(summarize_run.run, summarize_input(validated))
    # And the report was written all the same
    assert "payments" in _report(aws)


def test_a_run_of_one_failed_target_fails_with_that_target_s_error(run_step, aws, roles) -> None:
    # Given a run of one target whose discovery found no function, recorded on the failure path
    validated = _validated(run_step, "gone")
    [entry] = map_entries(aws, validated)
    arn = entry["ref"]["arn"]
    run_step(record_result.run, failed({**entry, "admission": "NORMAL"}, "FunctionNotFoundError", f"{arn} is gone"))
    # When SummarizeRun runs, then the run fails with the target's own error class and message
    with pytest.raises(FunctionNotFoundError, match=f"{arn}: {arn} is gone"):
        run_step(summarize_run.run, summarize_input(validated))
