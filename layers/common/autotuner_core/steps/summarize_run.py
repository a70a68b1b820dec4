"""SummarizeRun: counts by outcome from the run records; fails the run when any target failed.

It writes the run's HTML report to the sweep bucket and puts a presigned link to it in the output
(report/store.py).

It also sweeps orphaned shadow copies (shadow_cleanup.py): it runs once per run, after every
target's clean-up, on success and failure paths alike, so one tag query per run finds what crashed
runs left, and this run's own shadows whose clean-up failed. It does not depend on ShadowRoleArns:
emptying it stops new shadows, not the removal of old ones.
"""

from __future__ import annotations

from autotuner_core.documents.outcome import RunSummary, SummarizeEvent
from autotuner_core.measuring.shadow_cleanup import sweep_orphans
from autotuner_core.observability import logger
from autotuner_core.report.store import publish_report
from autotuner_core.run.records import outcome_of, read_records
from autotuner_core.run.summary import missing_record, power_tuning_fields, run_status, summarize
from autotuner_core.run.target_list import load_targets
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import step


@step(SummarizeEvent)
def run(summary_event: SummarizeEvent, clients: Clients, settings: Settings) -> RunSummary:
    execution = summary_event.execution.arn
    state_machine = execution.replace(":execution:", ":stateMachine:", 1).rsplit(":", 1)[0]
    # Whatever ShadowRoleArns says now: a deployment that allowed shadows once may have left some.
    swept = sweep_orphans(
        clients.tagging,
        clients.lambda_,
        clients.logs,
        clients.stepfunctions,
        clients.s3,
        settings,
        state_machine_arn=state_machine,
        finished_execution=execution,
    )
    if swept.found:
        logger.info("orphaned shadows swept", extra={"found": swept.found, "deleted": swept.deleted})
    targets = [target.arn for target in load_targets(clients.s3, summary_event.target_list)]
    records = read_records(clients.dynamodb, settings.run_history_table, summary_event.execution, targets)
    outcomes = [outcome_of(records[arn]) if arn in records else missing_record(arn) for arn in targets]
    if len(records) < len(targets):
        logger.error("run records missing", extra={"missing": len(targets) - len(records)})
    # The report is written before summarize, which raises for a failed run: its message then names the report.
    report, warnings = publish_report(
        clients.s3,
        settings.sweep_bucket,
        summary_event.execution,
        run_status(outcomes),
        outcomes,
        expiry_seconds=settings.report_link_expiry_seconds,
        estimated_cost=summary_event.estimated_cost,
    )
    for warning in warnings:
        logger.warning(warning)
    return summarize(
        summary_event, outcomes, power_tuning_fields(list(records.values())), report=report, warnings=warnings
    )
