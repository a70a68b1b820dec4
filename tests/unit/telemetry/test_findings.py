"""Telemetry findings on unit data: Logs Insights rows (text and JSON formats) in, a finding with its money out."""

from __future__ import annotations

import pytest

from autotuner_core.cost import prices, savings
from autotuner_core.documents.telemetry import (
    FindingKind,
    LogsRead,
    MetricTotals,
    PerformanceRisk,
    SizeTelemetry,
    TelemetryEvidence,
)
from autotuner_core.telemetry import findings, queries


def text_row(memory_mb: int, **values: float) -> list[dict[str, str]]:
    """A row as Logs Insights answers the text-format query: sizes in bytes (1 MB = 1,000,000)."""
    row = {
        "@memorySize": memory_mb * 1_000_000,
        "invocations": 600,
        "durationP50": 100,
        "durationP90": 120,
        "durationP99": 150,
        "billedAvg": 101,
        "billedP99": 151,
        "maxUsedP99": 60_000_000,
        "maxUsedMax": 62_000_000,
        "coldStarts": 6,
        "initAvg": 180,
        "timeouts": 0,
        "outOfMemory": 0,
        **values,
    }
    return [{"field": key, "value": str(value)} for key, value in row.items()]


def json_row(memory_mb: int, **values: float) -> list[dict[str, str]]:
    """A row of the JSON-format query: record.metrics keep MB."""
    cells = {cell["field"]: cell["value"] for cell in text_row(memory_mb, **values)}
    cells["record.metrics.memorySizeMB"] = str(memory_mb)
    del cells["@memorySize"]
    for name in ("maxUsedP99", "maxUsedMax"):
        cells[name] = str(float(cells[name]) / 1_000_000)
    return [{"field": key, "value": value} for key, value in cells.items()]


def evidence(sizes: list[SizeTelemetry], *, invocations: float = 8400, lookback: int = 14) -> TelemetryEvidence:
    logs = LogsRead(log_group="/aws/lambda/f", log_format="Text", scan_cap_bytes=10**9, window_days=lookback)
    return TelemetryEvidence(
        lookback_days=lookback, logs=logs, metrics=MetricTotals(invocations=invocations), sizes=sizes
    )


def decide(sizes: list[SizeTelemetry], memory_mb: int = 1024, timeout_s: int = 30, **more: float):
    return findings.decide(
        evidence(sizes, **more), memory_mb=memory_mb, timeout_s=timeout_s, region="us-east-1", architecture="x86_64"
    )


def test_text_and_json_rows_read_as_the_same_sizes_in_megabytes():
    # Given the same figures as the text query and the JSON query answer them
    text = queries.read_rows([text_row(1024)], queries.TEXT)
    from_json = queries.read_rows([json_row(1024)], queries.JSON)
    # Then both read as one 1,024 MB size that used 62 MB at most, with its cold starts
    assert text == from_json
    (size,) = text
    assert (size.memory_size, size.max_memory_used_max_mb, size.cold_starts) == (1024, 62, 6)
    assert size.cold_start_share == pytest.approx(0.01)


def test_the_queries_ask_for_report_records_grouped_by_memory_size():
    assert queries.report_query(queries.TEXT).startswith('filter @type = "REPORT"\n| stats count(*) as invocations')
    assert queries.report_query(queries.TEXT).endswith("by @memorySize")
    assert queries.report_query(queries.JSON).startswith('filter type = "platform.report"')
    assert queries.report_query(queries.JSON).endswith("by record.metrics.memorySizeMB")


def test_one_size_far_above_its_memory_is_overprovisioned_by_at_most_half_with_a_priced_range():
    # Given 14 days at 1,024 MB using at most 62 MB, 600 invocations a day
    sizes = queries.read_rows([text_row(1024)], queries.TEXT)
    finding = decide(sizes)
    # Then telemetry recommends half the size (how duration depends on memory is not in one size's logs)
    assert finding.finding is FindingKind.MEMORY_OVERPROVISIONED
    assert finding.recommended_memory_mb == 512
    assert finding.performance_risk is PerformanceRisk.MEDIUM
    # And the saving is priced with the cost formulas: none if CPU-bound (twice as long), half if not
    rates = prices.lambda_prices("us-east-1")
    now = prices.invocation_cost_usd(1024, 101, rates)
    best = (now - prices.invocation_cost_usd(512, 101, rates)) * 1_000_000
    assert finding.savings is not None
    assert finding.savings.high_per_month_usd == pytest.approx(savings.per_month(best, 600), rel=1e-4)
    assert finding.savings.low_per_month_usd == pytest.approx(0, abs=1e-9)
    assert finding.savings.daily_invocations == 600


