"""The per-target circuit breaker, against moto's DynamoDB (which evaluates conditions).

Time is passed in explicitly (``now``), so every transition is checked at exact instants. The
assertions read the table the way an operator would: the item's state, failures, retryAt and
probeOwner, and how many calls a decision cost. The lease and the store's errors: test_breaker_store.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from breaker_table import (
    EXEC_A,
    EXEC_B,
    EXEC_C,
    POLICY,
    T0,
    TARGET,
    RecordingClient,
    fail,
    iso,
    open_circuit,
    probing,
    put_raw,
    stored,
)

from autotuner_core.policy.breaker import Admission, BreakerStore, CircuitState, admit, settle
from autotuner_core.policy.errors import CircuitOpenError

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
