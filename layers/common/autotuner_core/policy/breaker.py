"""Per-target circuit breaker and lease, kept in the tuner's state table.

Breaker (one item per target, ``pk = BREAKER#<function ARN>``):

    CLOSED --N consecutive failed runs--> OPEN --cooldown passes--> HALF_OPEN (one probe)
    HALF_OPEN --probe succeeds--> CLOSED        HALF_OPEN --probe fails--> OPEN (cooldown restarts)

Every transition is a conditional write on the item's ``version``, so two executions racing
on one breaker can never both win the probe and no update is lost. The breaker fails closed:
if it cannot be read, the error propagates (transient, then a recorded failure) and the target
is not tuned. TTL deletes idle items eventually, but TTL is lazy, so state is decided by the
timestamps in the item, never by whether it still exists.

Lease (``pk = LEASE#<function ARN>``): a conditional put with an expiry, so two executions never
tune one function at once, and a crashed execution's lease simply runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from autotuner_core.aws.calls import aws_call
from autotuner_core.documents.task import Admission
from autotuner_core.policy.errors import CircuitOpenError, ConditionFailedError, ThrottledError, TuningInProgressError

_MAX_RACES = 5  # re-reads after losing a conditional write before giving up (transient)
_IDLE_ITEM_DAYS = 90  # TTL for breaker items nobody touches


class CircuitState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int  # consecutive failed runs that open the circuit
    cooldown_seconds: int  # how long it stays open
    probe_seconds: int  # how long a probe may run before another execution may take over


@dataclass(frozen=True)
class Breaker:
    state: CircuitState
    failures: int
    version: int
    opened_at: float | None = None
    retry_at: float | None = None  # OPEN until then
    probe_owner: str | None = None
    probe_expires_at: float | None = None
    last_settled_by: str | None = None  # the execution whose result was counted last

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> Breaker:
        if not item:
            return cls(state=CircuitState.CLOSED, failures=0, version=0)
        return cls(
            state=CircuitState(item["state"]["S"]),
            failures=int(item.get("failures", {}).get("N", "0")),
            version=int(item["version"]["N"]),
            opened_at=_number(item, "openedAt"),
            retry_at=_number(item, "retryAt"),
            probe_owner=item.get("probeOwner", {}).get("S"),
            probe_expires_at=_number(item, "probeExpiresAt"),
            last_settled_by=item.get("lastSettledBy", {}).get("S"),
        )


def _number(item: dict[str, Any], key: str) -> float | None:
    value = item.get(key, {}).get("N")
    return float(value) if value is not None else None


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def breaker_key(target: str) -> str:
    return f"BREAKER#{target}"


def lease_key(target: str) -> str:
    return f"LEASE#{target}"


class BreakerStore:
    """Reads and conditionally writes breaker and lease items in one DynamoDB table."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table

    def read(self, target: str) -> Breaker:
        with aws_call("dynamodb:GetItem", self.table):
            item = self.dynamodb.get_item(
                TableName=self.table, Key={"pk": {"S": breaker_key(target)}}, ConsistentRead=True
            ).get("Item")
        return Breaker.from_item(item)

    def write(self, target: str, expected_version: int, new: Breaker, now: float) -> None:
        """Replace the item only if nobody changed it since ``expected_version`` was read."""
        item: dict[str, Any] = {
            "pk": {"S": breaker_key(target)},
            "kind": {"S": "breaker"},
            "target": {"S": target},
            "state": {"S": new.state.value},
            "failures": {"N": str(new.failures)},
            "version": {"N": str(expected_version + 1)},
            "updatedAt": {"N": f"{now:.3f}"},
            "expiresAt": {"N": str(int(now) + _IDLE_ITEM_DAYS * 86_400)},
        }
        for key, value in (
            ("openedAt", new.opened_at),
            ("retryAt", new.retry_at),
            ("probeExpiresAt", new.probe_expires_at),
        ):
            if value is not None:
                item[key] = {"N": f"{value:.3f}"}
        if new.probe_owner:
            item["probeOwner"] = {"S": new.probe_owner}
        if new.last_settled_by:
            item["lastSettledBy"] = {"S": new.last_settled_by}
        if expected_version == 0:
            condition = "attribute_not_exists(pk)"
            values: dict[str, Any] = {}
        else:
            condition = "#version = :expected"
            values = {":expected": {"N": str(expected_version)}}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Item": item,
            "ConditionExpression": condition,
        }
        if values:
            kwargs["ExpressionAttributeNames"] = {"#version": "version"}
            kwargs["ExpressionAttributeValues"] = values
        with aws_call("dynamodb:PutItem", self.table):
            self.dynamodb.put_item(**kwargs)

    # -- lease ----------------------------------------------------------------------------
    def acquire_lease(self, target: str, owner: str, now: float, seconds: int) -> None:
        """Take the target's lease, or raise TuningInProgressError naming the holder."""
        try:
            with aws_call("dynamodb:PutItem", self.table):
                self.dynamodb.put_item(
                    TableName=self.table,
                    Item={
                        "pk": {"S": lease_key(target)},
                        "kind": {"S": "lease"},
                        "target": {"S": target},
                        "owner": {"S": owner},
                        "acquiredAt": {"N": f"{now:.3f}"},
                        "leaseExpiresAt": {"N": f"{now + seconds:.3f}"},
                        "expiresAt": {"N": str(int(now + seconds) + 86_400)},
                    },
                    # Free, expired (TTL may not have deleted it yet), or already ours (a retry).
                    ConditionExpression="attribute_not_exists(pk) OR leaseExpiresAt < :now OR #owner = :me",
                    ExpressionAttributeNames={"#owner": "owner"},
                    ExpressionAttributeValues={":now": {"N": f"{now:.3f}"}, ":me": {"S": owner}},
                )
        except ConditionFailedError:
            holder = self._lease_holder(target)
            raise TuningInProgressError(
                f"{target} is being tuned by {holder or 'another execution'}; not tuning it twice at once"
            ) from None

    def release_lease(self, target: str, owner: str) -> bool:
        """Give the lease back if we hold it; a lease that already passed to someone else stays theirs."""
        try:
            with aws_call("dynamodb:DeleteItem", self.table):
                self.dynamodb.delete_item(
                    TableName=self.table,
                    Key={"pk": {"S": lease_key(target)}},
                    ConditionExpression="attribute_not_exists(pk) OR #owner = :me",
                    ExpressionAttributeNames={"#owner": "owner"},
                    ExpressionAttributeValues={":me": {"S": owner}},
                )
        except ConditionFailedError:
            return False
        return True

    def _lease_holder(self, target: str) -> str | None:
        with aws_call("dynamodb:GetItem", self.table):
            item = self.dynamodb.get_item(
                TableName=self.table, Key={"pk": {"S": lease_key(target)}}, ConsistentRead=True
            ).get("Item")
        owner: str | None = (item or {}).get("owner", {}).get("S")
        return owner


