"""An execution's history and its Distributed Map runs' child executions, as Step Functions keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from run_history.errors import aws_step

__all__ = [
    "RunHistories",
    "describe_map_run",
    "execution_history",
    "map_run_executions",
    "map_runs",
    "run_histories",
]


def _pages(sfn: Any, operation: str, action: str, resource: str, key: str, **request: Any) -> list[dict[str, Any]]:
    """Every item of a paged Step Functions listing (boto3's paginator follows nextToken)."""
    items: list[dict[str, Any]] = []
    with aws_step(action, resource):
        for page in sfn.get_paginator(operation).paginate(**request):
            items.extend(page.get(key, []))
    return items


def execution_history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    """GetExecutionHistory, every page: the execution's events, oldest first."""
    return _pages(
        sfn,
        "get_execution_history",
        "states:GetExecutionHistory",
        f"execution {execution_arn}",
        "events",
        executionArn=execution_arn,
    )


def map_runs(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    """ListMapRuns: the Distributed Map runs an execution started."""
    return _pages(
        sfn, "list_map_runs", "states:ListMapRuns", f"execution {execution_arn}", "mapRuns", executionArn=execution_arn
    )


def map_run_executions(sfn: Any, map_run_arn: str) -> list[dict[str, Any]]:
    """ListExecutions with mapRunArn: a map run's child executions, oldest first."""
    children = _pages(
        sfn, "list_executions", "states:ListExecutions", f"map run {map_run_arn}", "executions", mapRunArn=map_run_arn
    )
    return sorted(children, key=lambda child: child["startDate"])


def describe_map_run(sfn: Any, map_run_arn: str) -> dict[str, Any]:
    """DescribeMapRun, as boto3 returns it: status, itemCounts and executionCounts."""
    with aws_step("states:DescribeMapRun", f"map run {map_run_arn}"):
        return sfn.describe_map_run(mapRunArn=map_run_arn)


@dataclass(frozen=True)
class RunHistories:
    """An execution's history and, for each map run it started, its child executions' histories."""

    parent: list[dict[str, Any]]
    map_runs: dict[str, list[str]]  # map run ARN -> its children's execution ARNs, oldest first
    children: dict[str, list[dict[str, Any]]]  # child execution ARN -> its history


def run_histories(sfn: Any, execution_arn: str) -> RunHistories:
    """The whole run as Step Functions keeps it: the parent's history, then every child's.

    A Distributed Map's items are executions of their own: found through ListMapRuns, then
    ListExecutions with each map run's ARN, and read with GetExecutionHistory.
    """
    parent = execution_history(sfn, execution_arn)
    runs: dict[str, list[str]] = {}
    children: dict[str, list[dict[str, Any]]] = {}
    for run in map_runs(sfn, execution_arn):
        arns = [child["executionArn"] for child in map_run_executions(sfn, run["mapRunArn"])]
        runs[run["mapRunArn"]] = arns
        for arn in arns:
            children[arn] = execution_history(sfn, arn)
    return RunHistories(parent, runs, children)
