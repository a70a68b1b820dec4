"""The breaker's store: expressions moto accepts, failing closed on a store error, and the per-target lease."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from breaker_table import (
    BREAKER_KEY,
    EXEC_A,
    EXEC_B,
    LEASE_KEY,
    POLICY,
    T0,
    TABLE,
    TARGET,
    RecordingClient,
    probing,
    stored,
)
from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

from autotuner_core.policy.breaker import BreakerStore, admit, settle
from autotuner_core.policy.errors import ThrottledError, TuningInProgressError

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