def admit(store: BreakerStore, target: str, execution: str, policy: BreakerPolicy, now: float) -> Admission:
    """Decide whether ``execution`` may work on ``target``; raise CircuitOpenError if not.

    An OPEN circuit costs one read. When its cooldown has passed, executions race to move it to
    HALF_OPEN with a conditional write: exactly one wins and probes, the others are skipped.
    """
    for _ in range(_MAX_RACES):
        breaker = store.read(target)
        if breaker.state is CircuitState.CLOSED:
            return Admission.NORMAL
        if breaker.state is CircuitState.OPEN and now < (breaker.retry_at or 0):
            raise CircuitOpenError(
                f"circuit for {target} is OPEN after {breaker.failures} consecutive failed runs; "
                f"next try after {_iso(breaker.retry_at or now)}"
            )
        if breaker.state is CircuitState.HALF_OPEN and now < (breaker.probe_expires_at or 0):
            if breaker.probe_owner == execution:
                return Admission.PROBE  # this execution's retry of its own probe, still in its window
            raise CircuitOpenError(
                f"circuit for {target} is HALF_OPEN and {breaker.probe_owner} is probing it; "
                f"next try after {_iso(breaker.probe_expires_at or now)}"
            )
        # OPEN with the cooldown over, or a probe whose window ran out: try to become the probe
        # (a fresh window, even for the same execution).
        probing = Breaker(
            state=CircuitState.HALF_OPEN,
            failures=breaker.failures,
            version=breaker.version,
            opened_at=breaker.opened_at,
            retry_at=breaker.retry_at,
            probe_owner=execution,
            probe_expires_at=now + policy.probe_seconds,
        )
        try:
            store.write(target, breaker.version, probing, now)
            return Admission.PROBE
        except ConditionFailedError:
            continue  # someone else moved first: read again and decide again
    raise _contended(target)


def settle(
    store: BreakerStore,
    target: str,
    execution: str,
    policy: BreakerPolicy,
    now: float,
    *,
    succeeded: bool,
) -> Breaker:
    """Record a counted run's result on the breaker and return the new state."""
    for _ in range(_MAX_RACES):
        breaker = store.read(target)
        new = _next(breaker, execution, policy, now, succeeded=succeeded)
        if new == breaker:
            return breaker
        try:
            store.write(target, breaker.version, new, now)
            return new
        except ConditionFailedError:
            continue
    raise _contended(target)


def _next(breaker: Breaker, execution: str, policy: BreakerPolicy, now: float, *, succeeded: bool) -> Breaker:
    if breaker.last_settled_by == execution:
        return breaker  # a retried settle: this run's result is already counted
    if breaker.state is CircuitState.OPEN:
        return breaker  # only a probe decides an open circuit (this run was admitted before it opened)
    if breaker.state is CircuitState.HALF_OPEN and breaker.probe_owner != execution:
        return breaker  # not our probe to decide
    if succeeded:
        if not breaker.failures and breaker.state is CircuitState.CLOSED:
            return breaker
        return Breaker(state=CircuitState.CLOSED, failures=0, version=breaker.version, last_settled_by=execution)
    failures = breaker.failures + 1
    if breaker.state is CircuitState.HALF_OPEN or failures >= policy.failure_threshold:
        return Breaker(
            state=CircuitState.OPEN,
            failures=failures,
            version=breaker.version,
            opened_at=now,
            retry_at=now + policy.cooldown_seconds,
            last_settled_by=execution,
        )
    return Breaker(state=CircuitState.CLOSED, failures=failures, version=breaker.version, last_settled_by=execution)


def _contended(target: str) -> ThrottledError:
    return ThrottledError(f"breaker for {target} kept changing under concurrent executions; will retry")
