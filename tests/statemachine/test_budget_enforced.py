"""The run budget as a bound: every example input stays within its estimate, and a run whose
measuring spends more than the estimate said is stopped at its share of the limits.

Each run is a real execution of the ASL on the embedded AWS. The estimate is ValidatePermissions'
(``runCost.estimated``); the count is the run's own (``runCost.counted``) and the simulator's
record of every invocation any function received.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from autotuner_core.cost.prices import lambda_prices, lambda_usd
from autotuner_core.cost.run_cost import counted as counted_cost
from autotuner_core.run.records import outcome_of
from emulator.account import SimulatedAccount, SimulatedFunction, load_account
from emulator.cloud import EmbeddedAws, RunReport

EVENTS = Path(__file__).resolve().parents[2] / "events"
ACCOUNTS = EVENTS / "accounts"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"

# Every example input a user is shown (events/inputs, events/console, events/power-tuning), with the
# account it is written for (autotuner/demo.py's pairs; events/power-tuning/README.md's account).
EXAMPLES = [
    ("inputs/apply-memory.json", "demo-account.json"),
    ("inputs/apply-with-breaker.json", "demo-breaker-account.json"),
    ("inputs/dry-run.json", "demo-account.json"),
    ("inputs/missing-function.json", "demo-account.json"),
    ("inputs/sweep-fleet.json", "demo-sweep-account.json"),
    ("inputs/tune-three.json", "demo-tuning-account.json"),
    ("console/fixed-memory-apply.json", "demo-account.json"),
    ("console/single-function-apply.json", "demo-account.json"),
    ("console/single-function-dry-run.json", "demo-account.json"),
    *(
        (f"power-tuning/{path.name}", "power-tuning-account.json")
        for path in sorted(EVENTS.glob("power-tuning/*.json"))
    ),
]


def test_the_list_holds_every_example_input() -> None:
    listed = {path for path, _ in EXAMPLES}
    shipped = {
        str(path.relative_to(EVENTS))
        for kind in ("inputs", "console", "power-tuning")
        for path in (EVENTS / kind).glob("*.json")
    }
    assert listed == shipped


def run_cost(report: RunReport) -> dict[str, Any]:
    """The run's estimate and count: from its output, or for a failed run (which has none) the estimate
    ValidatePermissions returned and the count of the run's records, as SummarizeRun counts them."""
    if report.output and "runCost" in report.output:
        return report.output["runCost"]
    (validated,) = [
        json.loads(event["taskSucceededEventDetails"]["output"])
        for event in report.history
        if event.get("taskSucceededEventDetails") and '"estimatedCost"' in event["taskSucceededEventDetails"]["output"]
    ]
    estimated = validated.get("Payload", validated)["estimatedCost"]
    counted = counted_cost([outcome_of(record) for record in report.records]).dump()
    # The failure paths' transitions are the execution histories' own
    counted["stateTransitions"] = report.state_transitions
    return {"estimated": estimated, "counted": counted}


def assert_counted_within_estimate(report: RunReport, aws: EmbeddedAws, names: list[str]) -> dict[str, Any]:
    cost = run_cost(report)
    estimated, counted = cost["estimated"], cost["counted"]
    for key in (
        "targetInvocations",
        "targetGbSeconds",
        "processorInvocations",
        "processorGbSeconds",
        "tunerInvocations",
        "tunerGbSeconds",
        "stateTransitions",
        "targetInvocationsUsd",
        "processorUsd",
        "tunerLambdaUsd",
        "totalUsd",
    ):
        assert counted.get(key, 0) <= estimated.get(key, 0), (
            f"{key}: counted {counted.get(key)} > estimated {estimated.get(key)}"
        )
    # Every invocation any function received from the run (targets, their shadows, processors) is in the estimate
    received = len([record for record in aws.simulator.invocations if _measuring(record.client_context)])
    assert received <= estimated["targetInvocations"] + estimated.get("processorInvocations", 0)
    if report.status == "SUCCEEDED":
        # (A FAILED target's record holds no measurements: what it invoked before failing is not counted.)
        assert received == counted["targetInvocations"] + counted.get("processorInvocations", 0)
    assert report.mutating_calls.count("lambda:PublishVersion") <= estimated["versionsCreated"]
    return cost


