"""Reading an invocation's REPORT from the 4 KB log tail that Invoke(LogType="Tail") returns."""

from __future__ import annotations

import base64
import json

import pytest

from autotuner_core.measuring.report_line import decode_log_result, parse_report

REQUEST_ID = "6f1e5c1a-3b2d-4c8e-9f1a-2b3c4d5e6f70"
START = f"START RequestId: {REQUEST_ID} Version: $LATEST"
END = f"END RequestId: {REQUEST_ID}"
WARM = (
    f"REPORT RequestId: {REQUEST_ID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
    "Memory Size: 128 MB\tMax Memory Used: 18 MB\t"
)
COLD = (
    f"REPORT RequestId: {REQUEST_ID}\tDuration: 250.71 ms\tBilled Duration: 251 ms\t"
    "Memory Size: 1024 MB\tMax Memory Used: 87 MB\tInit Duration: 120.11 ms\t"
)
XRAY = "XRAY TraceId: 1-674589a1-3c5e0b2f7d9a4e6b8c1d2f3a\tSegmentId: 2b3c4d5e6f708192\tSampled: true"


def text_log(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def platform_report(metrics: dict[str, float], status: str = "success") -> str:
    return json.dumps(
        {
            "time": "2026-11-26T10:00:00.123Z",
            "type": "platform.report",
            "record": {"requestId": REQUEST_ID, "metrics": metrics, "status": status},
        }
    )


def tail_of(log: str, size: int = 4096) -> str:
    """What Lambda returns: the last 4 KB of the log, base64-encoded, then decoded as the caller does."""
    raw = log.encode("utf-8")[-size:]
    return decode_log_result(base64.b64encode(raw).decode("ascii"))


# --------------------------------------------------------------------------------------------
# Text log format
# --------------------------------------------------------------------------------------------


def test_a_warm_invocation_is_read_from_the_report_line() -> None:
    # Given a warm invocation's log
    log = text_log(START, "processing order 42", END, WARM)

    # When its REPORT is parsed
    sample = parse_report(log)

    # Then every field is read and there is no cold start
    assert sample is not None
    assert sample.duration_ms == 12.34
    assert sample.billed_duration_ms == 13
    assert sample.memory_size_mb == 128
    assert sample.max_memory_used_mb == 18
    assert sample.init_duration_ms is None
    assert sample.error is None  # set by the caller from the Invoke response


def test_a_cold_start_carries_its_init_duration_and_an_xray_line_after_the_report_is_skipped() -> None:
    # Given a cold start with active tracing: the XRAY line follows the REPORT
    log = text_log(START, END, COLD, XRAY)

    # When it is parsed
    sample = parse_report(log)

    # Then the REPORT is found and Init Duration marks the cold start
    assert sample is not None
    assert (sample.duration_ms, sample.billed_duration_ms, sample.memory_size_mb) == (250.71, 251, 1024)
    assert sample.init_duration_ms == 120.11


def test_a_tail_that_starts_mid_line_ignores_the_cut_first_line() -> None:
    # Given a log longer than 4 KB, so the tail starts in the middle of the function's output
    noisy = "x" * 6000
    log = text_log(START, f"payload dump: {noisy}", END, WARM)

    # When the tail Lambda returns is decoded and parsed
    tail = tail_of(log)
    sample = parse_report(tail)

    # Then the cut line is ignored and the REPORT at the end is read
    assert not tail.startswith("payload dump")
    assert sample is not None
    assert sample.duration_ms == 12.34


def test_a_cut_off_report_fragment_is_not_mistaken_for_a_report() -> None:
    # Given a tail whose only REPORT-like text is the end of a cut line
    tail = "ion: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\n"

    # When it is parsed
    # Then there is no sample
    assert parse_report(tail) is None


def test_the_last_report_wins_over_one_the_function_printed() -> None:
    # Given a function that logs a REPORT-looking line of its own before the platform's REPORT
    fake = "REPORT RequestId: fake\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 10240 MB"
    log = text_log(START, fake, END, WARM)

    # When it is parsed
    sample = parse_report(log)

    # Then the platform's (last) REPORT is the one read
    assert sample is not None
    assert sample.memory_size_mb == 128


def test_snapstart_restore_is_billed_but_is_not_a_cold_start_init() -> None:
    # Given a SnapStart restore: Restore Duration and Billed Restore Duration, no Init Duration
    report = (
        f"REPORT RequestId: {REQUEST_ID}\tDuration: 20.50 ms\tBilled Duration: 21 ms\tMemory Size: 512 MB\t"
        "Max Memory Used: 90 MB\tRestore Duration: 310.25 ms\tBilled Restore Duration: 120 ms\t"
    )

    # When it is parsed
    sample = parse_report(text_log(START, END, report))

    # Then Duration is not confused with Restore Duration, and the billed restore is charged
    assert sample is not None
    assert sample.duration_ms == 20.5
    assert sample.billed_duration_ms == 21 + 120
    assert sample.init_duration_ms is None


def test_a_report_with_spaces_instead_of_tabs_and_a_status_field_is_read() -> None:
    # Given a timed-out invocation's REPORT, fields separated by spaces, with a Status field
    report = (
        f"REPORT RequestId: {REQUEST_ID}  Duration: 3000.00 ms  Billed Duration: 3000 ms  "
        "Memory Size: 256 MB  Max Memory Used: 256 MB  Status: timeout"
    )

    # When it is parsed
    sample = parse_report(text_log(START, END, report))

    # Then each field is read by name
    assert sample is not None
    assert (sample.duration_ms, sample.billed_duration_ms, sample.memory_size_mb, sample.max_memory_used_mb) == (
        3000.0,
        3000,
        256,
        256,
    )


def test_a_tail_without_a_report_gives_none() -> None:
    # Given only the function's output (e.g. a log line cut before the REPORT was written)
    # When it is parsed
    # Then there is no sample, and no exception
    assert parse_report(text_log(START, "hello")) is None
    assert parse_report("") is None


# --------------------------------------------------------------------------------------------
# JSON log format
# --------------------------------------------------------------------------------------------


def test_a_json_platform_report_of_a_cold_start_is_read() -> None:
    # Given a JSON-format log: an application record, then the platform.report record
    app = json.dumps({"timestamp": "2026-11-26T10:00:00Z", "level": "INFO", "message": "order 42 done"})
    report = platform_report(
        {
            "durationMs": 250.71,
            "billedDurationMs": 251,
            "memorySizeMB": 1024,
            "maxMemoryUsedMB": 87,
            "initDurationMs": 120.11,
        }
    )

    # When it is parsed
    sample = parse_report(text_log(app, report))

    # Then the metrics are read
    assert sample is not None
    assert (sample.duration_ms, sample.billed_duration_ms, sample.memory_size_mb) == (250.71, 251, 1024)
    assert sample.max_memory_used_mb == 87
    assert sample.init_duration_ms == 120.11


def test_a_json_warm_report_after_a_cut_first_record_is_read() -> None:
    # Given a JSON-format tail whose first record is cut in half
    earlier = platform_report({"durationMs": 9.0, "billedDurationMs": 9, "memorySizeMB": 512, "maxMemoryUsedMB": 70})
    report = platform_report({"durationMs": 4.2, "billedDurationMs": 5, "memorySizeMB": 512, "maxMemoryUsedMB": 71})
    tail = earlier[len(earlier) // 2 :] + "\n" + report + "\n"

    # When it is parsed
    sample = parse_report(tail)

    # Then the whole record is read; no init duration on a warm start
    assert sample is not None
    assert (sample.duration_ms, sample.billed_duration_ms, sample.max_memory_used_mb) == (4.2, 5, 71)
    assert sample.init_duration_ms is None


def test_an_application_record_that_mentions_platform_report_is_not_a_report() -> None:
    # Given the function logging a JSON object that contains the string but is not the platform's
    app = json.dumps({"message": "see platform.report", "type": "app", "record": {"metrics": {"durationMs": 1}}})

    # When it is parsed
    # Then there is no sample
    assert parse_report(text_log(app)) is None


# --------------------------------------------------------------------------------------------
# decode_log_result
# --------------------------------------------------------------------------------------------


def test_log_result_is_decoded_from_base64() -> None:
    # Given Invoke's LogResult for a log
    log = text_log(START, END, WARM)
    encoded = base64.b64encode(log.encode()).decode()

    # When it is decoded
    # Then the text comes back; an absent LogResult is an empty log
    assert decode_log_result(encoded) == log
    assert decode_log_result("") == ""
    assert decode_log_result(None) == ""


def test_a_tail_cut_inside_a_utf8_character_still_decodes() -> None:
    # Given a 4 KB cut that splits a multi-byte character at the start
    report = ("\n" + WARM).encode()
    raw = "é".encode() * 3000 + report
    cut = raw[-(len(report) + 2 * 1000 + 1) :]  # starts on the second byte of an "é"

    # When it is decoded and parsed
    text = decode_log_result(base64.b64encode(cut).decode())

    # Then the broken character is replaced and the REPORT is still read
    assert text.startswith("\ufffd")
    assert parse_report(text) is not None


def test_log_result_that_is_not_base64_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not base64"):
        decode_log_result("REPORT RequestId: not encoded!")
