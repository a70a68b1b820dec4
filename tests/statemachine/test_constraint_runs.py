"""Constraints on what may be applied, executed on the embedded AWS.

The demo sweep's pdf-renderer (2,048 MB, the memory-hungry preset, seed 4) under the cost
strategy: without a constraint the run applies a size more than 50 % slower; with
``maxDurationIncreasePct`` it applies one within the limit, or keeps the current size, and the
table (the run record, the CLI's table, the HTML report) says which sizes the constraint kept out.
"""

from __future__ import annotations

from typing import Any

from autotuner.reports import render_table
from emulator.account import FunctionProfile, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws, RunReport

INPUT = {
    "targets": ["pdf-renderer"],
    "memorySizes": [256, 512, 1024, 2048],
    "invocations": 5,
    "payload": {"source": "lambda-autotuner", "synthetic": True},
    "strategy": "cost",
    "apply": True,
}


def account() -> SimulatedAccount:
    return SimulatedAccount(
        functions=[
            SimulatedFunction(
                name="pdf-renderer",
                memory_size=2048,
                timeout=120,
                architecture="x86_64",
                tags={"autotune": "enabled"},
                profile=FunctionProfile(preset="memory-hungry", seed=4),
            )
        ]
    )


def tuned(**constraints: Any) -> tuple[RunReport, int, str]:
    """The run, the function's memory after it, and the HTML report the run wrote."""
    with EmbeddedAws(account()) as aws:
        report = aws.run({**INPUT, **constraints})
        memory = aws.function_configuration("pdf-renderer")["MemorySize"]
        bucket = aws.stack.outputs["SweepBucketName"]
        key = f"reports/{report.execution_arn.rsplit(':', 1)[-1]}/report.html"
        page = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return report, memory, page


def rows(report: RunReport) -> dict[int, dict[str, Any]]:
    (record,) = report.records
    return {row["memorySize"]: row for row in record["configurations"]}


def test_without_a_constraint_the_cost_strategy_applies_a_much_slower_size():
    report, memory, _ = tuned()
    assert report.status == "SUCCEEDED"
    (record,) = report.records
    recommendation = record["recommendation"]
    # The baseline the constraint is for: the run moves 2,048 MB down and the function gets over 50 % slower
    assert memory == recommendation["memorySize"] < 2048
    assert recommendation["speedChangePct"] > 50
    assert not any("maxDurationIncreasePct" in (row.get("excluded") or "") for row in rows(report).values())


def test_max_duration_increase_stops_the_much_slower_size_and_the_table_says_why():
    # When the same run says no size may be more than 50 % slower than now
    report, memory, page = tuned(maxDurationIncreasePct=50)
    assert report.status == "SUCCEEDED"
    (record,) = report.records
    recommendation = record["recommendation"]
    # Then it applies a size within the limit, still cheaper than 2,048 MB
    assert record["outcome"] == "APPLIED"
    assert memory == recommendation["memorySize"] == 1536
    assert recommendation["speedChangePct"] <= 50 and recommendation["costChangePct"] < 0
    # And every cheaper size more than 50 % slower is in the record as excluded, with the numbers
    table = rows(report)
    for size in (483, 512, 1024):
        reason = table[size]["excluded"]
        assert reason.startswith("maxDurationIncreasePct: +") and " over +50 % (" in reason
        assert "ms at the current 2,048 MB)" in reason
        assert table[size]["meanMs"] is not None  # measured: the row still shows what it did
    assert table[1536].get("excluded") is None
    assert recommendation["summary"].endswith("483 MB, 512 MB, 1,024 MB rank better but break maxDurationIncreasePct")
    # And the CLI's table marks them and prints each reason in full
    text = render_table(record)
    assert "excluded: maxDurationIncreasePct: +" in text
    assert f"  1024 MB excluded: {table[1024]['excluded']}" in text
    # And so does the HTML report the run wrote
    assert table[512]["excluded"].replace("'", "&#x27;") in page


def test_when_no_size_meets_the_constraint_the_current_size_is_kept_and_the_record_says_why():
    # When no size may be more than 5 % slower: every cheaper size is
    report, memory, _ = tuned(maxDurationIncreasePct=5)
    assert report.status == "SUCCEEDED"
    (record,) = report.records
    # Then nothing changes, and the record says which sizes the constraint excluded
    assert memory == 2048
    assert record["recommendation"]["memorySize"] == 2048
    assert record["outcome"] != "APPLIED"
    assert record["recommendation"]["summary"].startswith(
        "cost: keep the current 2048 MB: every size that ranks better breaks a constraint"
    )
    excluded = {size for size, row in rows(report).items() if "maxDurationIncreasePct" in (row.get("excluded") or "")}
    assert {483, 512, 1024, 1536} <= excluded
