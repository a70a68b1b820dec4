"""Telemetry mode's Logs Insights scan cap (template parameter TelemetryMaxScanBytes), on the embedded AWS.

The log group's IncomingBytes over the lookback is the estimate; what does not fit is read over
fewer days, or not at all, and the record says which.
"""

from __future__ import annotations

from emulator.account import FunctionProfile, HistorySegment, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws

TAGS = {"autotune": "enabled"}


def test_log_groups_over_the_scan_cap_are_read_over_fewer_days_or_not_at_all():
    # Given a 500 kB scan cap; orders-api logs about 106 kB a day, chatty about 1.3 MB a day
    account = SimulatedAccount(
        parameters={**SimulatedAccount().parameters, "TelemetryMaxScanBytes": "500000"},
        functions=[
            SimulatedFunction(
                name="orders-api",
                memory_size=1024,
                timeout=30,
                tags=TAGS,
                profile=FunctionProfile(preset="io-bound", seed=7),
                history=[HistorySegment(days=14, invocations_per_day=400)],
            ),
            SimulatedFunction(
                name="chatty",
                memory_size=512,
                tags=TAGS,
                history=[HistorySegment(days=3, invocations_per_day=5000)],
            ),
        ],
    )
    with EmbeddedAws(account) as aws:
        report = aws.run({"targets": ["orders-api", "chatty"], "mode": "telemetry"}).as_json()
    assert report["status"] == "SUCCEEDED"
    records = {record["target"].rsplit(":", 1)[-1]: record for record in report["records"]}
    # Then orders-api is read over its last 4 days (4 x 106 kB fit), and the record says why
    shortened = records["orders-api"]["telemetry"]["logs"]
    assert shortened["windowDays"] == 4
    assert shortened["bytesScanned"] <= 500_000
    assert "read over the last 4 of 14 days" in shortened["note"]
    assert records["orders-api"]["telemetry"]["sizes"][0]["invocations"] == 1600
    # And chatty is not read at all: INSUFFICIENT_DATA, saying so
    skipped = records["chatty"]
    assert skipped["telemetry"]["logs"]["windowDays"] == 0
    assert skipped["telemetry"]["logs"]["bytesScanned"] == 0
    assert skipped["finding"]["finding"] == "INSUFFICIENT_DATA"
    assert any("exceeds the scan cap" in reason for reason in skipped["finding"]["reasons"])
    assert report["tunerInvocations"] == 0
