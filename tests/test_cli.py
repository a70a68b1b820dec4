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
    result = autotuner("local", "run", "--account", "events/accounts/demo-account.json", "--input", str(path))
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
    # (a table with headers: run, the execution's status, orders-api's outcome, why, calls, seconds)
    header = next(index for index, line in enumerate(lines) if line.startswith("run ") and " why " in line)
    assert lines[header].split()[:4] == ["run", "execution", "orders-api", "why"]
    breaker = [line.split() for line in lines[header + 2 : header + 6]]
    assert [row[0] for row in breaker] == ["1", "2", "3", "4"]
    assert [row[2] for row in breaker] == ["FAILED", "FAILED", "FAILED", "SKIPPED"]
    assert breaker[0][3] == "PermissionDeniedError" and breaker[3][3:6] == ["next", "try", "after"]
    assert breaker[3][-2] == "0"  # the open circuit made no Lambda control-plane call
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
    sweep = lines[start + 2 : next(i for i in range(start, len(lines)) if lines[i].startswith("  savings "))]
    assert sweep[0].split()[:3] == ["function", "outcome", "memory"]
    names = {"broken-webhook", "cart-api", "checkout-api", "pdf-renderer", "search-indexer", "thumbnailer"}
    swept = {line.split()[0]: line.split()[1] for line in sweep if line.split() and line.split()[0] in names}
    assert swept.pop("broken-webhook") == "FAILED"
    assert sorted(swept) == ["cart-api", "checkout-api", "pdf-renderer", "search-indexer", "thumbnailer"]
    assert set(swept.values()) <= {"APPLIED", "UNCHANGED"}
    assert "legacy-batch" not in result.stdout
    # And the broken function's row says why: the import error at every size
    broken = " ".join(" ".join(line.split()) for line in sweep if "broken-webhook" in line or line.startswith(" "))
    assert "InvalidConfigurationError: every memory size was excluded" in broken
    assert broken.count("Runtime.ImportModuleError") == 4
    # And each tuned function's saving is a month's dollars at its traffic of the last 24 h
    for name in ("image-resizer", "orders-api", "report-builder"):
        table = lines[next(i for i, line in enumerate(lines) if line.startswith(f"{name} — ")) :]
        saving = next(line for line in table if line.startswith("saving: "))
        assert re.search(r"(saves|costs) \$[\d,.]+ a month( more)? at [\d,]+ invocations a day \(\$", saving), saving
    # And the demo ends with the money: the month's total across the priced functions, the biggest first
    assert re.match(r"^Money: saves \$[\d,.]+ a month across \d+ functions; biggest: [a-z-]+ \$[\d,.]+", lines[-2])
    assert "730 hours" in lines[-1]


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
    # And where its HTML report is: the S3 URI in the stack's bucket and the presigned link to it
    lines = result.stdout.splitlines()
    report = lines.index(next(line for line in lines if line.startswith("report       ")))
    assert "/reports/run-0001/report.html" in lines[report] and lines[report].split()[1].startswith("s3://")
    assert "X-Amz-Expires=" in lines[report + 1] and "(until " in lines[report + 1]


def test_local_run_without_an_account_says_which_to_give_and_runs_nothing():
    # When a local run is started without --account
    result = autotuner("local", "run", "--input", "events/inputs/apply-memory.json")
    # Then it is a usage error naming the flag and the accounts the repository ships, not a FunctionNotFound run
    assert result.returncode == 2
    assert "local run needs --account FILE" in result.stderr
    assert "demo-account.json" in result.stderr
    assert result.stdout == ""


def test_local_run_of_a_typo_input_names_each_field_in_its_text_without_a_stack_trace(tmp_path):
    # Given an input with a misspelt field, too few invocations and a size below Lambda's minimum
    path = tmp_path / "typo.json"
    path.write_text(json.dumps({"targets": ["orders-api"], "stratgy": "cost", "invocations": 2, "memorySizes": [64]}))
    # When it is run locally without --json
    result = autotuner("local", "run", "--account", "events/accounts/demo-account.json", "--input", str(path))
    # Then the text names the error and each problem with its field path, one a line
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "error        InvalidInputError" in lines
    cause = lines.index("cause        invalid execution input (3 problems):")
    assert [line.strip() for line in lines[cause + 1 : cause + 4]] == [
        "memorySizes[0]: Input should be greater than or equal to 128 (got 64)",
        "invocations: Input should be greater than or equal to 5 (got 2)",
        "stratgy: unknown field (got 'cost')",
    ]
    # And no stack trace or JSON error document
    assert "stackTrace" not in result.stdout and 'File "' not in result.stdout and "errorMessage" not in result.stdout


def test_local_run_of_a_sweep_prints_each_failed_functions_reason_and_the_sweeps_savings():
    # When the demo's tag sweep (one function fails every invocation) is run locally
    result = autotuner(
        "local",
        "run",
        "--account",
        "events/accounts/demo-sweep-account.json",
        "--input",
        "events/inputs/sweep-fleet.json",
    )
    assert result.returncode == 1
    out = result.stdout
    # Then the run's cause counts the failure, and the broken function's record line is followed by its reason
    assert "cause        1 of 6 targets failed (each one's error is with its record)" in out
    lines = out.splitlines()
    broken = next(i for i, line in enumerate(lines) if line.startswith("record       broken-webhook FAILED"))
    reason = " ".join(line.strip() for line in lines[broken + 1 : broken + 5])
    assert reason.startswith("broken-webhook: InvalidConfigurationError: every memory size was excluded: 256 MB")
    assert "Runtime.ImportModuleError" in reason
    # And the savings: each change, then the total (the demo fleet had no traffic: $0 a month, per million kept)
    savings = lines[next(i for i, line in enumerate(lines) if line.startswith("savings      ")) :]
    assert any("no invocations in the last 24 h (saves $" in line for line in savings)
    assert any(line.strip().startswith("in all: ") for line in savings)
    assert "stackTrace" not in out


def test_version_and_start_help_say_what_the_defaults_are():
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert autotuner("--version").stdout.strip() == f"autotuner {version}"
    # (argparse wraps the help at the terminal's width, breaking lines after a hyphen)
    usage = re.sub(r"(\w)- (\w)", r"\1-\2", " ".join(autotuner("start", "--help").stdout.split()))
    # start has no execution ARN to take a region from; the stack's default is shown
    assert "ARN" not in usage.partition("--region")[2].partition("--profile")[0]
    assert "AWS_DEFAULT_REGION" in usage
    assert "(default: lambda-autotuner)" in usage


def test_the_dry_run_example_measures_sizes_and_changes_nothing():
    # When the README's first real-AWS example runs on the demo account
    result = autotuner(
        "local",
        "run",
        "--account",
        "events/accounts/demo-account.json",
        "--input",
        "events/inputs/dry-run.json",
        "--json",
    )
    report = json.loads(result.stdout)
    # Then it measured several sizes and recommended one (or kept the current), applying nothing
    assert report["status"] == "SUCCEEDED", report["cause"]
    (record,) = report["records"]
    assert record["outcome"] in ("RECOMMENDED", "UNCHANGED")
    assert len(record["configurations"]) > 1 and record["recommendation"]["summary"]
    # (measuring publishes temporary versions; the function itself is not APPLIED a new size)
    assert record["requested"]["apply"] is False
    # And its record says what the recommendation is worth, priced by the function's traffic of the last day
    assert record["projectedSavings"]["basis"] == "traffic"
