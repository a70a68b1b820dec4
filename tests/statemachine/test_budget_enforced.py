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
