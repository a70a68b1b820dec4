"""SummarizeRun's handler: the run's outcome from its records, and its HTML report in the sweep bucket."""

from __future__ import annotations

import json
from typing import Any

import pytest

from autotuner_core.policy.errors import FunctionNotFoundError, PartialFailureError
from autotuner_core.steps import record_result, summarize_run, update_configuration

from .conftest import BUCKET, discovered, entry, execution, failed

TARGET_LIST = "runs/run-1/targets.json"
REPORT = "reports/run-1/report.html"


def _summarize_event(aws, *function_arns: str) -> dict[str, Any]:
    """Summarize's input, as its Task state builds it; the target list as ValidatePermissions stored it."""
    refs = [{"given": arn, "name": arn.rsplit(":", 1)[-1], "arn": arn} for arn in function_arns]
    aws("s3").put_object(Bucket=BUCKET, Key=TARGET_LIST, Body=json.dumps(refs).encode())
    return {"execution": execution(workers=1), "targetList": {"bucket": BUCKET, "key": TARGET_LIST}}


def _report(aws) -> str:
    return aws("s3").get_object(Bucket=BUCKET, Key=REPORT)["Body"].read().decode()


def test_a_run_whose_targets_all_have_a_result_succeeds_with_its_report(run_step, deployed, aws, target) -> None:
    # Given a run of one target, recommended 512 MB (a dry run of a fixed size) and recorded
    run_step(record_result.run, run_step(update_configuration.run, discovered(run_step, entry(target, memorySize=512))))
    # When the deployed SummarizeRun runs
    summary = deployed("summarize_run", _summarize_event(aws, target))
    # Then the run succeeded, with the target's outcome counted and listed
    assert (summary["status"], summary["targets"], summary["counts"]) == ("SUCCEEDED", 1, {"RECOMMENDED": 1})
    [outcome] = summary["outcomes"]
    assert (outcome["target"], outcome["memoryBefore"], outcome["memoryAfter"]) == (target, 1024, 512)
    # And the HTML report is in the sweep bucket, named in the output, and it names the target
    assert summary["report"]["s3Uri"] == f"s3://{BUCKET}/{REPORT}"
    assert REPORT in summary["report"]["url"]
    assert "orders" in _report(aws)


def test_a_target_without_a_record_fails_the_run(run_step, aws, target) -> None:
    # Given a run of two targets, only one of which was recorded
    run_step(record_result.run, run_step(update_configuration.run, discovered(run_step, entry(target, memorySize=512))))
    missing = target.replace(":orders", ":payments")
    # When SummarizeRun runs, then the run fails naming the target without a record, and the report
    with pytest.raises(PartialFailureError, match=rf"1 of 2 targets failed: {missing}.*report: s3://{BUCKET}/{REPORT}"):
        run_step(summarize_run.run, _summarize_event(aws, target, missing))
    # And the report was written all the same
    assert "payments" in _report(aws)


def test_a_run_of_one_failed_target_fails_with_that_target_s_error(run_step, aws, target) -> None:
    # Given a run of one target whose discovery found no function, recorded on the failure path
    missing = target.replace(":orders", ":gone")
    event = failed(entry(missing, memorySize=512), "FunctionNotFoundError", f"{missing} does not exist")
    event["admission"] = "NORMAL"
    run_step(record_result.run, event)
    # When SummarizeRun runs, then the run fails with the target's own error class and message
    with pytest.raises(FunctionNotFoundError, match=f"{missing}: {missing} does not exist"):
        run_step(summarize_run.run, _summarize_event(aws, missing))
