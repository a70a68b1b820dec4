"""Races between executions, with the tuner's functions running side by side as Lambda runs them.

The embedded runtime gives each concurrent invocation an execution environment of its own, and
no invocation waits for another (runtime.py). Each race makes its overlap certain instead of
likely: a rendezvous gate holds the first racing request of each party until all parties have
sent theirs, so the requests reach the embedded AWS together. A runtime that ran one invocation
at a time could never meet there: the rendezvous would time out and the test fail on ``met``.
"""

from __future__ import annotations

import threading
import time

from emulator.account import Fault, SimulatedAccount, SimulatedFunction
from emulator.cloud import EmbeddedAws
from emulator.interceptor import Refusal

ORDERS = SimulatedFunction(name="orders-api", memory_size=512, timeout=30, tags={"autotune": "enabled"})
APPLY = {"targets": ["orders-api"], "memorySize": 1024, "apply": True}
RENDEZVOUS_SECONDS = 60.0


class Rendezvous:
    """A request gate: the first ``parties`` matching requests wait for each other, then all go on."""

    def __init__(self, parties: int, service: str, operations: set[str], caller: str) -> None:
        self.parties = parties
        self.service, self.operations, self.caller = service, operations, caller
        self.barrier = threading.Barrier(parties, timeout=RENDEZVOUS_SECONDS)
        self.arrived = 0
        self.met = False
        self._lock = threading.Lock()

    def __call__(self, service: str, operation: str, caller: str) -> Refusal | None:
        if (service, caller) != (self.service, self.caller) or operation not in self.operations:
            return None
        with self._lock:
            if self.arrived >= self.parties:
                return None
            self.arrived += 1
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            return Refusal("ServiceUnavailable", 503, "rendezvous broken: the racing requests never overlapped")
        self.met = True
        return None


def outcomes(aws: EmbeddedAws, executions: list[str]) -> list[tuple[str, str | None]]:
    records = [record for execution in executions for record in aws.records(execution)]
    return sorted((record["outcome"], record.get("errorType")) for record in records)


def test_two_executions_at_once_on_one_target_one_holds_the_lease_the_other_is_skipped():
    # Given two executions that will ask for the lease of one target at the same moment
    writes = Rendezvous(2, "dynamodb", {"PutItem"}, caller="CheckCircuitFunction")
    with EmbeddedAws(SimulatedAccount(functions=[ORDERS])) as aws:
        aws.interceptor.gates.append(writes)
        # When both run
        executions = [aws.start(APPLY), aws.start(APPLY)]
        statuses = [aws.wait(execution)["status"] for execution in executions]
        results = outcomes(aws, executions)
        environments = aws.runtime.environments("CheckCircuitFunction")
        memory = aws.function_configuration("orders-api")["MemorySize"]
    # Then their lease requests overlapped, each in its own execution environment
    assert writes.met
    assert environments == 2
    # And exactly one tuned the target; the other was recorded SKIPPED, naming the lease
    assert results == [("APPLIED", None), ("SKIPPED", "TuningInProgressError")]
    assert statuses == ["SUCCEEDED", "SUCCEEDED"]
    assert memory == 1024


def test_two_half_open_probes_at_once_exactly_one_wins():
    # Given a circuit opened by one permanent failure, whose 1 s cooldown has passed
    denied = Fault(
        service="lambda",
        action="GetFunction",
        code="AccessDeniedException",
        status=403,
        times=1,
        caller="DiscoverResourcesFunction",
    )
    run_input = {**APPLY, "circuitBreaker": {"failureThreshold": 1, "cooldownSeconds": 1}}
    with EmbeddedAws(SimulatedAccount(functions=[ORDERS], faults=[denied])) as aws:
        opened = aws.run(run_input)
        time.sleep(1.2)
        # When two executions ask to probe it at the same moment (their probe writes meet)
        probes = Rendezvous(2, "dynamodb", {"PutItem", "UpdateItem"}, caller="CheckCircuitFunction")
        aws.interceptor.gates.append(probes)
        executions = [aws.start(run_input), aws.start(run_input)]
        statuses = [aws.wait(execution)["status"] for execution in executions]
        results = outcomes(aws, executions)
    assert opened.error == "PermissionDeniedError"
    assert probes.met
    # Then exactly one probed (and closed the circuit by succeeding); the other was refused
    assert results == [("APPLIED", None), ("SKIPPED", "CircuitOpenError")]
    assert statuses == ["SUCCEEDED", "SUCCEEDED"]


def test_concurrent_sweeps_within_the_shared_control_plane_limit_are_never_throttled():
    # Given Lambda's rate limits enforced at AWS speed (time scale 1: a second is a second), and
    # two sweeps each paced to 7 control-plane requests per second: 14 of the account's 15
    fleet = [
        SimulatedFunction(name=f"fleet-{index:02d}", memory_size=512, tags={"autotune": "enabled"})
        for index in range(6)
    ]
    account = SimulatedAccount(
        functions=fleet,
        rate_limits=True,
        retry_time_scale=1.0,
        update_seconds=0.0,
        parameters={"ControlPlaneRequestsPerSecond": "7", "SweepMaxConcurrency": "3", "StatusPollIntervalMs": "50"},
    )
    sweep = {"select": {"namePrefix": "fleet-"}, "memorySize": 1024, "apply": True}
    # And each sweep's pre-flight held until the other's is in flight (one ValidatePermissions per
    # sweep: its first request waits, so the second party can only be the other sweep), and two
    # workers' discoveries held until both are in flight
    sweeps = Rendezvous(2, "iam", {"SimulatePrincipalPolicy"}, caller="ValidatePermissionsFunction")
    discoveries = Rendezvous(2, "lambda", {"GetFunction"}, caller="DiscoverResourcesFunction")
    with EmbeddedAws(account) as aws:
        aws.interceptor.gates += [sweeps, discoveries]
        aws.limits.reset()
        # When both sweeps run at once
        executions = [aws.start(sweep), aws.start(sweep)]
        statuses = [aws.wait(execution, timeout=600)["status"] for execution in executions]
        throttled, admitted = dict(aws.limits.throttled), dict(aws.limits.admitted)
        results = outcomes(aws, executions)
        workers = aws.runtime.peak_concurrency["DiscoverResourcesFunction"]
    assert sweeps.met and discoveries.met
    assert workers >= 2
    # Then every target was tuned once, and not one request was throttled
    assert statuses == ["SUCCEEDED", "SUCCEEDED"]
    assert [outcome for outcome, _ in results].count("APPLIED") == 6
    assert throttled == {}, admitted
    assert admitted.get("control-plane", 0) > 0