def _measuring(client_context: dict[str, Any] | None) -> bool:
    """An invocation the tuner made (measurement and processors carry its ClientContext)."""
    return ((client_context or {}).get("custom") or {}).get("autotuner") == "measurement"


@pytest.mark.parametrize(("example", "account"), EXAMPLES, ids=[path for path, _ in EXAMPLES])
def test_every_example_input_spends_at_most_its_estimate(example: str, account: str) -> None:
    # Given an example input and the simulated account it is written for
    execution_input = json.loads((EVENTS / example).read_text())
    with EmbeddedAws(load_account(ACCOUNTS / account)) as aws:
        # When it runs on the embedded AWS
        report = aws.run(execution_input)
        # Then every quantity counted (invocations, GB-seconds, versions, dollars) is at most the estimate
        assert_counted_within_estimate(report, aws, [])


# --- the budget enforced while the run runs --------------------------------------------------------


def _heavy_account(limit_usd: str, *, working_set_mb: float) -> SimulatedAccount:
    """A 1,024 MB function (timeout 900 s) whose CPU work grows with the event's ``scale``."""
    profile = {"preset": "cpu-bound", "workingSetMb": working_set_mb, "noise": 0}
    job = SimulatedFunction(
        name="report-job", memory_size=1024, timeout=900, tags={"autotune": "enabled"}, profile=profile
    )
    parameters = {"StatusPollIntervalMs": "20", "MaxStatusWaitSeconds": "5", "MaxRunCostUsd": limit_usd}
    return SimulatedAccount(parameters=parameters, functions=[job])


def _run_heavy(limit_usd: str, scale: float, working_set_mb: float) -> tuple[RunReport, float, int]:
    """Production's longest Duration is 2.1 s (CloudWatch); the measuring payload is ``scale`` times the work.

    Returns the report, and the GB-seconds and invocations the simulator billed the target for."""
    with EmbeddedAws(_heavy_account(limit_usd, working_set_mb=working_set_mb)) as aws:
        metric = {
            "MetricName": "Duration",
            "Dimensions": [{"Name": "FunctionName", "Value": "report-job"}],
            "Value": 2100.0,
            "Unit": "Milliseconds",
            "Timestamp": datetime.now(UTC) - timedelta(hours=1),
        }
        aws.client("cloudwatch").put_metric_data(Namespace="AWS/Lambda", MetricData=[metric])
        request = {"targets": ["report-job"], "memorySizes": [128, 256, 512, 1024], "payload": {"scale": scale}}
        report = aws.run(request)
        measured = [record for record in aws.simulator.invocations if _measuring(record.client_context)]
    billed = sum(record.memory_size / 1024 * record.billed_duration_ms / 1000 for record in measured)
    return report, billed, len(measured)


def test_a_heavier_measuring_payload_is_stopped_at_the_targets_share_of_the_limit() -> None:
    # Given a payload ten times production's work: the estimate (2 x production's longest Duration)
    # is far below what measuring spends. Under the default $10 the run spends more than $0.01
    unbounded, unbounded_gb_s, _ = _run_heavy("10", scale=10, working_set_mb=10)
    estimated = unbounded.output["runCost"]["estimated"]["totalUsd"]
    assert unbounded.output["runCost"]["counted"]["totalUsd"] > 0.01 > estimated
    # When MaxRunCostUsd is $0.01 (the estimate passes it)
    report, gb_s, _ = _run_heavy("0.01", scale=10, working_set_mb=10)
    # Then the run still decides on what was measured, and its record says the budget stopped it
    assert report.status == "SUCCEEDED", report.cause
    (outcome,) = report.output["outcomes"]
    assert outcome["outcome"] in ("RECOMMENDED", "UNCHANGED")
    assert "MaxRunCostUsd" in outcome["spend"]["budgetStop"]
    (record,) = report.records
    assert "MaxRunCostUsd" in record["spend"]["budgetStop"]
    # And everything it counted, and every GB-second the target billed, is within the limit
    assert report.output["runCost"]["counted"]["totalUsd"] <= 0.01
    assert gb_s < unbounded_gb_s
    assert report.output["runCost"]["counted"]["targetGbSeconds"] == pytest.approx(gb_s)


