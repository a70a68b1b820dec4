"""Run history as an operator reads it: `autotuner history` / `autotuner runs` and autotuner.history.

One embedded AWS for the module, with four executions on a demo-style account: a change applied,
a run rejected for its input, a run with a target that does not exist (it fails in
DiscoverResources) and a measured dry run. The history code reads them through a plain boto3 Session, as it would a
deployed stack; the CLI runs in-process, since the embedded AWS lives in this process.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import boto3
import pytest

from autotuner.cli import main
from autotuner.history import (
    HistoryError,
    execution_runs,
    render_runs,
    resolve_stack,
    target_runs,
)
from emulator.account import SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws

ACCOUNT = SimulatedAccount(
    functions=[
        SimulatedFunction(name=name, memory_size=512, timeout=30, tags={"autotune": "enabled"})
        for name in ("orders-api", "billing-api")
    ]
)
FUNCTION_ARN = f"arn:aws:lambda:{ACCOUNT.region}:{ACCOUNT.account_id}:function:"
ORDERS_ARN = FUNCTION_ARN + "orders-api"

APPLY = {"targets": ["orders-api"], "memorySize": 1024, "apply": True}
BAD_INPUT = {"targets": ["orders-api"], "memorySize": 1024, "apply": True, "strategy": "cheapest"}
ONE_MISSING = {"targets": ["billing-api", "nonexistent-function"], "memorySize": 1024, "apply": True}
MEASURE = {"targets": ["orders-api"], "memorySizes": [256, 1024], "invocations": 5, "refine": False}
# orders-api's runs, newest first: the dry run, the rejected input, the change
ORDERS_OUTCOMES = ["RECOMMENDED", "FAILED", "APPLIED"]


class History:
    """The embedded AWS and what ran on it (oldest first)."""

    def __init__(self, aws: EmbeddedAws, runs: dict[str, Any]) -> None:
        self.aws = aws
        self.runs = runs
        assert aws.stack is not None
        self.table = aws.stack.outputs["RunHistoryTableName"]


@pytest.fixture(scope="module")
def history() -> Any:
    with EmbeddedAws(ACCOUNT) as aws:
        runs = {
            "applied": aws.run(APPLY, name="applied"),
            "rejected": aws.run(BAD_INPUT, name="bad-input"),
            "missing": aws.run(ONE_MISSING, name="one-target-missing"),
            "measured": aws.run(MEASURE, name="measured-dry-run"),
        }
        yield History(aws, runs)


def session() -> boto3.Session:
    # The embedded AWS sets the standard AWS_* variables: a default Session is all a caller needs.
    return boto3.Session()


def walk(value: Any) -> Any:
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
    else:
        yield value


# --- the library ----------------------------------------------------------------------------


def test_the_runs_ended_as_the_scenarios_intend(history: History) -> None:
    # Given the four executions
    # Then each ended the way its scenario needs for the history below
    assert {name: report.status for name, report in history.runs.items()} == {
        "applied": "SUCCEEDED",
        "rejected": "FAILED",
        "missing": "FAILED",
        "measured": "SUCCEEDED",
    }
    # (the "missing" run has two targets, one missing: a partial failure)
    assert (history.runs["rejected"].error, history.runs["missing"].error) == (
        "InvalidInputError",
        "PartialFailureError",
    )


def test_target_runs_are_a_functions_runs_newest_first_as_plain_values(history: History) -> None:
    # When the history of orders-api is read by its bare name
    records = target_runs(session(), history.table, "orders-api")
    # Then every run of it is there, newest first, with its outcome
    assert [record["executionArn"] for record in records] == [
        history.runs[name].execution_arn for name in ("measured", "rejected", "applied")
    ]
    assert [record["outcome"] for record in records] == ORDERS_OUTCOMES
    assert {record["target"] for record in records} == {ORDERS_ARN}
    assert (records[1]["errorType"], records[1]["failedStage"]) == ("InvalidInputError", "ValidatePermissions")
    # And the values are plain Python: numbers are int/float, never Decimal, and JSON takes them as they are
    assert not any(isinstance(value, Decimal) for value in walk(records))
    applied = records[-1]
    assert (applied["before"]["MemorySize"], applied["after"]["MemorySize"]) == (512, 1024)
    assert type(applied["before"]["MemorySize"]) is int
    json.dumps(records)


def test_limit_keeps_the_newest_runs(history: History) -> None:
    # When only the two latest runs are asked for
    records = target_runs(session(), history.table, "orders-api", limit=2)
    # Then the two newest come back
    assert [record["outcome"] for record in records] == ORDERS_OUTCOMES[:2]


def test_target_runs_follow_pages_until_the_limit(history: History) -> None:
    # Given a session whose Query pages hold one item each (as a large table's 1 MB pages would)
    paged = session()

    def one_item_pages(params: dict[str, Any], **_: Any) -> None:
        params["Limit"] = 1

    paged.events.register("before-parameter-build.dynamodb.Query", one_item_pages)
    # When history is read with and without a limit
    everything = target_runs(paged, history.table, "orders-api")
    two = target_runs(paged, history.table, "orders-api", limit=2)
    # Then the pages are followed, in order, and stop at the limit
    assert [record["outcome"] for record in everything] == ORDERS_OUTCOMES
    assert [record["outcome"] for record in two] == ORDERS_OUTCOMES[:2]


@pytest.mark.parametrize(
    "function",
    [ORDERS_ARN, f"{ORDERS_ARN}:$LATEST", f"{ACCOUNT.account_id}:function:orders-api", "orders-api:live"],
)
def test_a_function_may_be_named_as_the_tuner_input_names_it(history: History, function: str) -> None:
    # When the function is given as an ARN, a qualified ARN, a partial ARN or a qualified name
    records = target_runs(session(), history.table, function, region=ACCOUNT.region)
    # Then its records are found under its function ARN
    assert [record["outcome"] for record in records] == ORDERS_OUTCOMES


def test_execution_runs_are_exactly_the_records_of_one_execution(history: History) -> None:
    # Given the run with two targets, one of which does not exist
    failed = history.runs["missing"]
    # When its records are read through the byExecution index
    records = execution_runs(session(), history.table, failed.execution_arn)
    # Then there is one per target, by target, both of this execution
    assert [record["target"] for record in records] == [
        FUNCTION_ARN + "billing-api",
        FUNCTION_ARN + "nonexistent-function",
    ]
    assert {record["executionArn"] for record in records} == {failed.execution_arn}
    # And the missing one failed in DiscoverResources
    missing = records[1]
    assert (missing["outcome"], missing["errorType"], missing["failedStage"]) == (
        "FAILED",
        "FunctionNotFoundError",
        "DiscoverResources",
    )
    # And they are the records the execution reported writing
    assert records == sorted(failed.records, key=lambda r: r["target"])


def test_the_stack_is_found_by_name_through_describe_stacks(history: History) -> None:
    # When the stack is resolved by name, as against a deployed stack
    outputs = resolve_stack(session(), ACCOUNT.stack_name)
    # Then CloudFormation answers with the deployed stack's outputs, the table among them
    assert history.aws.stack is not None
    assert outputs == history.aws.stack.outputs
    assert outputs["RunHistoryTableName"] == history.table


def test_an_unknown_stack_is_named_in_the_error(history: History) -> None:
    with pytest.raises(HistoryError, match="stack 'no-such-stack' does not exist in us-east-1"):
        resolve_stack(session(), "no-such-stack")


def test_render_runs_shows_one_line_per_run(history: History) -> None:
    # Given the function's records
    records = target_runs(session(), history.table, "orders-api")
    # When they are rendered
    lines = render_runs(records, title="orders-api").splitlines()
    # Then there is a title, a header, a rule and one line per run with what an operator needs
    assert lines[0] == "orders-api"
    assert lines[1].split() == [
        "started",
        "(UTC)",
        "execution",
        "target",
        "outcome",
        "memory",
        "MB",
        "saving",
        "result",
        "time",
    ]
    measured, rejected, applied = lines[3:6]
    recommended = next(r for r in records if r["executionArn"].endswith(":measured-dry-run"))["recommendation"]
    assert "measured-dry-run" in measured and "RECOMMENDED" in measured
    assert f"cost: {recommended['memorySize']} MB" in measured
    assert "bad-input" in rejected and "InvalidInputError (input) in ValidatePermissions" in rejected
    assert "failed after" in rejected
    assert "applied" in applied and "512 → 1024" in applied and "orders-api" in applied
    # And the measured decision's saving: this account's functions had no traffic, so a month's dollars are $0
    # (what the change is worth per million is in the record and in `runs`)
    assert re.search(r"RECOMMENDED +\d+ → \d+ +\$0\.00/month \(idle; -?\$[\d.]+/1M\) ", measured), measured
    # And below the table, each error in full: the rejected input's field and what was wrong with it
    errors = lines[lines.index("errors:") + 1 :]
    text = " ".join(line.strip() for line in errors)
    assert "orders-api: InvalidInputError: invalid execution input (1 problem): strategy: Input should be" in text
    assert "'cheapest'" in text
    assert render_runs([], title="nothing").splitlines() == ["nothing", "(no run records)"]


# --- the CLI ----------------------------------------------------------------------------------


def test_history_command_prints_the_table_found_through_the_stack(history: History, capsys: Any) -> None:
    # When the operator asks for the latest two runs (the stack is found by its default name)
    code = main(["history", "orders-api", "--limit", "2"])
    out = capsys.readouterr().out
    # Then it prints the table of those runs, newest first, and exits 0
    assert code == 0
    assert history.table in out.splitlines()[0]
    rows = out.splitlines()[3:5]
    assert [row.split()[4] for row in rows] == ORDERS_OUTCOMES[:2]
    # And the rejected run's error follows the table, with its message
    assert "errors:" in out.splitlines()[5:] and "InvalidInputError: invalid execution input" in out


def test_history_json_is_the_records(history: History, capsys: Any) -> None:
    # When the same is asked with --json, naming the table directly
    code = main(["history", ORDERS_ARN, "--table", history.table, "--json"])
    records = json.loads(capsys.readouterr().out)
    # Then stdout is the records as JSON
    assert code == 0
    assert [record["outcome"] for record in records] == ORDERS_OUTCOMES


def test_runs_command_prints_the_records_and_each_measured_targets_table(history: History, capsys: Any) -> None:
    # When the operator reads the measured run
    code = main(["runs", history.runs["measured"].execution_arn, "--stack", ACCOUNT.stack_name])
    out = capsys.readouterr().out
    # Then it prints its record and the configuration table of what was measured
    assert code == 0
    assert "measured-dry-run" in out and "RECOMMENDED" in out
    assert "trimmed mean ms" in out
    assert any(line.lstrip().startswith("256 ") for line in out.splitlines())
    assert any(line.lstrip().startswith("1024 ") for line in out.splitlines())


def test_runs_json_is_the_records_of_the_execution(history: History, capsys: Any) -> None:
    # When the run with the missing target is read with --json
    failed = history.runs["missing"]
    code = main(["runs", failed.execution_arn, "--json"])
    records = json.loads(capsys.readouterr().out)
    # Then stdout is its two records
    assert code == 0
    assert [record["target"] for record in records] == [
        FUNCTION_ARN + "billing-api",
        FUNCTION_ARN + "nonexistent-function",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["history", "orders-api", "--stack", "no-such-stack"], "stack 'no-such-stack' does not exist"),
        (["history", "ghost-function"], f"no runs recorded for {FUNCTION_ARN}ghost-function"),
        (["history", "not a function!"], "'not a function!' is not a Lambda function name, partial ARN or ARN"),
        (["history", "orders-api", "--table", "no-such-table"], "table 'no-such-table' does not exist in us-east-1"),
        (["runs", "not-an-arn"], "'not-an-arn' is not a Step Functions execution ARN"),
        (
            ["runs", "arn:aws:states:us-east-1:123456789012:execution:TunerStateMachine:never-ran"],
            "no run records for arn:aws:states:us-east-1:123456789012:execution:TunerStateMachine:never-ran",
        ),
    ],
)
def test_errors_exit_1_with_a_clear_message(history: History, capsys: Any, argv: list[str], message: str) -> None:
    # When the command is asked for something that is not there
    code = main(argv)
    captured = capsys.readouterr()
    # Then it exits 1 with one line on stderr saying what, and no traceback
    assert code == 1
    assert captured.out == ""
    assert captured.err.startswith("autotuner: ")
    assert message in captured.err
    assert "Traceback" not in captured.err
