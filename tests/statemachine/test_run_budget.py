"""The run budget on the embedded AWS: the pre-run estimate bounds what real runs spend.

Each run is a real execution of the ASL on simulated targets; the estimate is what
ValidatePermissions computed before anything was created (``runCost.estimated``), the count is
what the run's own documents and the execution histories say it spent (``runCost.counted``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from autotuner.runs import run_budget_text, run_cost_text
from emulator.account import SimulatedAccount, load_account
from emulator.cloud import EmbeddedAws, RunReport

EVENTS = Path(__file__).resolve().parents[2] / "events"
TUNING = load_account(EVENTS / "accounts" / "demo-tuning-account.json")
_FLEET = load_account(EVENTS / "accounts" / "demo-sweep-account.json")
# The demo fleet without its always-failing function: a failed target fails the run, whose output
# then holds no cost to compare (the bound itself covers failed targets too).
SWEEP = _FLEET.model_copy(update={"functions": [f for f in _FLEET.functions if f.name != "broken-webhook"]})


def run(account: SimulatedAccount, execution_input: dict[str, Any]) -> RunReport:
    with EmbeddedAws(account) as aws:
        return aws.run(execution_input)


def memory_of(account: SimulatedAccount, name: str) -> int:
    return next(function.memory_size for function in account.functions if function.name == name)


def assert_within_estimate(report: RunReport) -> dict[str, Any]:
    """Every quantity the run counted is at most what the estimate said, versions included."""
    assert report.status == "SUCCEEDED", report.cause
    cost = report.output["runCost"]
    estimated, counted = cost["estimated"], cost["counted"]
    for key in (
        "targetInvocations",
        "targetGbSeconds",
        "tunerInvocations",
        "tunerGbSeconds",
        "controlPlaneCalls",
        "stateTransitions",
        "targetInvocationsUsd",
        "tunerLambdaUsd",
        "totalUsd",
    ):
        assert counted[key] <= estimated[key], f"{key}: counted {counted[key]} > estimated {estimated[key]}"
    # The count of transitions is the execution histories' own (parent and every child)
    assert counted["stateTransitions"] == report.state_transitions
    published = report.mutating_calls.count("lambda:PublishVersion")
    assert 0 < published <= estimated["versionsCreated"]
    # Per target: each one the estimate read is listed, and what its own document says it spent is
    # within its own bounds
    by_target = {item["target"]: item for item in estimated["targets"]}
    assert set(by_target) == {outcome["target"] for outcome in report.output["outcomes"]}
    for outcome in report.output["outcomes"]:
        bound, configs, spend = by_target[outcome["target"]], outcome["configurations"], outcome["spend"]
        assert sum(row["invocations"] for row in configs) <= bound["targetInvocations"]
        gb_seconds = sum(row["memorySize"] / 1024 * row["billedTotalMs"] / 1000 for row in configs)
        assert gb_seconds <= bound["targetGbSeconds"]
        assert spend["tunerGbSeconds"] <= bound["tunerGbSeconds"]
        assert spend["controlPlaneCalls"] <= bound["controlPlaneCalls"]
    return estimated


@pytest.mark.parametrize(
    ("target", "extra"),
    [
        ("image-resizer", {}),  # the defaults: 10 invocations, the standard range, sequential
        ("orders-api", {"onlyColdStarts": True, "invocations": 5}),  # one version per invocation per size
        ("report-builder", {"parallelInvocation": True, "strategy": "speed"}),
    ],
    ids=["default", "only-cold-starts", "parallel-invocation"],
)
def test_a_runs_spend_never_exceeds_its_pre_run_estimate(target: str, extra: dict[str, Any]) -> None:
    # Given a simulated function without recent Duration metrics (its GB-seconds bounded by its timeout)
    # When it is tuned (dry run) with these inputs
    report = run(TUNING, {"targets": [target], **extra})
    # Then what the run spent is within the estimate, quantity by quantity
    estimated = assert_within_estimate(report)
    (item,) = estimated["targets"]
    assert item["basis"] == "timeout" and item["currentMemorySize"] == memory_of(TUNING, target)
    if extra.get("onlyColdStarts"):
        # And with onlyColdStarts every size may publish one version per invocation
        assert item["versionsCreated"] >= 5 * 2


def test_a_sweeps_spend_never_exceeds_its_pre_run_estimate() -> None:
    # Given the demo fleet, swept by tag with the demo's input (apply included)
    execution_input = json.loads((EVENTS / "inputs" / "sweep-fleet.json").read_text())
    # When it runs
    report = run(SWEEP, execution_input)
    # Then every target's spend and the run's together are within the estimate
    estimated = assert_within_estimate(report)
    assert len(estimated["targets"]) == len(report.output["outcomes"]) > 1


def test_with_recent_duration_metrics_the_estimate_is_bounded_by_them_and_still_holds() -> None:
    # Given image-resizer (timeout 300 s) and the Duration CloudWatch has for its production traffic:
    # twenty requests at its current size through its published alias (so $LATEST stays idle), their
    # largest Duration published as Lambda publishes it
    with EmbeddedAws(TUNING) as aws:
        lam, cloudwatch = aws.client("lambda"), aws.client("cloudwatch")
        version = lam.publish_version(FunctionName="image-resizer")["Version"]
        lam.create_alias(FunctionName="image-resizer", Name="prod", FunctionVersion=version)
        durations = []
        for _ in range(20):
            response = lam.invoke(FunctionName="image-resizer", Qualifier="prod", Payload=b"{}", LogType="Tail")
            durations.append(_report_duration_ms(response))
        cloudwatch.put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[
                {
                    "MetricName": "Duration",
                    "Dimensions": [{"Name": "FunctionName", "Value": "image-resizer"}],
                    "Value": max(durations),
                    "Unit": "Milliseconds",
                    "Timestamp": datetime.now(UTC) - timedelta(hours=1),
                }
            ],
        )
        # When it is tuned
        report = aws.run({"targets": ["image-resizer"]})
    # Then the estimate used that Duration, is far below the timeout's bound, and still bounds the spend
    estimated = assert_within_estimate(report)
    (item,) = estimated["targets"]
    assert item["basis"] == "duration" and item["maxDurationMs"] == pytest.approx(max(durations))
    timeout_bound = 30 * 3008 / 1024 * 300
    assert item["targetGbSeconds"] < timeout_bound / 10
    # And the line a user reads beside the count (autotuner start --wait, local run, demo) gives the
    # estimate with its basis, in the count's order
    estimate = run_budget_text(report.output["runCost"])
    assert estimate.startswith(f"up to {estimated['stateTransitions']} state transitions, 30 target invocations (")
    assert "bounded by duration 1" in estimate and f"{estimated['versionsCreated']} versions" in estimate
    assert estimate.endswith(f"${estimated['totalUsd']:.4f} in all")
    assert run_cost_text(report.output["runCost"]).endswith(" in all")


def _report_duration_ms(response: dict[str, Any]) -> float:
    import base64
    import re

    tail = base64.b64decode(response["LogResult"]).decode()
    match = re.search(r"Duration: ([\d.]+) ms", tail) or re.search(r'"durationMs":\s*([\d.]+)', tail)
    assert match, tail
    return float(match.group(1))
