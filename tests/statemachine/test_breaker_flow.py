"""Circuit breaker, lease and idempotent apply, executed on the embedded AWS with the real ASL."""

from __future__ import annotations

import json
import time

from emulator.account import Fault, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws
from emulator.interceptor import unlogged

ORDERS = SimulatedFunction(name="orders-api", memory_size=512, timeout=30, tags={"autotune": "enabled"})
APPLY = {"targets": ["orders-api"], "memorySize": 1024, "apply": True}


def breaker_item(aws: EmbeddedAws) -> dict:
    table = aws.stack.outputs["StateTableName"]
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{ORDERS.name}"
    with unlogged():
        item = aws.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": f"BREAKER#{arn}"}}).get("Item", {})
    return {key: next(iter(value.values())) for key, value in item.items()}


def discovery_denied(times: int) -> Fault:
    """Discovery's GetFunction refused: a permanent failure that counts against the breaker."""
    return Fault(
        service="lambda",
        action="GetFunction",
        code="AccessDeniedException",
        status=403,
        times=times,
        caller="DiscoverResourcesFunction",
    )


def calls_by(aws: EmbeddedAws, caller: str) -> list[str]:
    return [record.call for record in aws.interceptor.log.calls if record.caller == caller]


def test_three_failures_open_the_circuit_then_skip_then_one_probe_closes_it():
    # Given discovery is denied three times in a row (a permanent, counted failure)
    denied = discovery_denied(times=3)
    # (a cooldown long enough that the fourth run, on a loaded machine, still comes before its end)
    run_input = {**APPLY, "circuitBreaker": {"failureThreshold": 3, "cooldownSeconds": 8}}
    with EmbeddedAws(SimulatedAccount(functions=[ORDERS], faults=[denied])) as aws:
        # When three runs fail
        failed = [aws.run(run_input) for _ in range(3)]
        opened = breaker_item(aws)
        # And a fourth run comes before the cooldown ends
        skipped = aws.run(run_input)
        # And a fifth after it
        time.sleep(max(0.0, float(opened["retryAt"]) - time.time()) + 0.1)
        probe = aws.run(run_input)
        closed = breaker_item(aws)
        memory = aws.function_configuration("orders-api")["MemorySize"]

    # Then the three failures are recorded and the third opened the circuit
    assert [run.error for run in failed] == ["PermissionDeniedError"] * 3
    assert (opened["state"], opened["failures"]) == ("OPEN", "3")
    # And the fourth run skipped the target in one breaker read, touching nothing of Lambda's
    (record,) = skipped.records
    assert (record["outcome"], record["errorType"]) == ("SKIPPED", "CircuitOpenError")
    assert record["nextTryAt"]
    assert skipped.status == "SUCCEEDED"
    assert skipped.output["counts"] == {"SKIPPED": 1}
    lambda_calls = [call for call in skipped.aws_calls if call.startswith("lambda:") and call != "lambda:Invoke"]
    assert lambda_calls == []
    # And after the cooldown one probe ran, succeeded, and closed the circuit
    assert probe.status == "SUCCEEDED"
    assert probe.records[0]["outcome"] == "APPLIED"
    assert (closed["state"], closed["failures"]) == ("CLOSED", "0")
    assert memory == 1024


def test_an_open_circuit_costs_one_breaker_read_and_no_invocation():
    denied = discovery_denied(times=1)
    run_input = {**APPLY, "circuitBreaker": {"failureThreshold": 1, "cooldownSeconds": 600}}
    with EmbeddedAws(SimulatedAccount(functions=[ORDERS], faults=[denied])) as aws:
        aws.run(run_input)  # opens the circuit at the first failure
        aws.run(run_input)
        guard_calls = calls_by(aws, "CheckCircuitFunction")
        target_invocations = [record for record in aws.interceptor.log.calls if record.call == "lambda:Invoke"]
    # Then the skipped run's CheckCircuit read the breaker once and wrote nothing
    assert guard_calls == ["dynamodb:GetItem"]
    # And only the tuner's own functions were invoked (CheckCircuit, RecordResult, Summarize)
    assert len(target_invocations) == 4  # Validate, CheckCircuit, RecordTargetFailure, Summarize


def test_two_concurrent_executions_on_one_target_tune_it_once():
    with EmbeddedAws(SimulatedAccount(functions=[ORDERS])) as aws:
        # When two executions measure and apply the same target at the same time
        first = aws.start({"targets": ["orders-api"], "invocations": 5, "apply": True})
        second = aws.start({"targets": ["orders-api"], "invocations": 5, "apply": True})
        results = [aws.wait(first), aws.wait(second)]
        records = [record for execution in (first, second) for record in aws.records(execution)]
    # Then exactly one tuned it and the other skipped it, recorded, without counting a failure
    outcomes = [(record["outcome"], record.get("errorType")) for record in records]
    skipped = [outcome for outcome in outcomes if outcome == ("SKIPPED", "TuningInProgressError")]
    tuned = [outcome for outcome in outcomes if outcome[0] in ("APPLIED", "UNCHANGED")]
    # (UNCHANGED: below minImprovement the measured run keeps the current size)
    assert (len(tuned), len(skipped), len(outcomes)) == (1, 1, 2), outcomes
    assert {result["status"] for result in results} == {"SUCCEEDED"}


