"""The breaker tests' table: the target, the policy, the executions, a recording client and the item as stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from autotuner_core.policy.breaker import Admission, BreakerPolicy, BreakerStore, admit, settle

REGION = "eu-west-1"
TABLE = "autotuner-State"
TARGET = "arn:aws:lambda:eu-west-1:123456789012:function:orders-api"
BREAKER_KEY = {"pk": {"S": f"BREAKER#{TARGET}"}}
LEASE_KEY = {"pk": {"S": f"LEASE#{TARGET}"}}
POLICY = BreakerPolicy(failure_threshold=3, cooldown_seconds=600, probe_seconds=300)
T0 = 1_764_151_200.0  # 2025-11-26T10:00:00Z; whole seconds so stored values read back exactly
EXEC_A = "arn:aws:states:eu-west-1:123456789012:execution:autotuner:run-a"
EXEC_B = "arn:aws:states:eu-west-1:123456789012:execution:autotuner:run-b"
EXEC_C = "arn:aws:states:eu-west-1:123456789012:execution:autotuner:run-c"


class RecordingClient:
    """The moto client, recording every operation; ``fail_next`` makes the next calls raise instead."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_next: dict[str, list[Exception]] = {}

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            if self.fail_next.get(name):
                raise self.fail_next[name].pop(0)
            return method(**kwargs)

        return call

    def count(self, operation: str) -> int:
        return sum(1 for name, _ in self.calls if name == operation)


def stored(dynamodb: Any, key: dict[str, Any] = BREAKER_KEY) -> dict[str, Any] | None:
    """The item as an operator sees it in the table: plain strings and numbers."""
    item = dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")
    if item is None:
        return None
    return {name: (float(value["N"]) if "N" in value else value["S"]) for name, value in item.items()}


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def fail(store: BreakerStore, times: int, now: float, execution: str = EXEC_A) -> None:
    for i in range(times):
        settle(store, TARGET, f"{execution}-{i}", POLICY, now + i, succeeded=False)


def open_circuit(store: BreakerStore, now: float) -> float:
    """Three consecutive failed runs, the last at ``now``; returns the time the circuit may be retried."""
    fail(store, POLICY.failure_threshold - 1, now - 10)
    settle(store, TARGET, EXEC_C, POLICY, now, succeeded=False)
    return now + POLICY.cooldown_seconds


def probing(store: BreakerStore, now: float, prober: str = EXEC_A) -> float:
    """An OPEN circuit whose cooldown ended at ``now``, probed by ``prober``; returns the probe deadline."""
    retry_at = open_circuit(store, now - POLICY.cooldown_seconds)
    assert admit(store, TARGET, prober, POLICY, retry_at) is Admission.PROBE
    return retry_at + POLICY.probe_seconds


def put_raw(dynamodb: Any, **attributes: str | float) -> None:
    """Write a breaker item directly (as an earlier execution, or a version of the code, left it)."""
    item: dict[str, Any] = dict(BREAKER_KEY)
    for name, value in attributes.items():
        item[name] = {"S": value} if isinstance(value, str) else {"N": str(value)}
    dynamodb.put_item(TableName=TABLE, Item=item)