def test_stopped_before_two_sizes_can_be_compared_the_target_fails_with_budget_exceeded() -> None:
    # Given a function that needs about 700 MB and a payload thirty times production's work: its
    # first round (128-1,024 MB) leaves 1,024 MB the only size that ran
    report, gb_s, invocations = _run_heavy("0.01", scale=30, working_set_mb=21.7)
    # Then the next round would pass the target's share: the target fails, saying so
    (record,) = report.records
    assert (record["outcome"], record["errorType"]) == ("FAILED", "BudgetExceededError")
    assert "two sizes" in record["errorMessage"] and "MaxRunCostUsd" in record["errorMessage"]
    # And what the target billed stays within the limit (with the tuner's own steps beside it)
    # (a FAILED target's record holds no measurements: the simulator's bill is the count here)
    assert lambda_usd(gb_s, invocations, lambda_prices("us-east-1")) < 0.01


def _processor_account() -> SimulatedAccount:
    functions = [
        SimulatedFunction(name="orders-api", memory_size=512, tags={"autotune": "enabled"}),
        SimulatedFunction(name="seed-order", memory_size=256),
        SimulatedFunction(name="delete-order", memory_size=256),
    ]
    parameters = {
        "StatusPollIntervalMs": "20",
        "MaxStatusWaitSeconds": "5",
        "PayloadProcessorArns": f"{ARN}seed-order,{ARN}delete-order",
    }
    return SimulatedAccount(parameters=parameters, functions=functions)


def test_processors_and_sleeps_are_counted_and_within_the_estimate() -> None:
    # Given a target measured with a pre- and a post-processor and a wait between runs
    request = {
        "targets": ["orders-api"],
        "memorySizes": [256, 1024],
        "invocations": 5,
        "preProcessor": "seed-order",
        "postProcessor": "delete-order",
        "sleepBetweenRunsMs": 200,
    }
    with EmbeddedAws(_processor_account()) as aws:
        report = aws.run(request)
        received = {
            name: len(
                [r for r in aws.simulator.invocations if r.function_name == name and _measuring(r.client_context)]
            )
            for name in ("orders-api", "seed-order", "delete-order")
        }
        # Then the run counts every invocation: the target's and both processors' (three per measurement)
        assert report.status == "SUCCEEDED", report.cause
        cost = assert_counted_within_estimate(report, aws, [])
    counted, estimated = cost["counted"], cost["estimated"]
    assert counted["targetInvocations"] == received["orders-api"] > 0
    assert counted["processorInvocations"] == received["seed-order"] + received["delete-order"]
    assert counted["processorInvocations"] == 2 * counted["targetInvocations"]
    assert counted["processorUsd"] > 0 and estimated["processorUsd"] >= counted["processorUsd"]
    # And the tuner's waits (200 ms after each invocation) are in its estimated time
    assert estimated["tunerGbSeconds"] >= counted["tunerGbSeconds"] >= 0.2 * counted["targetInvocations"] * 0.125


def test_only_cold_starts_publishes_only_the_versions_it_invokes() -> None:
    # Given onlyColdStarts at 5 invocations over four sizes
    account = load_account(ACCOUNTS / "demo-tuning-account.json")
    with EmbeddedAws(account) as aws:
        report = aws.run({"targets": ["orders-api"], "onlyColdStarts": True, "invocations": 5})
        cost = assert_counted_within_estimate(report, aws, [])
    # Then every version it published was invoked exactly once, each invocation a cold start
    published = report.mutating_calls.count("lambda:PublishVersion")
    (outcome,) = report.output["outcomes"]
    invoked = sum(row["invocations"] for row in outcome["configurations"])
    assert published == invoked == cost["counted"]["targetInvocations"]
    assert all(row["coldStarts"] == row["invocations"] for row in outcome["configurations"])
