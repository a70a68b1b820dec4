"""`autotuner local history|runs|report`: reading a local run's results afterwards, offline.

A `local run` keeps the embedded account in --state-dir; the follow-up commands start the
embedded AWS from it and take the same arguments as against a deployed stack.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest

from autotuner.cli import main
from emulator.account import SimulatedAccount, SimulatedFunction
from emulator.local_state import LocalState, LocalStateError

ROOT = Path(__file__).resolve().parents[1]
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:lambda-autotuner-tuner:run-0001"


def autotuner(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autotuner.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def follow_up(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """A follow-up command, in this process (it starts its own embedded AWS): exit code, stdout, stderr."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The state a `local run` left: orders-api's memory changed from 512 to 1024 MB."""
    folder = tmp_path_factory.mktemp("state") / "kept"
    run = autotuner(
        "local",
        "run",
        "--account",
        "events/accounts/demo-account.json",
        "--input",
        "events/inputs/apply-memory.json",
        "--state-dir",
        str(folder),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return folder


def test_local_history_after_a_local_run_shows_that_runs_record(state_dir: Path, capsys) -> None:
    # When the user asks for the function's history on the account the run left
    code, out, err = follow_up(capsys, "local", "history", "orders-api", "--state-dir", str(state_dir), "--json")

    # Then the run's record is there: its execution, the change it made
    assert code == 0, out + err
    (record,) = json.loads(out)
    assert record["executionArn"] == EXECUTION
    assert record["target"] == "arn:aws:lambda:us-east-1:123456789012:function:orders-api"
    assert record["outcome"] == "APPLIED"
    assert (record["before"]["MemorySize"], record["after"]["MemorySize"]) == (512, 1024)

    # And the text form, with the same flags as against a stack, shows it too
    code, out, err = follow_up(capsys, "local", "history", "orders-api", "--limit", "5", "--state-dir", str(state_dir))
    assert code == 0, err
    assert "run-0001" in out and "APPLIED" in out and "512 → 1024" in out


def test_local_runs_and_report_read_the_kept_execution_and_its_map_run(state_dir: Path, tmp_path: Path, capsys) -> None:
    # When the user lists the execution's records and reports on it
    runs = follow_up(capsys, "local", "runs", EXECUTION, "--state-dir", str(state_dir), "--json")
    report = follow_up(capsys, "local", "report", EXECUTION, "--results", str(tmp_path), "--state-dir", str(state_dir))

    # Then both find the execution the run made, as Step Functions described it then
    assert runs[0] == 0, runs
    assert [record["outcome"] for record in json.loads(runs[1])] == ["APPLIED"]
    assert report[0] == 0, report
    assert f"execution  {EXECUTION}" in report[1]
    assert "status     SUCCEEDED" in report[1]
    assert "1 child execution: 1 succeeded, 0 failed (SUCCEEDED)" in report[1]  # the kept map run
    assert (tmp_path / "report.html").stat().st_size > 0

    # And an execution that never ran is Step Functions' own refusal
    code, _, err = follow_up(capsys, "local", "report", EXECUTION + "x", "--state-dir", str(state_dir))
    assert code == 1 and "ExecutionDoesNotExist" in err


def test_local_history_without_a_kept_account_says_how_to_make_one(tmp_path: Path, capsys) -> None:
    code, _, err = follow_up(capsys, "local", "history", "orders-api", "--state-dir", str(tmp_path / "none"))
    assert code == 1
    assert f"no embedded account kept in {tmp_path / 'none'}" in err
    assert "autotuner local run" in err


def test_a_state_file_that_is_not_one_is_named_with_what_to_do(tmp_path: Path, capsys) -> None:
    LocalState.path(tmp_path).write_text('{"format": 1}')
    with pytest.raises(LocalStateError, match=r"state\.json is not an embedded account state .*--state-dir"):
        LocalState.load(tmp_path)
    code, _, err = follow_up(capsys, "local", "runs", EXECUTION, "--state-dir", str(tmp_path))
    assert code == 1 and "state.json is not an embedded account state" in err


def test_the_state_file_keeps_timestamps_bytes_and_the_account_exactly(tmp_path: Path) -> None:
    # Given a state with a timestamp (Step Functions' dates) and binary DynamoDB values
    started = datetime.datetime(2026, 12, 1, 8, 30, 15, 250000, tzinfo=datetime.UTC)
    state = LocalState(
        account=SimulatedAccount(functions=[SimulatedFunction(name="orders-api", memory_size=512)]),
        tables={"t": [{"pk": {"S": "a"}, "blob": {"B": b"\x00\xff"}, "blobs": {"BS": [b"\x01"]}}]},
        objects={"bucket": {"key": "aGVsbG8="}},
        executions={EXECUTION: {"describe": {"startDate": started}, "history": [], "mapRuns": []}},
        executions_started=3,
    )
    # When it is saved and loaded again
    state.save(tmp_path / "dir")
    loaded = LocalState.load(tmp_path / "dir")
    # Then it is the same state, and no temporary file is left beside it
    assert loaded == state
    assert [path.name for path in (tmp_path / "dir").iterdir()] == ["state.json"]
