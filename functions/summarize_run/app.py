"""SummarizeRun: counts by outcome from the run records; fails the run when any target failed.

It writes the run's HTML report to the sweep bucket and puts a presigned link to it in the output
(report_store.py).

It also sweeps orphaned shadow copies (shadow.py): it runs once per run, after every target's
clean-up, on success and failure paths alike, so one tag query per run finds what crashed runs left.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autotuner_core.aws.clients import aws_client
from autotuner_core.documents.base import parse_event
from autotuner_core.documents.outcome import SummarizeEvent
from autotuner_core.measuring.shadow import SweepReport, role_patterns, sweep_orphans
from autotuner_core.observability import bind_execution, logger, tracer
from autotuner_core.report.store import publish_report
from autotuner_core.run.records import outcome_of, read_records
from autotuner_core.run.summary import missing_record, power_tuning_fields, run_status, summarize
from autotuner_core.run.target_list import load_targets
from autotuner_core.settings import Settings

SETTINGS = Settings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    summary_event = parse_event(SummarizeEvent, event)
    bind_execution(summary_event.execution.arn)
    execution = summary_event.execution.arn
    state_machine = execution.replace(":execution:", ":stateMachine:", 1).rsplit(":", 1)[0]
    # Only a deployment that allows shadows (ShadowRoleArns) makes any to sweep.
    swept = SweepReport()
    if role_patterns(SETTINGS):
        swept = sweep_orphans(
            aws_client("resourcegroupstaggingapi"),
            aws_client("lambda"),
            aws_client("stepfunctions"),
            aws_client("s3"),
            SETTINGS,
            state_machine_arn=state_machine,
        )
    if swept.found:
        logger.info("orphaned shadows swept", extra={"found": swept.found, "deleted": swept.deleted})
    targets = [target.arn for target in load_targets(aws_client("s3"), summary_event.target_list)]
    records = read_records(aws_client("dynamodb"), SETTINGS.run_history_table, summary_event.execution, targets)
    outcomes = [outcome_of(records[arn]) if arn in records else missing_record(arn) for arn in targets]
    if len(records) < len(targets):
        logger.error("run records missing", extra={"missing": len(targets) - len(records)})
    # The report is written before summarize, which raises for a failed run: its message then names the report.
    report, warnings = publish_report(
        aws_client("s3"),
        SETTINGS.sweep_bucket,
        summary_event.execution,
        run_status(outcomes),
        outcomes,
        expiry_seconds=SETTINGS.report_link_expiry_seconds,
        estimated_cost=summary_event.estimated_cost,
    )
    for warning in warnings:
        logger.warning(warning)
    return summarize(
        summary_event, outcomes, power_tuning_fields(list(records.values())), report=report, warnings=warnings
    ).dump()