def test_a_size_change_within_the_lookback_is_a_measured_curve_and_the_cheaper_size_wins():
    # Given a week at 1,024 MB and a week at 512 MB, where the run takes only a little longer at 512 MB
    rows = [text_row(1024, invocations=300), text_row(512, invocations=300, billedAvg=110, durationP99=160)]
    sizes = queries.read_rows(rows, queries.TEXT)
    finding = decide(sizes)
    # Then the measured curve decides: 512 MB, at its own billed duration, low risk
    assert finding.finding is FindingKind.MEMORY_OVERPROVISIONED
    assert finding.recommended_memory_mb == 512
    assert finding.performance_risk is PerformanceRisk.LOW
    assert any("measured curve" in reason for reason in finding.reasons)
    rates = prices.lambda_prices("us-east-1")
    measured = (prices.invocation_cost_usd(1024, 101, rates) - prices.invocation_cost_usd(512, 110, rates)) * 1e6
    assert finding.savings is not None
    assert finding.savings.per_million_usd == pytest.approx(measured, rel=1e-4)
    assert finding.savings.low_per_month_usd < finding.savings.per_month_usd < finding.savings.high_per_month_usd


def test_a_curve_where_the_smaller_size_costs_as_much_keeps_the_current_size():
    # Given a CPU-bound function: at half the size it runs twice as long
    rows = [text_row(1024, invocations=300), text_row(512, invocations=300, billedAvg=202, durationP99=300)]
    finding = decide(queries.read_rows(rows, queries.TEXT))
    assert finding.finding is FindingKind.OPTIMIZED
    assert finding.recommended_memory_mb == 1024


@pytest.mark.parametrize(
    ("values", "evidence_text"),
    [
        ({"outOfMemory": 3, "maxUsedMax": 1_024_000_000}, "ran out of memory"),
        ({"timeouts": 2}, "timed out"),
        ({"maxUsedMax": 950_000_000}, "Max Memory Used reached 950 MB"),
    ],
)
def test_kills_timeouts_and_memory_near_the_limit_are_underprovisioned(values, evidence_text):
    finding = decide(queries.read_rows([text_row(1024, **values)], queries.TEXT))
    assert finding.finding is FindingKind.MEMORY_UNDERPROVISIONED
    assert finding.recommended_memory_mb is not None and finding.recommended_memory_mb > 1024
    assert any(evidence_text in reason for reason in finding.reasons)
    # And the larger size costs more: the saving is negative
    assert finding.savings is not None and finding.savings.per_month_usd < 0


def test_a_function_without_logs_or_metrics_is_insufficient_data_with_its_reason():
    finding = decide([], invocations=0)
    assert finding.finding is FindingKind.INSUFFICIENT_DATA
    assert finding.reasons == ["no invocations and no REPORT lines in the last 14 days"]
    assert finding.savings is None


def test_too_few_report_lines_at_the_current_size_is_insufficient_data():
    finding = decide(queries.read_rows([text_row(1024, invocations=5)], queries.TEXT), invocations=5)
    assert finding.finding is FindingKind.INSUFFICIENT_DATA
    assert "5 REPORT lines at the current 1024 MB" in finding.reasons[0]
    # And where Compute Optimizer would give no answer, the finding says so
    assert finding.compute_optimizer_note is not None and "50 invocations in 14 days" in finding.compute_optimizer_note


def test_a_slow_function_near_its_timeout_needs_measurement():
    # Given p99 of 2 s against a 3 s timeout: halving the size could make a CPU-bound function time out
    finding = decide(queries.read_rows([text_row(1024, durationP99=2000)], queries.TEXT), timeout_s=3)
    assert finding.finding is FindingKind.NEEDS_MEASUREMENT
    assert finding.performance_risk is PerformanceRisk.HIGH
    assert any("against the 3 s timeout" in reason for reason in finding.reasons)


def test_above_one_vcpu_telemetry_cannot_tell_whether_the_extra_vcpus_are_used():
    finding = decide(queries.read_rows([text_row(4096)], queries.TEXT), memory_mb=4096)
    assert finding.finding is FindingKind.NEEDS_MEASUREMENT
    assert (
        finding.compute_optimizer_note == "Compute Optimizer gives no recommendation above 1792 MB; this finding does"
    )
