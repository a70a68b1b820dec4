"""What a reviewer checks in template.yaml before deploying the tuner.

The template is checked the way AWS will see it: sam validate --lint and cfn-lint run as a user
runs them, and the logging / table / state-machine assertions walk the CloudFormation that the
SAM transform produces (samtranslator, offline), so roles and policies SAM adds are included.
IAM is checked in test_template_iam.py, how the tuner is started in test_template_starting.py.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from .reading import FUNCTION_ACTIONS, ROOT, TEMPLATE, _cli_env, _resources_of_type, _tool

# ----------------------------------------------------------------------------------------------
# (a), (b) the linters a user runs


def test_sam_validate_with_lint_passes() -> None:
    # Given the template and a region (sam validate runs offline)
    # When the user runs `sam validate --lint`
    result = subprocess.run(
        [_tool("sam"), "validate", "--lint", "--template-file", str(TEMPLATE)],
        cwd=ROOT,
        env=_cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # Then it exits 0 and calls the template valid
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "is a valid SAM Template" in output, output


def test_cfn_lint_reports_no_findings() -> None:
    # Given the template
    # When the user runs cfn-lint on it
    result = subprocess.run(
        [_tool("cfn-lint"), "--format", "parseable", "--", str(TEMPLATE)],
        cwd=ROOT,
        env=_cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # Then there is not a single error or warning
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout


# ----------------------------------------------------------------------------------------------
# (d) runtime, architecture, tracing and logs of every function


def test_every_function_runs_python313_on_arm64_with_active_tracing(cfn: dict[str, Any]) -> None:
    # Given every Lambda function of the deployed template
    functions = _resources_of_type(cfn, "AWS::Lambda::Function")
    # Then each one runs python3.13 on arm64 with X-Ray tracing active and the shared layer
    (layer_id, layer) = next(iter(_resources_of_type(cfn, "AWS::Lambda::LayerVersion").items()))
    for lid, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.13", lid
        assert props["Architectures"] == ["arm64"], lid
        assert props["TracingConfig"] == {"Mode": "Active"}, lid
        assert {"Ref": layer_id} in props["Layers"], lid
    assert "python3.13" in layer["Properties"]["CompatibleRuntimes"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_every_function_logs_json_to_its_own_retained_log_group(cfn: dict[str, Any]) -> None:
    # Given every Lambda function of the deployed template
    functions = _resources_of_type(cfn, "AWS::Lambda::Function")
    log_groups = _resources_of_type(cfn, "AWS::Logs::LogGroup")
    used: list[str] = []
    for lid, function in functions.items():
        # When its logging configuration is read
        logging_config = function["Properties"].get("LoggingConfig", {})
        # Then it logs JSON into a log group of this stack whose retention is the LogRetentionDays parameter
        assert logging_config.get("LogFormat") == "JSON", lid
        group_ref = logging_config.get("LogGroup")
        assert isinstance(group_ref, dict) and group_ref.get("Ref") in log_groups, f"{lid}: {group_ref}"
        retention = log_groups[group_ref["Ref"]]["Properties"].get("RetentionInDays")
        assert retention == {"Ref": "LogRetentionDays"}, lid
        used.append(group_ref["Ref"])
    # And no two functions share a log group
    assert len(set(used)) == len(used) == len(FUNCTION_ACTIONS)


# ----------------------------------------------------------------------------------------------
# (e) the run-history table


def test_run_history_table_has_pitr_encryption_ttl_and_survives_stack_deletion(cfn: dict[str, Any]) -> None:
    # Given the DynamoDB table that keeps the run records
    table = _resources_of_type(cfn, "AWS::DynamoDB::Table")["RunHistoryTable"]
    props = table["Properties"]
    # Then it can be restored to a point in time, is encrypted at rest and expires old records
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"]["Enabled"] is True
    assert props["TimeToLiveSpecification"]["AttributeName"]
    # And deleting or replacing the stack keeps the history
    assert table.get("DeletionPolicy") == "Retain"
    assert table.get("UpdateReplacePolicy") == "Retain"


# ----------------------------------------------------------------------------------------------
# (f) the state machine


def test_state_machine_is_standard_traced_and_logged(cfn: dict[str, Any]) -> None:
    # Given the tuner's state machine
    (machine,) = _resources_of_type(cfn, "AWS::StepFunctions::StateMachine").values()
    props = machine["Properties"]
    # Then it is a STANDARD workflow (exactly-once, long-running, full execution history)
    assert props["StateMachineType"] == "STANDARD"
    # And it sends traces to X-Ray
    assert props["TracingConfiguration"] == {"Enabled": True}
    # And it logs to its own log group, retained for LogRetentionDays
    logging_config = props["LoggingConfiguration"]
    assert logging_config["Level"] in {"ALL", "ERROR", "FATAL"}
    (destination,) = logging_config["Destinations"]
    group_arn = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]
    group_id = group_arn["Fn::GetAtt"][0]
    group = cfn["Resources"][group_id]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_state_table_has_pitr_encryption_and_ttl(cfn: dict[str, Any]) -> None:
    # Given the table of circuit breakers, leases and idempotency records
    props = _resources_of_type(cfn, "AWS::DynamoDB::Table")["StateTable"]["Properties"]
    # Then it is recoverable, encrypted, and its items expire through the attribute the code writes
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]


def test_alarms_and_dashboard_watch_failed_runs_and_opened_circuits(cfn: dict[str, Any]) -> None:
    alarms = _resources_of_type(cfn, "AWS::CloudWatch::Alarm")
    metrics = {(alarm["Properties"]["Namespace"], alarm["Properties"]["MetricName"]) for alarm in alarms.values()}
    assert metrics == {
        ("AWS/States", "ExecutionsFailed"),
        ("LambdaAutotuner", "CircuitOpened"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),  # a trigger that could not start a run
    }
    (dashboard,) = _resources_of_type(cfn, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("RunOutcome", "ErrorsByCategory", "TimeToFailure", "CircuitOpened"):
        assert metric in body
    # Savings per million invocations are listed per function from RecordResult's log, never summed as a metric
    assert "ProjectedSavings" not in body
    assert "SOURCE '${RecordResultLogGroup}' | filter message = 'applied change'" in body
