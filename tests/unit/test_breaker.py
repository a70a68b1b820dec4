"""The per-target circuit breaker and lease, against moto's DynamoDB (which evaluates conditions).

Time is passed in explicitly (``now``), so every transition is checked at exact instants. The
assertions read the table the way an operator would: the item's state, failures, retryAt and
probeOwner, and how many calls a decision cost.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

from autotuner_core.policy.breaker import (
    Admission,
    BreakerPolicy,
    BreakerStore,
    CircuitState,
    admit,
    settle,
)
from autotuner_core.policy.errors import CircuitOpenError, ThrottledError, TuningInProgressError

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


@pytest.fixture(scope="module")
def moto_dynamodb() -> Iterator[Any]:
    """A moto DynamoDB table shaped like the tuner's state table: key ``pk``, TTL on ``expiresAt``.

    Started once per module (starting moto and a client costs ~0.2 s); each test empties the table.
    """
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"}
        )
        yield client


@pytest.fixture
def dynamodb(moto_dynamodb: Any) -> Any:
    for item in moto_dynamodb.scan(TableName=TABLE, ProjectionExpression="pk")["Items"]:
        moto_dynamodb.delete_item(TableName=TABLE, Key=item)
    return moto_dynamodb


@pytest.fixture
def client(dynamodb: Any) -> RecordingClient:
    return RecordingClient(dynamodb)


@pytest.fixture
def store(client: RecordingClient) -> BreakerStore:
    return BreakerStore(client, TABLE)


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


# --------------------------------------------------------------------------------------------
# CLOSED
# --------------------------------------------------------------------------------------------


def test_no_item_admits_normal_without_writing(store: BreakerStore, client: RecordingClient, dynamodb: Any) -> None:
    # Given a target the breaker has never seen
    # When an execution asks to tune it
    admission = admit(store, TARGET, EXEC_A, POLICY, T0)
    # Then it tunes as usual, after one read and no write
    assert admission is Admission.NORMAL
    assert client.count("get_item") == 1
    assert client.count("put_item") == 0
    assert stored(dynamodb) is None


def test_failures_below_the_threshold_stay_closed_and_count_up(store: BreakerStore, dynamodb: Any) -> None:
    # Given a threshold of 3
    # When two runs in a row fail
    settle(store, TARGET, EXEC_A, POLICY, T0, succeeded=False)
    result = settle(store, TARGET, EXEC_B, POLICY, T0 + 60, succeeded=False)
    # Then the circuit is still CLOSED, counting 2 failures, and the next run is admitted
    assert (result.state, result.failures) == (CircuitState.CLOSED, 2)
    item = stored(dynamodb)
    assert item is not None
    assert (item["state"], item["failures"], item["version"]) == ("CLOSED", 2, 2)
    assert "retryAt" not in item
    assert admit(store, TARGET, EXEC_C, POLICY, T0 + 120) is Admission.NORMAL


def test_a_success_resets_the_count_so_only_consecutive_failures_open(store: BreakerStore, dynamodb: Any) -> None:
    # Given two failed runs
    fail(store, 2, T0)
    # When the next run succeeds
    result = settle(store, TARGET, EXEC_B, POLICY, T0 + 60, succeeded=True)
    # Then the count is back to 0
    assert (result.state, result.failures) == (CircuitState.CLOSED, 0)
    assert stored(dynamodb)["failures"] == 0  # type: ignore[index]
    # And two more failures (four in all, but not consecutive) leave it CLOSED
    fail(store, 2, T0 + 120)
    item = stored(dynamodb)
    assert (item["state"], item["failures"]) == ("CLOSED", 2)  # type: ignore[index]


def test_a_success_on_a_clean_breaker_writes_nothing(store: BreakerStore, client: RecordingClient) -> None:
    # Given a target with no failures
    # When its run succeeds
    result = settle(store, TARGET, EXEC_A, POLICY, T0, succeeded=True)
    # Then nothing is written (the common case costs one read)
    assert (result.state, result.failures) == (CircuitState.CLOSED, 0)
    assert client.count("put_item") == 0


def test_the_nth_consecutive_failure_opens_the_circuit_until_now_plus_cooldown(
    store: BreakerStore, dynamodb: Any
) -> None:
    # Given two failed runs
    fail(store, 2, T0)
    # When the third consecutive run fails, at T0 + 30
    result = settle(store, TARGET, EXEC_C, POLICY, T0 + 30, succeeded=False)
    # Then the circuit is OPEN, with 3 failures, until T0 + 30 + cooldown
    assert (result.state, result.failures) == (CircuitState.OPEN, 3)
    assert result.retry_at == T0 + 30 + POLICY.cooldown_seconds
    item = stored(dynamodb)
    assert item is not None
    assert (item["state"], item["failures"]) == ("OPEN", 3)
    assert item["openedAt"] == T0 + 30
    assert item["retryAt"] == T0 + 30 + POLICY.cooldown_seconds
    assert "probeOwner" not in item


# --------------------------------------------------------------------------------------------
# OPEN
# --------------------------------------------------------------------------------------------


def test_admit_while_open_is_refused_for_one_read_naming_state_failures_and_next_try(
    store: BreakerStore, client: RecordingClient, dynamodb: Any
) -> None:
    # Given an OPEN circuit (3 failures, retry at T0 + 600)
    retry_at = open_circuit(store, T0)
    client.calls.clear()
    # When an execution asks one second before the cooldown ends
    with pytest.raises(CircuitOpenError) as refused:
        admit(store, TARGET, EXEC_A, POLICY, retry_at - 1)
    # Then the message says what an operator needs: the state, the count, the next try (ISO)
    message = str(refused.value)
    assert "OPEN" in message
    assert TARGET in message
    assert "3 consecutive failed runs" in message
    assert iso(retry_at) in message  # 2025-11-26T10:10:00+00:00
    # And it cost exactly one GetItem and nothing else
    assert [name for name, _ in client.calls] == ["get_item"]
    assert stored(dynamodb)["state"] == "OPEN"  # type: ignore[index]


def test_first_admit_after_the_cooldown_is_the_probe(store: BreakerStore, dynamodb: Any) -> None:
    # Given an OPEN circuit whose cooldown ends at retry_at
    retry_at = open_circuit(store, T0)
    # When an execution asks at exactly retry_at
    admission = admit(store, TARGET, EXEC_A, POLICY, retry_at)
    # Then it is the probe, and the item says so (failures kept for the operator)
    assert admission is Admission.PROBE
    item = stored(dynamodb)
    assert item is not None
    assert item["state"] == "HALF_OPEN"
    assert item["probeOwner"] == EXEC_A
    assert item["probeExpiresAt"] == retry_at + POLICY.probe_seconds
    assert item["failures"] == 3


# --------------------------------------------------------------------------------------------
# HALF_OPEN
# --------------------------------------------------------------------------------------------


def test_a_second_execution_during_the_probe_is_refused_naming_the_prober(
    store: BreakerStore, client: RecordingClient, dynamodb: Any
) -> None:
    # Given EXEC_A probing
    probe_expires_at = probing(store, T0)
    client.calls.clear()
    # When EXEC_B asks during the probe
    with pytest.raises(CircuitOpenError) as refused:
        admit(store, TARGET, EXEC_B, POLICY, probe_expires_at - 1)
    # Then it is refused, told who probes and when to try again, and nothing was written
    message = str(refused.value)
    assert "HALF_OPEN" in message
    assert EXEC_A in message
    assert iso(probe_expires_at) in message
    assert client.count("put_item") == 0
    assert stored(dynamodb)["probeOwner"] == EXEC_A  # type: ignore[index]


def test_the_probe_owner_re_admitting_is_the_probe_again(store: BreakerStore, client: RecordingClient) -> None:
    # Given EXEC_A probing
    probe_expires_at = probing(store, T0)
    client.calls.clear()
    # When EXEC_A asks again (Step Functions retried its task)
    admission = admit(store, TARGET, EXEC_A, POLICY, probe_expires_at - 60)
    # Then it is still the probe
    assert admission is Admission.PROBE
    assert client.count("put_item") == 0


def test_probe_success_closes_the_circuit_with_zero_failures(store: BreakerStore, dynamodb: Any) -> None:
    # Given EXEC_A probing
    probe_expires_at = probing(store, T0)
    # When its run succeeds
    result = settle(store, TARGET, EXEC_A, POLICY, probe_expires_at - 60, succeeded=True)
    # Then the circuit is CLOSED with 0 failures and no probe or retry left on the item
    assert (result.state, result.failures) == (CircuitState.CLOSED, 0)
    item = stored(dynamodb)
    assert item is not None
    assert (item["state"], item["failures"]) == ("CLOSED", 0)
    assert not {"probeOwner", "probeExpiresAt", "retryAt", "openedAt"} & item.keys()
    assert admit(store, TARGET, EXEC_B, POLICY, probe_expires_at - 59) is Admission.NORMAL


def test_probe_failure_reopens_with_the_cooldown_restarted_from_the_failure(store: BreakerStore, dynamodb: Any) -> None:
    # Given EXEC_A probing
    probe_expires_at = probing(store, T0)
    failed_at = probe_expires_at - 100
    # When its run fails
    result = settle(store, TARGET, EXEC_A, POLICY, failed_at, succeeded=False)
    # Then the circuit is OPEN again, for a full cooldown from the failure, with the probe gone
    assert result.state is CircuitState.OPEN
    item = stored(dynamodb)
    assert item is not None
    assert (item["state"], item["failures"]) == ("OPEN", 4)
    assert item["openedAt"] == failed_at
    assert item["retryAt"] == failed_at + POLICY.cooldown_seconds
    assert "probeOwner" not in item
    with pytest.raises(CircuitOpenError, match="OPEN after 4 consecutive failed runs"):
        admit(store, TARGET, EXEC_B, POLICY, failed_at + POLICY.cooldown_seconds - 1)


@pytest.mark.parametrize("succeeded", [True, False], ids=["success", "failure"])
def test_a_non_owners_result_while_half_open_changes_nothing(
    store: BreakerStore, client: RecordingClient, dynamodb: Any, succeeded: bool
) -> None:
    # Given EXEC_A probing
    probe_expires_at = probing(store, T0)
    before = stored(dynamodb)
    client.calls.clear()
    # When EXEC_B (admitted before the circuit opened) settles its run
    result = settle(store, TARGET, EXEC_B, POLICY, probe_expires_at - 60, succeeded=succeeded)
    # Then the probe still decides: the item is untouched
    assert result.state is CircuitState.HALF_OPEN
    assert result.probe_owner == EXEC_A
    assert stored(dynamodb) == before
    assert client.count("put_item") == 0


def test_a_probe_that_outlived_probe_seconds_can_be_taken_over(store: BreakerStore, dynamodb: Any) -> None:
    # Given EXEC_A's probe, which vanished (no result by its deadline)
    probe_expires_at = probing(store, T0)
    # When EXEC_B asks at the deadline
    admission = admit(store, TARGET, EXEC_B, POLICY, probe_expires_at)
    # Then EXEC_B is the probe now, with a fresh deadline
    assert admission is Admission.PROBE
    item = stored(dynamodb)
    assert item is not None
    assert item["probeOwner"] == EXEC_B
    assert item["probeExpiresAt"] == probe_expires_at + POLICY.probe_seconds
    # And EXEC_A's late result no longer decides
    settle(store, TARGET, EXEC_A, POLICY, probe_expires_at + 1, succeeded=True)
    assert stored(dynamodb)["state"] == "HALF_OPEN"  # type: ignore[index]


# --------------------------------------------------------------------------------------------
# TTL is lazy: decisions come from the item's timestamps
# --------------------------------------------------------------------------------------------


def test_an_expired_but_undeleted_open_item_past_retry_at_lets_a_probe_through(
    store: BreakerStore, dynamodb: Any
) -> None:
    # Given an OPEN item whose retryAt and expiresAt (TTL) have both passed, but TTL has not deleted it
    put_raw(
        dynamodb,
        kind="breaker",
        target=TARGET,
        state="OPEN",
        failures=3,
        version=7,
        openedAt=T0 - 3_600,
        retryAt=T0 - 3_000,
        expiresAt=T0 - 60,
    )
    # When an execution asks
    admission = admit(store, TARGET, EXEC_A, POLICY, T0)
    # Then its timestamps decide: the cooldown is over, so this is the probe (written on version 7)
    assert admission is Admission.PROBE
    item = stored(dynamodb)
    assert item is not None
    assert (item["state"], item["probeOwner"], item["version"]) == ("HALF_OPEN", EXEC_A, 8)
    assert item["expiresAt"] > T0  # the write renewed the TTL


def test_an_expired_but_undeleted_open_item_before_retry_at_still_refuses(store: BreakerStore, dynamodb: Any) -> None:
    # Given an OPEN item whose TTL time has passed (say it was written with a short TTL) but retryAt has not
    put_raw(dynamodb, state="OPEN", failures=3, version=2, retryAt=T0 + 300, expiresAt=T0 - 60)
    # When an execution asks
    # Then the item is not treated as gone: the circuit is still OPEN
    with pytest.raises(CircuitOpenError, match="OPEN after 3 consecutive failed runs"):
        admit(store, TARGET, EXEC_A, POLICY, T0)


# --------------------------------------------------------------------------------------------
# Reserved words (`state`, `owner`) in expressions
# --------------------------------------------------------------------------------------------

_EXPRESSION_WORDS = {"and", "or", "not", "between", "in", "attribute_exists", "attribute_not_exists", "size"}
_EXPRESSION_WORDS |= {"attribute_type", "begins_with", "contains"}


def _bare_names(expression: str) -> set[str]:
    """Attribute names written in the expression itself (not #placeholders, :values or functions)."""
    return {
        word
        for word in re.findall(r"(?<![#:\w])[A-Za-z_][A-Za-z0-9_]*", expression)
        if word.lower() not in _EXPRESSION_WORDS
    }


def test_moto_rejects_a_bare_reserved_word_in_a_condition(dynamodb: Any) -> None:
    # Given moto's DynamoDB (this proves the other tests exercise the reserved-word rule)
    # When a conditional put names `state` bare
    with pytest.raises(ClientError, match="reserved keyword; reserved keyword: state"):
        dynamodb.put_item(
            TableName=TABLE,
            Item=dict(BREAKER_KEY) | {"state": {"S": "OPEN"}},
            ConditionExpression="attribute_not_exists(pk) OR state = :closed",
            ExpressionAttributeValues={":closed": {"S": "CLOSED"}},
        )


def test_no_expression_names_a_reserved_word_bare(store: BreakerStore, client: RecordingClient) -> None:
    # Given every kind of write the module makes: breaker create, update, probe, reopen; lease put, delete
    probe_expires_at = probing(store, T0)
    settle(store, TARGET, EXEC_A, POLICY, probe_expires_at - 1, succeeded=False)
    store.acquire_lease(TARGET, EXEC_A, T0, 900)
    with pytest.raises(TuningInProgressError):
        store.acquire_lease(TARGET, EXEC_B, T0, 900)
    store.release_lease(TARGET, EXEC_B)
    store.release_lease(TARGET, EXEC_A)
    expressions = [kwargs["ConditionExpression"] for _, kwargs in client.calls if "ConditionExpression" in kwargs]
    assert len(expressions) >= 6
    # Then no expression names a reserved word (such as `state` or `owner`) without a #placeholder
    reserved = {word.upper() for word in ReservedKeywords.get_reserved_keywords()}
    for expression in expressions:
        assert not {name for name in _bare_names(expression) if name.upper() in reserved}, expression
        assert "state" not in _bare_names(expression)


# --------------------------------------------------------------------------------------------
# Store errors: fail closed
# --------------------------------------------------------------------------------------------


def test_a_throttled_read_fails_closed_as_throttled_error(
    store: BreakerStore, client: RecordingClient, client_error: Callable[..., ClientError]
) -> None:
    # Given GetItem answering ProvisionedThroughputExceededException
    client.fail_next["get_item"] = [
        client_error(
            "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded.",
            400,
            "GetItem",
        )
    ]
    # When an execution asks to tune the target
    # Then admit does not return: the error propagates as a transient ThrottledError naming the call
    with pytest.raises(ThrottledError, match=r"dynamodb:GetItem on autotuner-State") as raised:
        admit(store, TARGET, EXEC_A, POLICY, T0)
    assert isinstance(raised.value.__cause__, ClientError)
    assert client.count("put_item") == 0


# --------------------------------------------------------------------------------------------
# Lease
# --------------------------------------------------------------------------------------------


def test_acquire_a_free_lease(store: BreakerStore, dynamodb: Any) -> None:
    # Given nobody tuning the target
    # When EXEC_A takes the lease for 900 s
    store.acquire_lease(TARGET, EXEC_A, T0, 900)
    # Then the lease item names EXEC_A and its expiry
    item = stored(dynamodb, LEASE_KEY)
    assert item is not None
    assert (item["owner"], item["leaseExpiresAt"]) == (EXEC_A, T0 + 900)
    assert item["expiresAt"] > T0 + 900  # TTL later than the lease itself


def test_a_second_owner_is_refused_naming_the_holder(store: BreakerStore, dynamodb: Any) -> None:
    # Given EXEC_A holding the lease
    store.acquire_lease(TARGET, EXEC_A, T0, 900)
    # When EXEC_B tries to take it before it runs out
    with pytest.raises(TuningInProgressError) as refused:
        store.acquire_lease(TARGET, EXEC_B, T0 + 899, 900)
    # Then it is told who holds it, and the lease is still EXEC_A's
    assert EXEC_A in str(refused.value)
    assert TARGET in str(refused.value)
    assert stored(dynamodb, LEASE_KEY)["owner"] == EXEC_A  # type: ignore[index]


def test_the_same_owner_re_acquiring_succeeds_and_extends(store: BreakerStore, dynamodb: Any) -> None:
    # Given EXEC_A holding the lease
    store.acquire_lease(TARGET, EXEC_A, T0, 900)
    # When EXEC_A takes it again (a retried task)
    store.acquire_lease(TARGET, EXEC_A, T0 + 60, 900)
    # Then it still holds it, until 900 s after the retry
    item = stored(dynamodb, LEASE_KEY)
    assert (item["owner"], item["leaseExpiresAt"]) == (EXEC_A, T0 + 960)  # type: ignore[index]


def test_an_expired_lease_can_be_taken_by_another_owner(store: BreakerStore, dynamodb: Any) -> None:
    # Given EXEC_A's lease, which ran out at T0 + 900 (its execution crashed) and TTL has not deleted
    store.acquire_lease(TARGET, EXEC_A, T0, 900)
    # When EXEC_B asks after it ran out
    store.acquire_lease(TARGET, EXEC_B, T0 + 901, 900)
    # Then EXEC_B holds it
    item = stored(dynamodb, LEASE_KEY)
    assert (item["owner"], item["leaseExpiresAt"]) == (EXEC_B, T0 + 1801)  # type: ignore[index]


def test_release_by_the_owner_deletes_the_lease(store: BreakerStore, dynamodb: Any) -> None:
    # Given EXEC_A holding the lease
    store.acquire_lease(TARGET, EXEC_A, T0, 900)
    # When EXEC_A releases it
    released = store.release_lease(TARGET, EXEC_A)
    # Then it is gone and the next execution can take it at once
    assert released is True
    assert stored(dynamodb, LEASE_KEY) is None
    store.acquire_lease(TARGET, EXEC_B, T0 + 1, 900)


def test_release_by_a_non_owner_leaves_the_lease(store: BreakerStore, dynamodb: Any) -> None:
    # Given EXEC_B holding the lease after EXEC_A's ran out
    store.acquire_lease(TARGET, EXEC_A, T0, 900)
    store.acquire_lease(TARGET, EXEC_B, T0 + 901, 900)
    # When EXEC_A (late) releases
    released = store.release_lease(TARGET, EXEC_A)
    # Then EXEC_B keeps it
    assert released is False
    assert stored(dynamodb, LEASE_KEY)["owner"] == EXEC_B  # type: ignore[index]


# --------------------------------------------------------------------------------------------
# Known bugs (xfail strict: these pass once breaker.py is fixed, and then must lose the mark)
# --------------------------------------------------------------------------------------------


def test_a_probe_owner_re_admitted_after_its_deadline_is_not_joined_by_a_second_probe(store: BreakerStore) -> None:
    # Given EXEC_A probing, and its task retried (after backoff) just past the probe deadline
    probe_expires_at = probing(store, T0)
    retried = admit(store, TARGET, EXEC_A, POLICY, probe_expires_at + 1)
    # When EXEC_B asks one second later
    try:
        second = admit(store, TARGET, EXEC_B, POLICY, probe_expires_at + 2)
    except CircuitOpenError:
        second = None
    # Then at most one of them was told it is the probe
    assert [retried, second].count(Admission.PROBE) <= 1


def test_a_late_success_while_open_does_not_close_the_circuit(store: BreakerStore, dynamodb: Any) -> None:
    # Given an OPEN circuit
    retry_at = open_circuit(store, T0)
    # When a run admitted before it opened reports success during the cooldown
    settle(store, TARGET, EXEC_B, POLICY, T0 + 10, succeeded=True)
    # Then the circuit is still OPEN until retry_at (only a probe may close it)
    item = stored(dynamodb)
    assert item is not None
    assert item["state"] == "OPEN"
    assert item.get("retryAt") == retry_at


def test_a_retried_settle_counts_one_failed_run_once(store: BreakerStore, dynamodb: Any) -> None:
    # Given EXEC_A's failed run recorded once
    settle(store, TARGET, EXEC_A, POLICY, T0, succeeded=False)
    # When the same settle is retried
    settle(store, TARGET, EXEC_A, POLICY, T0 + 2, succeeded=False)
    # Then the breaker counts one failed run
    assert stored(dynamodb)["failures"] == 1  # type: ignore[index]
