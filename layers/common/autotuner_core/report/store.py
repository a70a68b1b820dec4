"""The run's HTML report, written by SummarizeRun to the sweep bucket with a presigned link to it.

A console user of the state machine gets the chart without the CLI: the execution's output
carries ``report.s3Uri`` and ``report.url``. The page is report_html's with report_svg's charts:
self-contained, no script, nothing fetched from elsewhere.

The link is signed with the function's own (temporary) credentials, so it works until
``urlExpiresAt`` at the latest and stops earlier if that Lambda session ends first; the object
itself stays for the bucket's retention and can be presigned again by anyone allowed to read it.
Writing the report is not part of the tuning: a failure leaves the run's result as it is and is
named in ``warnings`` (summary.py), because the records are already written and a tuning that
applied a change must not report FAILED for want of a web page.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from autotuner_core.aws.calls import aws_call
from autotuner_core.documents.cost import RunCost
from autotuner_core.documents.outcome import ReportLink, TargetOutcome
from autotuner_core.documents.target import ExecutionRef
from autotuner_core.policy.errors import AutotunerError
from autotuner_core.report.html import html_page
from autotuner_core.report.plain import (
    REPORT_TITLE,
    configurations_of,
    report_outcomes,
    report_subtitle,
)
from autotuner_core.report.svg import svg_chart
from autotuner_core.run.target_list import report_key

# A sweep's report charts this many targets (an SVG is ~10 KB); the run records hold all of them.
MAX_REPORTED_TARGETS = 100


def render_report(
    execution: ExecutionRef, status: str, outcomes: list[TargetOutcome], estimated_cost: RunCost | None = None
) -> str:
    """The whole page for one execution: an overview, then per target its summary, chart and table."""
    listed = outcomes[:MAX_REPORTED_TARGETS]
    run = {
        "execution": execution.dump(),
        "status": status,
        "outcomes": [outcome.dump() for outcome in listed],
        "runCost": {"estimated": estimated_cost.dump()} if estimated_cost is not None else {},
    }
    page_outcomes = report_outcomes(run)
    charts: dict[int, bytes | str] = {
        index: svg_chart(outcome) for index, outcome in enumerate(page_outcomes, start=1) if configurations_of(outcome)
    }
    subtitle = report_subtitle(run)
    if len(outcomes) > len(listed):
        subtitle += f" · the first {len(listed)} of {len(outcomes)} targets (autotuner runs {execution.arn})"
    return html_page(page_outcomes, charts, REPORT_TITLE, subtitle)


def store_report(s3: Any, bucket: str, execution: ExecutionRef, page: str, *, expiry_seconds: int) -> ReportLink:
    """Put the page at ``reports/<execution name>/report.html`` and presign a GET of it."""
    key = report_key(execution.name)
    uri = f"s3://{bucket}/{key}"
    with aws_call("s3:PutObject", uri):
        s3.put_object(Bucket=bucket, Key=key, Body=page.encode("utf-8"), ContentType="text/html; charset=utf-8")
    signed_at = datetime.now().astimezone()
    # Presigning is local (no request); S3 authorises the GET as this function's role when it is used.
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expiry_seconds, HttpMethod="GET"
    )
    expires = (signed_at + timedelta(seconds=expiry_seconds)).isoformat(timespec="seconds")
    return ReportLink(s3_uri=uri, url=url, url_expires_at=expires)


def publish_report(
    s3: Any,
    bucket: str,
    execution: ExecutionRef,
    status: str,
    outcomes: list[TargetOutcome],
    *,
    expiry_seconds: int,
    estimated_cost: RunCost | None = None,
) -> tuple[ReportLink | None, list[str]]:
    """Render and store the report; on failure no link and a warning saying why (the run goes on)."""
    if not bucket:
        return None, ["report not written: SWEEP_BUCKET is empty (the template passes the sweep bucket's name)"]
    try:
        page = render_report(execution, status, outcomes, estimated_cost)
    except Exception as error:
        # Deliberately broad: rendering is our own code on records already written, so anything it
        # raises is a defect of the page, not of the run. It must not turn a finished tuning into a
        # failed run (nor be retried): logged with its traceback and named in the output's warnings.
        # (Imported here: Powertools' objects belong to the environment of the function that logs.)
        from autotuner_core.observability import logger

        logger.exception("run report not rendered")
        return None, [f"report not rendered: {type(error).__name__}: {error}"]
    try:
        return store_report(s3, bucket, execution, page, expiry_seconds=expiry_seconds), []
    except AutotunerError as error:
        # Denied, throttled past the SDK's retries, or unavailable: the run's result stands.
        where = f"s3://{bucket}/{report_key(execution.name)}"
        return None, [f"report not written to {where}: {type(error).__name__}: {error}"]
