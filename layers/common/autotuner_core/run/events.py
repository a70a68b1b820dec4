"""`Tuning Completed` events: one per target to the account's event bus, for other workloads.

The detail schema is documented in docs/integration.md; it is a public contract.
"""

from __future__ import annotations

import json
from typing import Any

from autotuner_core.aws.calls import aws_call
from autotuner_core.cost import savings

DETAIL_TYPE = "Tuning Completed"
_MAX_ENTRIES = 10  # PutEvents accepts at most 10 entries per request


def completed_detail(record: dict[str, Any]) -> dict[str, Any]:
    """What a `Tuning Completed` event says about one target's run record."""
    recommendation = record.get("recommendation") or {}
    detail = {
        "executionArn": record["executionArn"],
        "target": record["target"],
        "outcome": record["outcome"],
        "memoryBefore": (record.get("before") or {}).get("MemorySize"),
        "memoryAfter": (record.get("after") or {}).get("MemorySize"),
        "errorType": record.get("errorType"),
        "errorMessage": record.get("errorMessage"),
        "recommendation": recommendation.get("summary"),
        # Numbers, not the record's Decimals (json.dumps would write those as strings).
        "projectedSavings": savings.savings_of(record),
        # Where the function's size is declared and the line to change, and a deploy's revert (docs/drift.md).
        "iac": record.get("iac"),
        "deployRevert": record.get("deployRevert"),
    }
    return {key: value for key, value in detail.items() if value is not None}


def publish_completed(events: Any, bus: str, source: str, records: list[dict[str, Any]]) -> int:
    """Put one event per record; a partial failure is an error, never silently dropped."""
    from autotuner_core.policy.errors import ServiceUnavailableError

    entries = [
        {
            "Source": source,
            "DetailType": DETAIL_TYPE,
            "Detail": json.dumps(completed_detail(record), default=str),
            "EventBusName": bus,
            "Resources": [record["target"]] if str(record["target"]).startswith("arn:") else [],
        }
        for record in records
    ]
    sent = 0
    for start in range(0, len(entries), _MAX_ENTRIES):
        batch = entries[start : start + _MAX_ENTRIES]
        with aws_call("events:PutEvents", bus):
            response = events.put_events(Entries=batch)
        if response.get("FailedEntryCount"):
            codes = sorted({entry.get("ErrorCode", "?") for entry in response["Entries"] if entry.get("ErrorCode")})
            raise ServiceUnavailableError(
                f"events:PutEvents on {bus}: {response['FailedEntryCount']} of {len(batch)} entries failed ({codes})"
            )
        sent += len(batch)
    return sent
