"""`Tuning Completed` events: the documented detail, and no silently dropped entry."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from autotuner_core.policy.errors import ServiceUnavailableError
from autotuner_core.run.events import DETAIL_TYPE, completed_detail, publish_completed

TARGET = "arn:aws:lambda:eu-west-1:123456789012:function:orders"
APPLIED = {
    "executionArn": "arn:aws:states:eu-west-1:123456789012:execution:sm:run-1",
    "target": TARGET,
    "outcome": "APPLIED",
    "before": {"MemorySize": 1024},
    "after": {"MemorySize": 512},
    "recommendation": {"summary": "cost: 512 MB is 40% cheaper"},
}


class FakeEvents:
    def __init__(self, failed: int = 0) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.failed = failed

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.batches.append(Entries)
        results = [
            {"ErrorCode": "InternalFailure"} if i < self.failed else {"EventId": str(i)} for i in range(len(Entries))
        ]
        return {"FailedEntryCount": min(self.failed, len(Entries)), "Entries": results}


def test_detail_carries_the_documented_fields_and_drops_empty_ones() -> None:
    # Given an applied run's record
    # When its event detail is built
    detail = completed_detail(APPLIED)
    # Then it names the execution, target, outcome, sizes and recommendation, and nothing empty
    assert detail == {
        "executionArn": APPLIED["executionArn"],
        "target": TARGET,
        "outcome": "APPLIED",
        "memoryBefore": 1024,
        "memoryAfter": 512,
        "recommendation": "cost: 512 MB is 40% cheaper",
    }


def test_one_event_per_record_batched_by_ten_on_the_named_bus() -> None:
    events = FakeEvents()
    records = [dict(APPLIED, target=f"{TARGET}-{index}") for index in range(12)]
    assert publish_completed(events, "default", "lambda-autotuner", records) == 12
    assert [len(batch) for batch in events.batches] == [10, 2]
    entry = events.batches[0][0]
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == ("lambda-autotuner", DETAIL_TYPE, "default")
    assert json.loads(entry["Detail"])["target"] == f"{TARGET}-0"
    assert entry["Resources"] == [f"{TARGET}-0"]


def test_a_rejected_entry_is_an_error_not_a_silent_drop() -> None:
    with pytest.raises(ServiceUnavailableError, match="1 of 1 entries failed"):
        publish_completed(FakeEvents(failed=1), "default", "lambda-autotuner", [APPLIED])


def test_detail_carries_the_projected_saving_as_numbers() -> None:
    # Given a record as RecordResult writes it: its saving in Decimals, ready for DynamoDB
    record = {
        **APPLIED,
        "projectedSavings": {
            "basis": "traffic",
            "perMillionUsd": Decimal("8.0"),
            "dailyInvocations": 100_000,
            "perMonthUsd": Decimal("24.333333"),
        },
    }
    events = FakeEvents()
    # When its event is put
    publish_completed(events, "default", "lambda-autotuner", [record])
    detail = json.loads(events.batches[0][0]["Detail"])
    # Then the event says what the decision saves a month, as JSON numbers (not Decimal strings)
    assert detail["projectedSavings"] == {
        "basis": "traffic",
        "perMillionUsd": 8.0,
        "dailyInvocations": 100_000,
        "perMonthUsd": 24.333333,
    }
