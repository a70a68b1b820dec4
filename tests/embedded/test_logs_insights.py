"""The embedded Logs Insights: the tuner's queries answered from the history's REPORT lines, and AWS's refusals."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from emulator.account import FunctionProfile, HistorySegment, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws
from emulator.logs_insights import fields_of, run

QUERY = 'filter @type = "REPORT"\n| stats count(*) as invocations, max(@maxMemoryUsed) as maxUsed by @memorySize'


@pytest.fixture(scope="module")
def aws():
    account = SimulatedAccount(
        functions=[
            SimulatedFunction(
                name="orders-api",
                memory_size=1024,
                profile=FunctionProfile(preset="io-bound", seed=1),
                history=[
                    HistorySegment(days=2, invocations_per_day=50, memory_size=512),
                    HistorySegment(days=1, invocations_per_day=30),
                ],
            )
        ]
    )
    with EmbeddedAws(account) as embedded:
        yield embedded


def _query(aws, **kwargs):
    logs = aws.client("logs")
    now = int(time.time())
    kwargs.setdefault("startTime", now - 4 * 86_400)
    kwargs.setdefault("endTime", now)
    kwargs.setdefault("queryString", QUERY)
    query_id = logs.start_query(**kwargs)["queryId"]
    first = logs.get_query_results(queryId=query_id)
    return first, logs.get_query_results(queryId=query_id)


def _refusal(aws, **kwargs) -> str:
    with pytest.raises(ClientError) as refused:
        _query(aws, **kwargs)
    return str(refused.value.response["Error"]["Code"])


def test_the_history_answers_the_query_per_memory_size_and_counts_the_bytes_it_scanned(aws):
    first, answer = _query(aws, logGroupName="/aws/lambda/orders-api")
    # A query is running at first, then complete
    assert first["status"] == "Running" and answer["status"] == "Complete"
    rows = {cell["value"]: {c["field"]: c["value"] for c in row} for row in answer["results"] for cell in row[:1]}
    # Logs Insights reports sizes in bytes; two days at 512 MB, one at 1,024 MB
    assert {size: row["invocations"] for size, row in rows.items()} == {"512000000": "100", "1024000000": "30"}
    # Every event in the range is scanned (START, END and REPORT lines), and only REPORT lines match
    assert answer["statistics"]["recordsMatched"] == 130
    assert answer["statistics"]["recordsScanned"] > 130
    assert answer["statistics"]["bytesScanned"] > 0


def test_a_shorter_range_scans_fewer_bytes(aws):
    now = int(time.time())
    _, whole = _query(aws, logGroupName="/aws/lambda/orders-api")
    _, last_day = _query(aws, logGroupName="/aws/lambda/orders-api", startTime=now - 86_400)
    assert last_day["statistics"]["recordsMatched"] == 30
    assert 0 < last_day["statistics"]["bytesScanned"] < whole["statistics"]["bytesScanned"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"logGroupName": "/aws/lambda/nobody"}, "ResourceNotFoundException"),
        ({"logGroupNames": [f"/aws/lambda/orders-api-{n}" for n in range(51)]}, "InvalidParameterException"),
        (
            {"logGroupName": "/aws/lambda/orders-api", "logGroupNames": ["/aws/lambda/orders-api"]},
            "InvalidParameterException",
        ),
        (
            {"logGroupName": "/aws/lambda/orders-api", "startTime": 2_000_000_000, "endTime": 1_000_000_000},
            "InvalidParameterException",
        ),
        (
            {"logGroupName": "/aws/lambda/orders-api", "queryString": "fields @message | sort @timestamp desc"},
            "MalformedQueryException",
        ),
        (
            {
                "logGroupName": "/aws/lambda/orders-api",
                "queryString": 'filter @type = "REPORT" | stats median(@duration) as m by @memorySize',
            },
            "MalformedQueryException",
        ),
        ({"logGroupName": "/aws/lambda/orders-api", "queryString": "x" * 10_001}, "InvalidParameterException"),
    ],
)
def test_what_aws_refuses_is_refused(aws, kwargs, code):
    assert _refusal(aws, **kwargs) == code


def test_results_of_an_unknown_query_are_refused(aws):
    with pytest.raises(ClientError) as refused:
        aws.client("logs").get_query_results(queryId="00000000-0000-0000-0000-000000000000")
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_report_fields_are_discovered_as_logs_insights_names_them():
    line = (
        "REPORT RequestId: r1\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 60 MB\t"
    )
    fields = fields_of(line)
    assert fields["@type"] == "REPORT"
    assert (fields["@duration"], fields["@billedDuration"]) == (12.5, 13)
    assert (fields["@memorySize"], fields["@maxMemoryUsed"]) == (128_000_000, 60_000_000)
    assert "@initDuration" not in fields
    rows, matched = run(
        'filter @type = "REPORT" | stats pct(@duration, 50) as p by @memorySize', [line, "END RequestId: r1"]
    )
    assert matched == 1 and rows == [[{"field": "@memorySize", "value": "128000000"}, {"field": "p", "value": "12.5"}]]
