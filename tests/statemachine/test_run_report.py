"""The run's HTML report, written by SummarizeRun to the sweep bucket and linked from the output.

Executed on the embedded AWS (IAM enforced on every call): the link is a presigned GET of the
object, the object is a self-contained page with the chart and the decision, and a report that
cannot be written leaves the run's result alone with a warning.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests

from emulator.account import Fault, FunctionProfile, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws

TAGS = {"autotune": "enabled"}


def report_key(execution_name: str) -> str:
    """Where the docs say a run's report is (not imported from the layer: importing it here would
    create the functions' Powertools objects outside their environment)."""
    return f"reports/{execution_name}/report.html"


def account(**parameters: str) -> SimulatedAccount:
    return SimulatedAccount(
        parameters={**SimulatedAccount().parameters, **parameters},
        functions=[
            SimulatedFunction(
                name="report-builder",
                memory_size=2048,
                timeout=120,
                architecture="arm64",
                tags=TAGS,
                profile=FunctionProfile(preset="memory-hungry", seed=3),
            )
        ],
    )


INPUT = {"targets": ["report-builder"], "memorySizes": [128, 512, 1024, 1536, 2048, 3008], "invocations": 5}


def test_a_run_writes_its_html_report_to_the_sweep_bucket_and_links_it_from_the_output():
    # Given a deployment whose report links last 15 minutes
    with EmbeddedAws(account(ReportLinkExpirySeconds="900")) as aws:
        # When a dry run tunes one function
        report = aws.run(INPUT)
        bucket = aws.stack.outputs["SweepBucketName"]
        execution_name = report.execution_arn.rsplit(":", 1)[-1]
        link = report.output["report"]
        # Then the output names the object and a presigned GET of it
        assert report.status == "SUCCEEDED"
        assert link["s3Uri"] == f"s3://{bucket}/{report_key(execution_name)}"
        url = urlsplit(link["url"])
        query = parse_qs(url.query)
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
        assert query["X-Amz-Expires"] == ["900"]
        assert url.path.lstrip("/").removeprefix(f"{bucket}/") == report_key(execution_name)
        assert report.output.get("warnings", []) == []
        # And the object exists, served as HTML
        s3 = aws.client("s3")
        key = report_key(execution_name)
        assert s3.head_object(Bucket=bucket, Key=key)["ContentType"].startswith("text/html")
        # And fetching the link gives the page
        response = requests.get(link["url"], timeout=30)
        assert response.status_code == 200
        page = response.text
        assert page == s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        # And S3 would authorise the link's GET: it runs as SummarizeRun's role, which may read the report
        role = aws.principal_roles()["SummarizeRunFunction"]
        simulated = aws.client("iam").simulate_principal_policy(
            PolicySourceArn=role, ActionNames=["s3:GetObject"], ResourceArns=[f"arn:aws:s3:::{bucket}/{key}"]
        )
        assert [result["EvalDecision"] for result in simulated["EvaluationResults"]] == ["allowed"]
    # And the page has the chart (inline SVG) and the decision, and loads nothing from elsewhere
    (outcome,) = report.output["outcomes"]
    chosen = outcome["recommendation"]["memorySize"]
    assert page.count("<svg") == 1
    assert f"chosen {chosen} MB" in page or f"current = chosen {chosen} MB" in page
    assert outcome["recommendation"]["summary"].split(":")[0] in page
    assert "RECOMMENDED" in page and "report-builder" in page
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_a_report_that_cannot_be_written_leaves_the_run_succeeded_with_a_warning():
    # Given S3 refusing every report upload (after pre-flight, which proved the permission)
    unavailable = Fault(
        service="s3", action="PutObject", code="ServiceUnavailable", status=503, times=50, caller="SummarizeRunFunction"
    )
    broken = account().model_copy(update={"faults": [unavailable]})
    with EmbeddedAws(broken) as aws:
        # When a dry run tunes the function
        report = aws.run(INPUT)
    # Then the run succeeds with its recommendation and its record, no link, and a warning saying why
    assert report.status == "SUCCEEDED"
    assert report.output["outcomes"][0]["outcome"] == "RECOMMENDED"
    assert len(report.records) == 1
    assert "report" not in report.output
    (warning,) = report.output["warnings"]
    assert warning.startswith("report not written to s3://") and "ServiceUnavailable" in warning


def test_a_failed_runs_error_names_its_report():
    # Given a target that does not exist
    with EmbeddedAws(account()) as aws:
        # When a run names it
        report = aws.run({"targets": ["no-such-function"], "invocations": 5})
        bucket = aws.stack.outputs["SweepBucketName"]
        key = report_key(report.execution_arn.rsplit(":", 1)[-1])
        page = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    # Then the run fails, its error names the report, and the report says what failed
    assert report.status == "FAILED"
    assert f"(report: s3://{bucket}/{key})" in report.cause
    assert "FAILED" in page and "no-such-function" in page
