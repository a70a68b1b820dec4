"""Executions racing on one breaker or lease, as real threads against moto's DynamoDB.

Each race starts its threads at one barrier, and is run for several rounds so that a lucky
interleaving cannot pass it. The interpreter switches threads far more often than by default
while racing, so the read-decide-write windows of the threads overlap.

DynamoDB applies a conditional write atomically per item; moto evaluates the condition and then
stores the item without a lock, so two racing writes could both pass a condition there and
never on AWS. The embedded AWS serialises moto's writes to give it DynamoDB's guarantee
(``emulator/dynamodb_atomic.py``), and so does the ``atomic_conditional_writes``
fixture here; reads stay unlocked, and the breaker's own code runs fully concurrently.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from moto import mock_aws

from autotuner_core.policy.breaker import Admission, BreakerPolicy, BreakerStore, CircuitState, admit, settle
from autotuner_core.policy.errors import CircuitOpenError, ThrottledError, TuningInProgressError
from emulator import dynamodb_atomic

REGION = "eu-west-1"
TABLE = "autotuner-State"
THREADS = 8
ROUNDS = 5
T0 = 1_764_151_200.0
POLICY = BreakerPolicy(failure_threshold=3, cooldown_seconds=600, probe_seconds=300)


def execution(i: int) -> str:
    return f"arn:aws:states:eu-west-1:123456789012:execution:autotuner:run-{i}"


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    with mock_aws():
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield


@pytest.fixture(scope="module")
def stores(aws: None) -> list[BreakerStore]:
    """One store per thread, each with its own client (as each Lambda invocation has)."""
    return [BreakerStore(boto3.client("dynamodb", region_name=REGION), TABLE) for _ in range(THREADS)]


@pytest.fixture(autouse=True)
def atomic_conditional_writes() -> Iterator[None]:
    undo = dynamodb_atomic.install()
    yield
    undo()


@pytest.fixture(autouse=True)
def frequent_thread_switches() -> Iterator[None]:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def race(stores: list[BreakerStore], act: Callable[[int, BreakerStore], Any]) -> list[Any]:
    """Run ``act(i, store)`` on THREADS threads released together; each result or exception, in order."""
    barrier = threading.Barrier(THREADS)

    def run(i: int) -> Any:
        barrier.wait()
        try:
            return act(i, stores[i])
        except Exception as error:  # collected and asserted on by the caller
            return error

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def raw(store: BreakerStore, pk: str) -> dict[str, Any] | None:
    return store.dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_exactly_one_of_eight_executions_wins_the_probe(stores: list[BreakerStore], round_: int) -> None:
    # Given an OPEN circuit whose cooldown has just passed
    target = f"arn:aws:lambda:eu-west-1:123456789012:function:probe-race-{round_}"
    for i in range(POLICY.failure_threshold):
        settle(stores[0], target, execution(100 + i), POLICY, T0 + i, succeeded=False)
    retry_at = stores[0].read(target).retry_at
    assert retry_at is not None
    # When 8 executions ask at the same moment
    results = race(stores, lambda i, store: admit(store, target, execution(i), POLICY, retry_at + 1))
    # Then exactly one is the probe and the 7 others are refused, naming it
    winners = [i for i, result in enumerate(results) if result is Admission.PROBE]
    refused = [result for result in results if isinstance(result, CircuitOpenError)]
    assert len(winners) == 1, results
    assert len(refused) == THREADS - 1, results
    prober = execution(winners[0])
    assert all(prober in str(error) for error in refused)
    breaker = stores[0].read(target)
    assert (breaker.state, breaker.probe_owner) == (CircuitState.HALF_OPEN, prober)
    assert breaker.version == POLICY.failure_threshold + 1  # one probe write, no more


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_eight_concurrent_failures_are_all_counted(stores: list[BreakerStore], round_: int) -> None:
    # Given a CLOSED breaker with a threshold it will not reach
    target = f"arn:aws:lambda:eu-west-1:123456789012:function:count-race-{round_}"
    policy = BreakerPolicy(failure_threshold=100, cooldown_seconds=600, probe_seconds=300)
    contended = []

    def fail(i: int, store: BreakerStore) -> Any:
        # Retried on ThrottledError as the state machine's transient retrier would; a settle that
        # gave up wrote nothing, so retrying it cannot count twice.
        while True:
            try:
                return settle(store, target, execution(i), policy, T0 + i, succeeded=False)
            except ThrottledError:
                contended.append(i)

    # When 8 executions each record a failed run at the same moment
    results = race(stores, fail)
    # Then every failure is counted once: no lost update, one write each
    assert not [result for result in results if isinstance(result, Exception)], results
    breaker = stores[0].read(target)
    assert (breaker.state, breaker.failures, breaker.version) == (CircuitState.CLOSED, THREADS, THREADS), contended
    assert sorted(result.failures for result in results) == list(range(1, THREADS + 1))


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_exactly_one_of_eight_owners_gets_the_lease(stores: list[BreakerStore], round_: int) -> None:
    # Given a free lease
    target = f"arn:aws:lambda:eu-west-1:123456789012:function:lease-race-{round_}"
    # When 8 executions take it at the same moment
    results = race(stores, lambda i, store: store.acquire_lease(target, execution(i), T0, 900))
    # Then exactly one holds it and the others are refused, naming the holder
    winners = [i for i, result in enumerate(results) if result is None]
    refused = [result for result in results if isinstance(result, TuningInProgressError)]
    assert len(winners) == 1, results
    assert len(refused) == THREADS - 1, results
    holder = execution(winners[0])
    assert all(holder in str(error) for error in refused)
    item = raw(stores[0], f"LEASE#{target}")
    assert item is not None
    assert item["owner"]["S"] == holder
