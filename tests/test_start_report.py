"""Starting an execution and reporting on it: `autotuner start` / `autotuner report` and autotuner.runs.

One embedded AWS for the module. The CLI runs in-process (the embedded AWS lives in this process)
and finds the state machine and the run-history table through the stack's outputs, as it would
for a deployed stack. Progress is polled every 0.05 s instead of AWS's 1 s.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from autotuner.cli import main
from autotuner.embedded.account import SimulatedAccount, SimulatedFunction
from autotuner.embedded.cloud import EmbeddedAws
from autotuner.runs import ExecutionFollower, ProgressLog, StateEntered

ACCOUNT = SimulatedAccount(
    functions=[
        SimulatedFunction(
            name=name, memory_size=512, timeout=30, tags={"autotune": "enabled"}, profile={"preset": "light"}
        )
        for name in ("orders-api", "billing-api")
    ]
)
STACK = ACCOUNT.stack_name
POLL = ["--poll-interval", "0.05"]

APPLY_FIXED = {"targets": ["orders-api"], "memorySize": 1024, "apply": True}
MISSING = {"targets": ["ghost-function"], "memorySize": 1024, "apply": True}
MEASURE = {"targets": ["orders-api"], "invocations": 5, "memorySizes": [256, 512, 1024], "refine": False}


@pytest.fixture(scope="module")
def aws() -> Any:
    with EmbeddedAws(ACCOUNT) as embedded:
        yield embedded


@pytest.fixture(scope="module")
def measured(aws: EmbeddedAws) -> str:
    """A measured dry run of orders-api; its execution ARN."""
    report = aws.run(MEASURE, name="measured-run")
    assert report.status == "SUCCEEDED"
    return report.execution_arn


def input_file(tmp_path: Path, execution_input: Any) -> str:
    path = tmp_path / "input.json"
    path.write_text(json.dumps(execution_input))
    return str(path)


def calls(aws: EmbeddedAws) -> list[str]:
    return [record.call for record in aws.interceptor.log.calls]


def execution_arn(aws: EmbeddedAws, name: str) -> str:
    assert aws.stack is not None
    return aws.stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"


# --- start ---------------------------------------------------------------------------------


def test_start_wait_applies_a_fixed_size_and_prints_progress_summary_and_table(
    aws: EmbeddedAws, tmp_path: Path, capsys: Any
) -> None:
    # Given an input that applies a fixed memory size to orders-api
    path = input_file(tmp_path, APPLY_FIXED)
    # When it is started and followed to its end
    code = main(["start", "--stack", STACK, "--input", path, "--name", "fixed-apply", "--wait", *POLL])
    out = capsys.readouterr().out
    lines = out.splitlines()
    # Then it exits 0 after printing the execution ARN first
    assert code == 0
    assert lines[0] == execution_arn(aws, "fixed-apply")
    # And one progress line per state entered, in order, with the Map around the per-target states
    progress = [line.split("  ")[-1] for line in lines[1 : lines.index("")]]
    assert progress == [
        "Prepare",
        "ValidatePermissions",
        "AnyTargets",
        "TuneTargets",
        "TuneTargets/CheckCircuit",
        "TuneTargets/DiscoverResources",
        "TuneTargets/Plan",
        "TuneTargets/UpdateConfiguration",
        "TuneTargets/RecordTargetResult",
        "Summarize",
    ]
    assert all(re.match(r"^ +\d+\.\d s  ", line) for line in lines[1 : lines.index("")])
    # And the summary and the per-target table
    assert "status     SUCCEEDED after " in out
    assert "outcomes   APPLIED 1" in out
    assert "run cost   10 state transitions" in out
    row = next(line for line in lines if line.startswith("20") and "fixed-apply" in line)
    assert re.search(r"orders-api\s+APPLIED\s+512 → 1024", row)
    # And the function was changed
    assert aws.function_configuration("orders-api")["MemorySize"] == 1024


def test_start_wait_on_a_missing_function_exits_1_with_the_error_and_the_failed_target(
    aws: EmbeddedAws, tmp_path: Path, capsys: Any
) -> None:
    # Given an input naming a function that does not exist
    path = input_file(tmp_path, MISSING)
    # When it is started and followed
    code = main(["start", "--stack", STACK, "--input", path, "--name", "ghost", "--wait", *POLL])
    out = capsys.readouterr().out
    # Then it exits 1, with the run's error and its message (not the Lambda error document)
    assert code == 1
    assert "status     FAILED after " in out
    assert "error      FunctionNotFoundError" in out
    assert "cause      arn:aws:lambda:us-east-1:123456789012:function:ghost-function: lambda:GetFunction" in out
    assert "stackTrace" not in out
    assert "outcomes   FAILED 1 (from the run records)" in out
    # And the failed target's row says where and why
    row = next(line for line in out.splitlines() if line.startswith("20") and "ghost-function" in line)
    assert re.search(r"FAILED .*FunctionNotFoundError \(not-found\) in DiscoverResources", row)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"targets": ["orders-api"], ', "is not JSON: Expecting property name enclosed in double quotes at line 1"),
        (None, "cannot read the execution input"),
    ],
)
def test_an_unusable_input_file_exits_2_before_any_aws_call(
    aws: EmbeddedAws, tmp_path: Path, capsys: Any, content: str | None, message: str
) -> None:
    # Given a malformed input file, or none at all
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)
    aws.interceptor.log.reset()
    # When it is started
    code = main(["start", "--stack", STACK, "--input", str(path), "--wait", *POLL])
    captured = capsys.readouterr()
    # Then it exits 2 naming the file and the problem, and nothing was asked of AWS, let alone started
    assert code == 2
    assert captured.out == ""
    assert captured.err.startswith("autotuner: ")
    assert message in captured.err and str(path) in captured.err
    assert "states:StartExecution" not in calls(aws)
    assert calls(aws) == []


def test_an_input_over_start_executions_limit_exits_2_naming_the_limit_before_any_aws_call(
    aws: EmbeddedAws, tmp_path: Path, capsys: Any
) -> None:
    # Given an input of 300,000 characters as sent: over StartExecution's 262,144
    path = input_file(tmp_path, {"targets": ["orders-api"], "payload": {"blob": "x" * 300_000}})
    aws.interceptor.log.reset()
    # When it is started
    code = main(["start", "--stack", STACK, "--input", path, "--wait", *POLL])
    captured = capsys.readouterr()
    # Then it exits 2 naming the size and the limit, and nothing was asked of AWS
    assert code == 2
    assert "300,0" in captured.err and "at most 262,144" in captured.err and path in captured.err
    assert calls(aws) == []


def test_step_functions_itself_refuses_an_input_over_the_limit_and_starts_nothing(aws: EmbeddedAws) -> None:
    # Given an input one character over 262,144 once JSON-encoded, sent past the CLI's own check
    from autotuner.history import HistoryError, open_session
    from autotuner.runs import resolve_tuner, start_execution

    blob = "x" * (262_144 - len(json.dumps({"payload": ""})) + 1)
    assert len(json.dumps({"payload": blob})) == 262_145
    session = open_session(region=ACCOUNT.region)
    tuner = resolve_tuner(session, STACK)
    sfn = aws.client("stepfunctions")
    before = len(sfn.list_executions(stateMachineArn=tuner.state_machine_arn)["executions"])
    # When StartExecution is called with it
    with pytest.raises(HistoryError) as refused:
        start_execution(session, tuner.state_machine_arn, {"payload": blob}, name="over-the-limit")
    # Then the API refuses it as AWS does, and no execution was created
    assert "states:StartExecution" in str(refused.value)
    assert (
        "ValidationException: 1 validation error detected: Value at 'input' failed to satisfy constraint: "
        "Member must have length less than or equal to 262144"
    ) in str(refused.value)
    assert len(sfn.list_executions(stateMachineArn=tuner.state_machine_arn)["executions"]) == before
    # And one character less is started
    arn = start_execution(session, tuner.state_machine_arn, {"payload": blob[1:]}, name="at-the-limit")
    assert aws.wait(arn)["status"] == "FAILED"  # not a tuning request, but it ran


def test_start_json_prints_one_object_with_the_result_and_progress_on_stderr(
    aws: EmbeddedAws, tmp_path: Path, capsys: Any
) -> None:
    # Given an input that applies 1536 MB to billing-api
    path = input_file(tmp_path, {"targets": ["billing-api"], "memorySize": 1536, "apply": True})
    # When it is started with --wait --json
    code = main(["start", "--stack", STACK, "--input", path, "--name", "as-json", "--wait", "--json", *POLL])
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    # Then stdout is one JSON object: the status, the output and the run records
    assert code == 0
    assert {"executionArn", "status", "error", "cause", "output", "records"} <= result.keys()
    assert (result["executionArn"], result["status"], result["error"]) == (
        execution_arn(aws, "as-json"),
        "SUCCEEDED",
        None,
    )
    assert result["output"]["counts"] == {"APPLIED": 1}
    (record,) = result["records"]
    assert (record["outcome"], record["before"]["MemorySize"], record["after"]["MemorySize"]) == ("APPLIED", 512, 1536)
    # And the progress went to stderr
    assert "TuneTargets/UpdateConfiguration" in captured.err


def test_start_without_wait_prints_only_the_execution_arn(aws: EmbeddedAws, tmp_path: Path, capsys: Any) -> None:
    # When an execution is started without --wait
    code = main(["start", "--stack", STACK, "--input", input_file(tmp_path, MISSING), "--name", "no-wait"])
    out = capsys.readouterr().out
    # Then stdout is its ARN alone (for ARN=$(autotuner start …)), and it runs on its own
    assert code == 0
    assert out == execution_arn(aws, "no-wait") + "\n"
    assert aws.wait(out.strip())["status"] == "FAILED"


# --- report ------------------------------------------------------------------------------------


def test_report_prints_the_summary_and_tables_and_writes_charts_and_html(
    aws: EmbeddedAws, measured: str, tmp_path: Path, capsys: Any
) -> None:
    # Given a measured dry run of orders-api
    results = tmp_path / "out"
    # When its report is asked for
    code = main(["report", measured, "--stack", STACK, "--results", str(results)])
    out = capsys.readouterr().out
    # Then it prints the summary and orders-api's configuration table
    assert code == 0
    assert f"execution  {measured}" in out
    assert "outcomes   RECOMMENDED 1" in out
    # (a dry run's recommendation is listed per function as "recommended only"; the summary used to
    # say "none projected" and add up only applied per-million figures across functions)
    savings = next(line for line in out.splitlines() if line.startswith("savings    "))
    assert savings.startswith("savings    orders-api: ") and savings.endswith("recommended only)")
    assert "trimmed mean ms" in out
    for size in (256, 512, 1024):
        assert any(line.lstrip().startswith(f"{size} ") for line in out.splitlines())
    # And a chart and the HTML report, whose paths it prints
    chart, page = results / "orders-api.png", results / "report.html"
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert "orders-api" in page.read_text(encoding="utf-8")
    assert f"  {chart}" in out and f"  {page}" in out


def test_report_json_writes_to_results_named_after_the_execution(
    aws: EmbeddedAws, measured: str, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no --results
    monkeypatch.chdir(tmp_path)
    # When the report is asked for as JSON
    code = main(["report", measured, "--stack", STACK, "--json"])
    result = json.loads(capsys.readouterr().out)
    # Then the files are in results/<execution name>/ and the JSON lists them with the records
    assert code == 0
    assert result["reports"] == ["results/measured-run/orders-api.png", "results/measured-run/report.html"]
    assert all((tmp_path / path).is_file() for path in result["reports"])
    assert [record["outcome"] for record in result["records"]] == ["RECOMMENDED"]


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["start", "--stack", "no-such-stack", "--wait"], "stack 'no-such-stack' does not exist in us-east-1"),
        (["report", "<measured>", "--stack", "no-such-stack"], "stack 'no-such-stack' does not exist in us-east-1"),
        (["report", "<never-ran>", "--stack", STACK], "ExecutionDoesNotExist"),
    ],
)
def test_an_unknown_stack_or_execution_exits_1_with_a_clear_message(
    aws: EmbeddedAws, measured: str, tmp_path: Path, capsys: Any, argv: list[str], message: str
) -> None:
    # Given a stack or an execution that does not exist
    placeholders = {"<measured>": measured, "<never-ran>": execution_arn(aws, "never-ran")}
    argv = [placeholders.get(arg, arg) for arg in argv]
    if argv[0] == "start":
        argv += ["--input", input_file(tmp_path, APPLY_FIXED), *POLL]
    aws.interceptor.log.reset()
    # When the command runs
    code = main(argv)
    captured = capsys.readouterr()
    # Then it exits 1 with one line on stderr saying what, no traceback, and nothing started
    assert code == 1
    assert captured.out == ""
    assert captured.err.startswith("autotuner: ") and message in captured.err
    assert "Traceback" not in captured.err
    assert "states:StartExecution" not in calls(aws)


# --- progress (no AWS) ---------------------------------------------------------------------------


def test_progress_collapses_a_states_repeats_between_polls_into_a_count() -> None:
    # Given four targets' CheckCircuit entered between two polls, then two more
    log = ProgressLog()
    first = [
        StateEntered(0.4, "TuneTargets"),
        *(StateEntered(0.5 + i / 10, "TuneTargets/CheckCircuit") for i in range(4)),
    ]
    # When each poll's states are turned into lines
    # Then one line per state, with the count this time and so far
    assert log.lines(first) == ["    0.4 s  TuneTargets", "    0.5 s  TuneTargets/CheckCircuit x4"]
    assert log.lines([StateEntered(3.0, "TuneTargets/CheckCircuit")] * 2) == [
        "    3.0 s  TuneTargets/CheckCircuit x2 (6 in all)"
    ]
    assert log.lines([]) == []


class PagedHistory:
    """GetExecutionHistory as AWS pages it (nextToken), over a history that grows between polls."""

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size
        self.events: list[dict[str, Any]] = []
        self.tokens: list[str | None] = []

    def get_execution_history(self, executionArn: str, maxResults: int, nextToken: str | None = None) -> Any:
        self.tokens.append(nextToken)
        start = int(nextToken or 0)
        page = {"events": self.events[start : start + self.page_size]}
        if start + self.page_size < len(self.events):
            page["nextToken"] = str(start + self.page_size)
        return page


def event(history: PagedHistory, previous: int, kind: str, name: str | None = None) -> None:
    started = datetime(2026, 1, 1, tzinfo=UTC)
    item: dict[str, Any] = {
        "id": len(history.events) + 1,
        "previousEventId": previous,
        "type": kind,
        "timestamp": started + timedelta(seconds=len(history.events)),
    }
    if name:
        item["stateEnteredEventDetails"] = {"name": name}
    history.events.append(item)


def test_the_follower_reads_only_new_pages_and_names_the_maps_around_each_state() -> None:
    # Given a history paged two events at a time, where a Map ends as AWS writes it (Exited after Succeeded)
    history = PagedHistory(page_size=2)
    follower = ExecutionFollower(history, "arn", datetime(2026, 1, 1, tzinfo=UTC))
    event(history, 0, "ExecutionStarted")
    event(history, 1, "MapStateEntered", "TuneTargets")
    event(history, 2, "MapStateStarted")
    event(history, 3, "MapIterationStarted")
    event(history, 4, "TaskStateEntered", "CheckCircuit")
    # When it polls, and polls again after the history has grown
    first = follower.poll()
    tokens_before = len(history.tokens)
    event(history, 5, "TaskStateExited")
    event(history, 6, "MapIterationSucceeded")
    event(history, 7, "MapStateSucceeded")
    event(history, 8, "MapStateExited")
    event(history, 9, "TaskStateEntered", "Summarize")
    second = follower.poll()
    # Then each state is reported once, under the Maps around it, with its time since the start
    assert first == [StateEntered(1.0, "TuneTargets"), StateEntered(4.0, "TuneTargets/CheckCircuit")]
    assert second == [StateEntered(9.0, "Summarize")]
    # And the second poll started from the last page already read, not from the first
    assert history.tokens[tokens_before] == "4"
