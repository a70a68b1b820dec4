"""The `autotuner` command as a new user runs it: the README's commands and their contract."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def autotuner(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autotuner.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_local_run_prints_one_json_object_with_the_documented_fields():
    # When the README's local run command is used with --json
    result = autotuner(
        "local",
        "run",
        "--account",
        "events/accounts/demo-account.json",
        "--input",
        "events/inputs/apply-memory.json",
        "--json",
    )
    # Then stdout is exactly one JSON object carrying the contract's fields
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for field in (
        "status",
        "error",
        "cause",
        "failedState",
        "seconds",
        "taskAttempts",
        "awsCalls",
        "records",
        "output",
    ):
        assert field in report
    assert report["status"] == "SUCCEEDED"
    assert report["taskAttempts"] == {
        "ValidatePermissions": 1,
        "CheckCircuit": 1,
        "DiscoverResources": 1,
        "UpdateConfiguration": 1,
        "RecordTargetResult": 1,
        "Summarize": 1,
    }
    assert report["awsCalls"]["lambda:UpdateFunctionConfiguration"] == 1
    assert [record["outcome"] for record in report["records"]] == ["APPLIED"]


def test_local_run_exit_code_is_non_zero_for_a_failed_run():
    result = autotuner(
        "local",
        "run",
        "--account",
        "events/accounts/demo-account.json",
        "--input",
        "events/inputs/missing-function.json",
    )
    assert result.returncode == 1
    assert "FunctionNotFoundError" in result.stdout
    assert "DiscoverResources" in result.stdout


def test_local_run_of_an_input_over_start_executions_limit_exits_non_zero_with_aws_refusal(tmp_path):
    # Given an execution input of 270,000 characters: over StartExecution's 262,144
    path = tmp_path / "huge.json"
    path.write_text(json.dumps({"targets": ["orders-api"], "payload": {"blob": "x" * 270_000}}))
    # When it is run locally
    result = autotuner("local", "run", "--input", str(path))
    # Then the embedded AWS refuses the StartExecution as AWS would, and the CLI says so
    assert result.returncode != 0
    assert "StartExecution refused the input: ValidationException" in result.stderr
    assert "Member must have length less than or equal to 262144" in result.stderr
    assert "Traceback" not in result.stderr


def test_local_run_names_a_bad_account_file():
    result = autotuner(
        "local", "run", "--account", "events/inputs/apply-memory.json", "--input", "events/inputs/apply-memory.json"
    )
    assert result.returncode != 0
    assert "apply-memory.json" in result.stderr
    assert "invalid simulated account" in result.stderr


def test_demo_shows_fail_fast_runs_and_three_tuned_functions_with_reports(tmp_path):
    # When a new user runs the demo
    result = autotuner("demo", "--results", str(tmp_path))
    # Then it passes and shows each scenario's status, failing state and error
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any("memory change applied" in line and "SUCCEEDED" in line for line in lines)
    assert any("PermissionDeniedError" in line and "ValidatePermissions" in line for line in lines)
    assert any("FunctionNotFoundError" in line and "DiscoverResources" in line for line in lines)
    # And the circuit breaker opens after three failed runs and the fourth run skips the target
    breaker = [line for line in lines if line.startswith("  run ")]
    assert [line.split()[3] for line in breaker] == ["FAILED", "FAILED", "FAILED", "SKIPPED"]
    assert "0 Lambda control-plane calls" in breaker[3]
    # And three simulated functions are tuned, each with its table, chart, and one HTML report
    for name in ("image-resizer", "orders-api", "report-builder"):
        # (measurements are noisy: a size within noise of the current one leaves it UNCHANGED)
        assert any(line.startswith((f"{name} — APPLIED", f"{name} — UNCHANGED")) for line in lines), name
        assert (tmp_path / f"{name}.png").stat().st_size > 20_000
    # (every invocation at the out-of-memory size failed: the engine measures a size twice at first)
    assert any(re.search(r"excluded: (\d+)/\1 failed: Runtime\.OutOfMemory", line) for line in lines)
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3
    # And a tag sweep over a small fleet fails as a partial failure: the broken function failed,
    # every other tagged function was tuned and has its record, the untagged one was left alone
    start = next(index for index, line in enumerate(lines) if line.startswith("Tag sweep "))
    assert lines[start + 1].split()[:2] == ["FAILED", "PartialFailureError"]
    swept = {line.split()[0]: line.split()[1] for line in lines[start + 2 : start + 8]}
    assert swept.pop("broken-webhook") == "FAILED"
    assert sorted(swept) == ["cart-api", "checkout-api", "pdf-renderer", "search-indexer", "thumbnailer"]
    assert set(swept.values()) <= {"APPLIED", "UNCHANGED"}
    assert "legacy-batch" not in result.stdout


def test_local_run_prints_the_decision_with_its_interval_and_the_tunings_full_cost(tmp_path):
    # Given a measured dry run of one simulated function (few sizes, to stay quick)
    run_input = tmp_path / "measure.json"
    run_input.write_text(json.dumps({"targets": ["orders-api"], "memorySizes": [256, 512], "invocations": 5}))

    # When it is run locally without --json
    account = "events/accounts/demo-tuning-account.json"
    result = autotuner("local", "run", "--account", account, "--input", str(run_input))

    # Then the decision (a far cheaper size: the I/O-bound function barely uses its memory) is
    # printed with the engine's 90 % interval on the projected change
    assert result.returncode == 0, result.stderr
    decision = next(line for line in result.stdout.splitlines() if line.startswith("decision     "))
    assert "cheaper" in decision and "(90 % CI " in decision and " per million invocations" in decision
    # And the run's own cost in full: target and tuner GB-seconds, control-plane calls, dollars
    cost = next(line for line in result.stdout.splitlines() if line.startswith("run cost     "))
    assert " target invocations (" in cost and " GB-s), tuner " in cost
    assert " control-plane calls, $" in cost and cost.endswith(" in all")
