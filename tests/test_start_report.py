"""`autotuner start` and `autotuner report` on the embedded AWS (following a run alone: test_run_following.py).

One embedded AWS for the module. The CLI runs in-process (the embedded AWS lives in this process)
and finds the state machine and the run-history table through the stack's outputs, as it would
for a deployed stack. Progress is polled every 0.05 s instead of AWS's 1 s.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from autotuner.cli import main
from emulator.account import SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws

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
SWEEP = {"targets": ["orders-api", "billing-api"], "memorySize": 768}
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


def test_start_wait_of_a_typo_input_names_each_field_and_prints_no_stack_trace(
    aws: EmbeddedAws, tmp_path: Path, capsys: Any
) -> None:
    # Given an input with a misspelt field and too few invocations
    path = input_file(tmp_path, {"targets": ["orders-api"], "stratgy": "cost", "invocations": 2})
    # When it is started and followed
    code = main(["start", "--stack", STACK, "--input", path, "--name", "typo", "--wait", *POLL])
    out = capsys.readouterr().out
    # Then the summary names the error and each problem with its field path, one a line
    assert code == 1
    lines = out.splitlines()
    assert "error      InvalidInputError" in lines
    cause = lines.index("cause      invalid execution input (2 problems):")
    assert [line.strip() for line in lines[cause + 1 : cause + 3]] == [
        "invocations: Input should be greater than or equal to 5 (got 2)",
        "stratgy: unknown field (got 'cost')",
    ]
    assert "stackTrace" not in out and 'File "' not in out


def test_start_wait_and_report_of_a_partial_failure_print_each_failed_targets_error(
    aws: EmbeddedAws, tmp_path: Path, capsys: Any
) -> None:
    # Given a run of two targets, one of which does not exist
    path = input_file(tmp_path, {"targets": ["orders-api", "ghost-function"], "memorySize": 768})
    # When it is started and followed, then reported on
    code = main(["start", "--stack", STACK, "--input", path, "--name", "half", "--wait", *POLL])
    followed = capsys.readouterr().out
    arn = followed.splitlines()[0]
    assert main(["report", arn, "--stack", STACK, "--results", str(tmp_path / "out")]) == 0
    reported = capsys.readouterr().out
    # Then both say that one of two failed and, with the failed target, its error type and message
    assert code == 1
    for out in (followed, reported):
        assert "cause      1 of 2 targets failed (each one's error is with its record)" in out
        assert "errors     1 target:" in out
        assert "             ghost-function: FunctionNotFoundError: lambda:GetFunction on" in out
        assert "savings    1 not priced: a fixed memory size was asked for, nothing measured" in out
        assert "stackTrace" not in out
    # And the run records' table lists the error in full below its rows
    assert "\nerrors:\n  20" in followed and " ghost-function: FunctionNotFoundError: lambda:GetFunction" in followed


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


def test_start_wait_follows_a_sweep_through_its_map_run_as_a_progress_bar(
    aws: EmbeddedAws, tmp_path: Path, capsys: Any
) -> None:
    # Given a dry run of a fixed size over two targets: a sweep, one child execution each
    path = input_file(tmp_path, SWEEP)
    aws.interceptor.log.reset()
    # When it is started and followed to its end
    code = main(["start", "--stack", STACK, "--input", path, "--name", "sweep", "--wait", *POLL])
    out = capsys.readouterr().out
    asked = calls(aws)
    lines = out.splitlines()
    progress = lines[1 : lines.index("")]
    # Then the parent's states are lines, and the map run is a bar counted from DescribeMapRun, not the
    # children's states (the parent's history, as AWS keeps it, has none of them)
    assert code == 0
    states = [line.split("  ")[-1] for line in progress if re.match(r"^ +\d+\.\d s  ", line)]
    assert states == ["Prepare", "ValidatePermissions", "AnyTargets", "TuneTargets", "Summarize"]
    bars = [line for line in progress if line.startswith("TuneTargets ")]
    assert bars and len(bars) + len(states) == len(progress)
    assert re.search(r"━+ 2/2 done, 0 failed +\d+\.\d/s +0:00:00 left$", bars[-1])
    assert all(re.search(r" [0-2]/2 done, 0 failed ", bar) for bar in bars)
    # And the sweep was followed through DescribeMapRun alone: no child listed or read, whatever its size
    assert "states:DescribeMapRun" in asked and "states:ListExecutions" not in asked
    # And the final bar comes before Summarize, which ran after the map run
    assert progress.index(bars[-1]) < next(i for i, line in enumerate(progress) if line.endswith("  Summarize"))
    assert "outcomes   RECOMMENDED 2" in out
    # And the summary counts the map run's child executions as DescribeMapRun does
    assert "map run    2 child executions: 2 succeeded, 0 failed (SUCCEEDED)" in out


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
    assert "map run    1 child execution: 1 succeeded, 0 failed (SUCCEEDED)" in out
    # (a dry run's recommendation is listed per function as "recommended only", not "none projected",
    # and the per-million figures add up recommended changes as well as applied ones)
    # (the saving of a dry run's recommendation, priced at the function's traffic of the last 24 h: this
    # account's functions had none, so $0 a month, with what the change is worth per million invocations)
    lines = out.splitlines()
    savings = lines[next(i for i, line in enumerate(lines) if line.startswith("savings    ")) :]
    assert re.match(
        r"^savings    (orders-api: \$0\.00 a month: no invocations in the last 24 h \(would (save|cost) \$[\d,.]+ "
        r"per million\)|1 function keeps its size: \$0\.00 a month)$",
        savings[0],
    ), savings[0]
    assert any(line.startswith("           in all: ") for line in savings[:3])
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
    (map_run,) = result["mapRuns"]
    assert (map_run["status"], map_run["executionCounts"]["total"], map_run["executionCounts"]["succeeded"]) == (
        "SUCCEEDED",
        1,
        1,
    )


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