def test_update_invoked_twice_with_the_same_key_applies_once():
    with EmbeddedAws(SimulatedAccount(functions=[ORDERS])) as aws:
        # Given the document UpdateConfiguration receives for an apply of 1024 MB
        config = aws.function_configuration("orders-api")
        event = {
            "execution": {
                "arn": "arn:aws:states:us-east-1:123456789012:execution:sm:run-1",
                "startTime": "2026-11-26T00:00:00+00:00",
            },
            "request": APPLY,
            "target": {
                "ref": {
                    "given": "orders-api",
                    "name": "orders-api",
                    "arn": config["FunctionArn"],
                },
                "configuration": {
                    "MemorySize": config["MemorySize"],
                    "Timeout": config["Timeout"],
                    "RevisionId": config["RevisionId"],
                },
            },
            "timings": {"validatePermissionsMs": 1, "discoverResourcesMs": 1},
            "admission": "NORMAL",
            "spend": {},
        }
        updater = aws.stack.functions["UpdateConfigurationFunction"].name
        lam = aws.client("lambda")
        # When it is invoked twice with the same key (a retry after a timeout)
        answers = [
            json.loads(lam.invoke(FunctionName=updater, Payload=json.dumps(event))["Payload"].read()) for _ in range(2)
        ]
        updates = [
            record for record in aws.interceptor.log.calls if record.call == "lambda:UpdateFunctionConfiguration"
        ]
    # Then the change is applied once and both answers are the same
    assert len(updates) == 1
    assert answers[0]["outcome"] == answers[1]["outcome"] == "APPLIED"
    assert answers[0]["after"] == answers[1]["after"]


def test_an_unreadable_breaker_table_means_no_tuning_and_a_recorded_failure():
    # Given the breaker cannot be read (every GetItem from CheckCircuit fails)
    broken = Fault(
        service="dynamodb",
        action="GetItem",
        code="InternalServerError",
        status=500,
        times=1000,
        caller="CheckCircuitFunction",
    )
    with EmbeddedAws(SimulatedAccount(functions=[ORDERS], faults=[broken])) as aws:
        report = aws.run(APPLY)
        memory = aws.function_configuration("orders-api")["MemorySize"]
    # Then it is retried as transient, then recorded as a failure, and the target is not touched
    assert report.status == "FAILED"
    assert report.task_attempts["CheckCircuit"] == 5
    (record,) = report.records
    assert (record["outcome"], record["errorType"], record["failedStage"]) == (
        "FAILED",
        "ServiceUnavailableError",
        "CheckCircuit",
    )
    assert memory == 512
    assert not [call for call in report.aws_calls if call.startswith("lambda:") and call != "lambda:Invoke"]


def emf_metrics(aws: EmbeddedAws) -> dict[str, list[dict]]:
    """Every EMF document the tuner's functions logged, by metric name (what CloudWatch would ingest)."""
    found: dict[str, list[dict]] = {}
    for log in aws.runtime.logs:
        for line in log.text.splitlines():
            if line.startswith("{") and '"_aws"' in line:
                document = json.loads(line)
                for directive in document["_aws"]["CloudWatchMetrics"]:
                    assert directive["Namespace"] == "LambdaAutotuner"
                    for metric in directive["Metrics"]:
                        found.setdefault(metric["Name"], []).append(document)
    return found


def test_the_operator_metrics_are_emitted_as_emf_with_their_dimensions():
    io_bound = SimulatedFunction(
        name="orders-api", memory_size=1024, timeout=30, tags={"autotune": "enabled"}, profile={"preset": "io-bound"}
    )
    denied = discovery_denied(times=1)
    with EmbeddedAws(SimulatedAccount(functions=[io_bound], faults=[denied])) as aws:
        # Given a failed run that opens the circuit, then (cooldown 0) a measured run that applies a cheaper size
        aws.run({**APPLY, "circuitBreaker": {"failureThreshold": 1, "cooldownSeconds": 0}})
        aws.run({"targets": ["orders-api"], "invocations": 5, "apply": True, "refine": False})
        metrics = emf_metrics(aws)
    # Then every metric of the operator's view was emitted
    for name in (
        "PermissionCheckDuration",
        "ResourceValidationDuration",
        "MeasurementDuration",
        "TimeToFailure",
        "ErrorsByCategory",
        "RunOutcome",
        "CircuitOpened",
    ):
        assert name in metrics, name
    # And the dimensioned ones carry what the dashboard and the alarm select on
    assert {doc["category"] for doc in metrics["ErrorsByCategory"]} == {"permission"}
    assert {doc["outcome"] for doc in metrics["RunOutcome"]} == {"FAILED", "APPLIED"}
    assert metrics["CircuitOpened"][0]["outcome"] == "FAILED"
    assert all(doc["service"] == "lambda-autotuner" for docs in metrics.values() for doc in docs)
    # And the applied change is a log line of its own function, not a metric summed over functions
    assert "ProjectedSavings" not in metrics
    (applied,) = [
        json.loads(line)
        for log in aws.runtime.logs
        for line in log.text.splitlines()
        if line.startswith("{") and '"applied change"' in line
    ]
    assert applied["target"].endswith(":function:orders-api")
    assert applied["memoryBeforeMb"] == 1024 and applied["memoryAfterMb"] < 1024
    assert applied["projectedSavingsPerMillionUsd"] > 0
