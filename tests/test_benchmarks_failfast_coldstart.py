"""The fail-fast and cold-start benchmarks' cores, on real runs and real imports (no timing thresholds)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not an installed package
from benchmarks import _asl_variants as variants
from benchmarks import coldstart, failfast
from emulator import aws_time

ASL = variants.STATEMACHINE_DIR / "autotuner.asl.json"


# ---------------------------------------------------------------------------------------------
# Fail-fast
# ---------------------------------------------------------------------------------------------


def catches(definition) -> dict[str, list]:
    return {name: state["Catch"] for name, state in variants.states_of(definition) if "Catch" in state}


def test_retry_everything_gives_every_task_one_states_all_retrier_and_keeps_catch():
    # Given our state machine, whose Tasks retry transient errors only
    ours = json.loads(ASL.read_text())
    original = json.loads(ASL.read_text())
    # When it is turned into the retry-everything variant
    variant = variants.retry_everything(ours)
    # Then every Task, those inside the Map's item processor included, has exactly that retrier
    tasks = variants.task_retriers(variant)
    assert tasks.keys() == variants.task_retriers(ours).keys()
    assert {"ValidatePermissions", "DiscoverResources", "RecordTargetFailure", "Summarize"} <= tasks.keys()
    assert all(retry == [variants.RETRY_EVERYTHING] for retry in tasks.values())
    # And the Catch blocks and everything else but Retry are the same; the input is untouched
    assert catches(variant) == catches(ours)
    assert ours == original
    assert variants.retry_everything(variant) == variant


def test_the_variant_template_deploys_the_projects_code_with_the_variant_definition():
    with variants.retry_everything_template() as template:
        folder = template.parent
        assert template.read_text() == variants.TEMPLATE.read_text()
        definition = json.loads((folder / "statemachine" / "autotuner.asl.json").read_text())
        assert set(map(json.dumps, variants.task_retriers(definition).values())) == {
            json.dumps([variants.RETRY_EVERYTHING])
        }
        assert (folder / "functions").resolve() == variants.PROJECT_ROOT / "functions"
        assert (folder / "layers").resolve() == variants.PROJECT_ROOT / "layers"
    assert not folder.exists()


@pytest.fixture(scope="module")
def suite():
    return failfast.run_suite(repeats=1, warm_up=False)


def test_ours_fails_each_scenario_after_one_attempt_without_changing_anything(suite):
    ours = [row for row in suite if row["flow"] == "ours"]
    assert [row["scenario"] for row in ours] == list(failfast.SCENARIOS)
    for row in ours:
        assert row["status"] == "FAILED"
        assert row["error"] == failfast.SCENARIOS[row["scenario"]].expected_error
        assert row["failingAttempts"] == 1, row["taskAttempts"]
        assert row["mutatingCalls"] == 0
        assert row["retryWaitSeconds"] == 0
        assert row["records"] == 1  # the target was known in each scenario: one record


def test_retry_everything_retries_the_same_failure_and_waits_for_it(suite):
    by_key = {(row["scenario"], row["flow"]): row for row in suite}
    interval, attempts = variants.RETRY_EVERYTHING["IntervalSeconds"], variants.RETRY_EVERYTHING["MaxAttempts"]
    backoff = variants.RETRY_EVERYTHING["BackoffRate"]
    one_state_waits = sum(interval * backoff**n for n in range(attempts))  # 3 s + 6 s
    for name in failfast.SCENARIOS:
        ours, other = by_key[(name, "ours")], by_key[(name, "retry-everything")]
        # Same end, same failing state, still nothing changed
        assert (other["status"], other["error"], other["failedState"]) == (
            ours["status"],
            ours["error"],
            ours["failedState"],
        )
        assert other["mutatingCalls"] == 0
        # The failing state is attempted 1 + MaxAttempts times, with the backoff waits in between
        assert other["failingAttempts"] == 1 + attempts
        assert other["attempts"] > ours["attempts"]
        assert other["awsCalls"] > ours["awsCalls"]
        assert other["retryWaitSeconds"] >= one_state_waits
        # Seconds in AWS put the scaled waits back at full length
        scale = failfast.SCENARIOS[name].account.retry_time_scale
        assert other["seconds"] == pytest.approx(other["measuredSeconds"] + other["retryWaitSeconds"] * (1 - scale))
        assert other["seconds"] > ours["seconds"]


def test_the_report_shows_every_scenario_its_ratios_and_the_goals(suite):
    rows = failfast.ratios(suite)
    assert [row["scenario"] for row in rows] == list(failfast.SCENARIOS)
    assert all(row["failingAttempts"] == 1 + variants.RETRY_EVERYTHING["MaxAttempts"] for row in rows)
    report = failfast.format_report(suite)
    for name in failfast.SCENARIOS:
        assert report.count(name) >= 3  # a row per flow and a ratio row
    goals = failfast.goals(suite)
    assert goals[0]["met"] is True
    assert all(isinstance(goal["met"], bool) for goal in goals)


def test_the_table_shows_the_aws_estimate_beside_in_process_seconds_and_its_goal_can_fail(suite):
    # Given the suite's rows
    ours = [row for row in suite if row["flow"] == "ours"]
    # Then every run's AWS estimate holds its waits at full length and a latency per transition
    transition = aws_time.STATE_TRANSITION.seconds
    assert all(row["awsSeconds"] > row["retryWaitSeconds"] + row["transitions"] * transition for row in suite)
    report = failfast.format_report(suite)
    assert "AWS estimate s" in report and "in-process s (full waits)" in report
    # And the 5 s goal names each scenario's estimate, and is judged on it
    goal = failfast.goals(suite)[2]
    assert all(f"{row['scenario']} {row['awsSeconds']:.2f} s" in goal["value"] for row in ours)
    assert goal["met"] is all(row["awsSeconds"] <= failfast.GOAL_AWS_SECONDS for row in ours)
    slow = [{**row, "awsSeconds": failfast.GOAL_AWS_SECONDS + 0.1} if row is ours[0] else row for row in suite]
    assert failfast.goals(slow)[2]["met"] is False


# ---------------------------------------------------------------------------------------------
# Cold start
# ---------------------------------------------------------------------------------------------


def test_every_handler_is_measured_with_the_templates_environment():
    dirs = coldstart.handler_dirs()
    assert {path.name for path in dirs} == {path.parent.name for path in coldstart.FUNCTIONS_DIR.glob("*/app.py")}
    env = coldstart.handler_environment(coldstart.FUNCTIONS_DIR / "validate_permissions")
    assert env["POWERTOOLS_SERVICE_NAME"] == "lambda-autotuner"  # Globals
    assert env["STATUS_POLL_INTERVAL_MS"] == "1000"  # !Ref resolved to the parameter's default
    assert env["UPDATE_ROLE_ARN"].startswith("arn:aws:iam::")  # its own Environment, a dummy ARN
    assert env["LAMBDA_TASK_ROOT"].endswith("validate_permissions")
    assert env["PYTHONPATH"].split(":") == [
        str(coldstart.FUNCTIONS_DIR / "validate_permissions"),
        str(coldstart.LAYER_DIR),
    ]


def test_each_handler_imports_in_a_fresh_interpreter_and_the_table_lists_it():
    # One import of each (no warm-up, no rounds): the numbers are real, the test judges no timing
    with tempfile.TemporaryDirectory() as empty:
        baseline_env = coldstart.runtime_environment("baseline", Path(empty))
        samples = {
            coldstart.BASELINE: {
                "boto3": [coldstart.import_milliseconds(["boto3"], baseline_env, Path(empty))["boto3"]]
            }
        }
    for path in coldstart.handler_dirs():
        timings = coldstart.import_milliseconds(["app", "boto3"], coldstart.handler_environment(path), path)
        assert timings["app"] > 0 and timings["boto3"] > 0, path.name
        samples[path.name] = {module: [ms] for module, ms in timings.items()}
    rows = coldstart.summarize(samples)
    assert all(row["medianMs"] > 0 and row["ratio"] > 0 for row in rows)
    report = coldstart.format_report(rows)
    for path in coldstart.handler_dirs():
        assert f"functions/{path.name}/app.py" in report
    assert "import boto3" in report
    # And each handler is set against the AWS-time model's cold start, with a goal that can fail
    assert all(coldstart.model_deviation(row) is not None for row in rows if row["import"] != coldstart.BASELINE)
    assert "AWS-time model's cold starts" in report
    far = [
        {**row, "withBoto3Ms": row["withBoto3Ms"] * 10, "withBoto3Ratio": row["withBoto3Ratio"] * 10}
        if row["import"] != coldstart.BASELINE
        else row
        for row in rows
    ]
    assert "NOT met" in coldstart.format_report(far).splitlines()[-1]


def test_a_handler_loads_botocore_only_with_its_first_client_and_then_traces_it():
    # Given a handler imported the way Lambda imports it (tracing on: LAMBDA_TASK_ROOT is set)
    function_dir = coldstart.FUNCTIONS_DIR / "discover_resources"
    code = (
        "import sys, app\n"
        "print('botocore.client' in sys.modules)\n"
        "from aws_xray_sdk.core import patcher\n"
        "from autotuner_core.aws.clients import aws_client\n"
        "aws_client('lambda')\n"
        "print('botocore' in patcher._PATCHED_MODULES)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        env=coldstart.handler_environment(function_dir),
        cwd=function_dir,
        capture_output=True,
        text=True,
        check=True,
    )
    # Then botocore is not imported by the handler's import, and X-Ray traces AWS calls once a client exists
    assert completed.stdout.split() == ["False", "True"]
