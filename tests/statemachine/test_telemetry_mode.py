"""Telemetry mode executed on the embedded AWS: findings from production history, nothing invoked or changed.

The embedded account's functions have production history (events/accounts/demo-telemetry-account.json):
their REPORT lines in their log groups and their AWS/Lambda metrics, written from the same profile
model as invocations. Logs Insights is the embedded AWS's strict emulation (emulator/logs_insights.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.account import load_account
from emulator.cloud import EmbeddedAws

DEMO = Path(__file__).resolve().parents[2] / "events" / "accounts" / "demo-telemetry-account.json"


@pytest.fixture(scope="module")
def demo():
    with EmbeddedAws(load_account(DEMO)) as aws:
        yield aws


def test_done_when_the_first_function_is_recommended_from_telemetry_without_invoking_it(demo):
    # Given the demo account, whose first function has 14 days of history at 1,024 MB, using 65 MB
    first = load_account(DEMO).functions[0].name
    # When a telemetry run asks about it
    report = demo.run({"targets": [first], "mode": "telemetry"}).as_json()
    # Then the run succeeds with a RECOMMENDED record from telemetry
    assert report["status"] == "SUCCEEDED"
    (record,) = report["records"]
    assert (record["outcome"], record["source"]) == ("RECOMMENDED", "telemetry")
    assert record["finding"]["finding"] == "MEMORY_OVERPROVISIONED"
    assert record["finding"]["recommendedMemoryMb"] == 512
    # And the tuner invoked nothing and called Lambda's control plane at most twice, changing nothing
    assert report["tunerInvocations"] == 0
    assert report["lambdaControlPlaneCalls"] <= 2
    assert report["mutatingCalls"] == 0
    assert demo.function_configuration(first)["MemorySize"] == 1024
    # And the record says what was read: 14 days of its log group, 400 invocations a day, the bytes billed
    logs = record["telemetry"]["logs"]
    assert (logs["logGroup"], logs["windowDays"], logs["recordsMatched"]) == (f"/aws/lambda/{first}", 14, 5600)
    assert logs["bytesScanned"] == logs["estimatedBytes"] > 0
    assert logs["scanUsd"] == round(logs["bytesScanned"] / 1e9 * 0.005, 9)  # Logs Insights: $0.005 per GB scanned
    assert record["telemetry"]["metrics"]["invocations"] == 5600
    assert record["projectedSavings"]["perMonthUsd"] > 0
    assert record["projectedSavings"]["lowPerMonthUsd"] <= record["projectedSavings"]["highPerMonthUsd"]
    # And the run's output lists the function's saving as any recommendation's
    (row,) = report["output"]["savings"]
    assert (row["memoryBefore"], row["memoryAfter"]) == (1024, 512)
    assert row["savingsPerMonthUsd"] == record["projectedSavings"]["perMonthUsd"]


def test_a_json_logging_function_with_its_own_log_group_and_a_size_change_is_read_as_a_measured_curve(demo):
    # Given report-builder: JSON logs in /shared/report-builder (its LoggingConfig), a week at 1,024 MB then 512 MB
    report = demo.run({"targets": ["report-builder"], "mode": "telemetry"}).as_json()
    (record,) = report["records"]
    # Then its log group is the one LoggingConfig names, and both sizes are in the evidence
    assert record["telemetry"]["logs"]["logGroup"] == "/shared/report-builder"
    assert record["telemetry"]["logs"]["logFormat"] == "JSON"
    assert [size["memorySize"] for size in record["telemetry"]["sizes"]] == [512, 1024]
    assert [size["invocations"] for size in record["telemetry"]["sizes"]] == [700, 700]
    # And, CPU-bound, it costs about the same at both: the curve keeps the current size
    assert record["finding"]["finding"] == "OPTIMIZED"
    assert any("measured curve" in reason for reason in record["finding"]["reasons"])


def test_a_function_without_history_gets_insufficient_data_with_its_reason(demo):
    report = demo.run({"targets": ["nightly-export"], "mode": "telemetry"}).as_json()
    assert report["status"] == "SUCCEEDED"
    (record,) = report["records"]
    assert record["outcome"] == "RECOMMENDED"
    assert record["finding"]["finding"] == "INSUFFICIENT_DATA"
    assert any(
        "log group /aws/lambda/nightly-export does not exist" in reason for reason in record["finding"]["reasons"]
    )
