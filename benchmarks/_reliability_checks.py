"""The reliability suite's checks: the documented attempt bound, the account before and after, one execution's verdict.

See :mod:`benchmarks.reliability` for the loss columns these count.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from autotuner_core.aws.clients import SDK_MAX_ATTEMPTS
from autotuner_core.policy.breaker import breaker_key, lease_key
from benchmarks._asl_variants import states_of
from benchmarks._reliability_kinds import (
    CIRCUIT,
    FIXED_SIZES,
    MEASURED_SIZES,
    SUCCESS_OUTCOMES,
    TEMPORARY_ALIAS_PREFIX,
    UNCOUNTED_ERRORS,
    ArmContext,
    FaultKind,
    Shape,
    driving_only,
    shadows_of,
    target_names,
)
from emulator.cloud import EmbeddedAws
from emulator.fault_gates import RevisionRace
from emulator.interceptor import unlogged

# ---------------------------------------------------------------------------------------------
# The documented bound
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskBound:
    """The most one entry of a Task state can cost, from its retriers and the SDK's retry budget."""

    state: str
    attempts: int  # state-machine attempts: 1 + every retrier's MaxAttempts (each retrier counts its own)
    sdk_attempts: int  # requests one SDK call may send (clients.py: total_max_attempts)
    requests_per_call: int  # attempts x sdk_attempts: requests one logical AWS call may cost per state entry
    wait_seconds: float  # longest sum of Retry waits (full jitter waits at most this)
    seconds: float  # attempts x TimeoutSeconds + wait_seconds


def attempt_bounds(asl: dict[str, Any], sdk_max_attempts: int = SDK_MAX_ATTEMPTS) -> dict[str, TaskBound]:
    """The documented attempt bound of every Task state in ``asl`` (Map and Parallel states included).

    For a Task with retriers r (Step Functions keeps one attempt count per retrier, so errors that
    alternate between retriers can use them all)::

        attempts          = 1 + sum(r.MaxAttempts)                  (MaxAttempts defaults to 3)
        wait_seconds      = sum over r, k < r.MaxAttempts of min(r.MaxDelaySeconds, r.IntervalSeconds * r.BackoffRate^k)
        requests_per_call = attempts * sdk_max_attempts
        seconds           = attempts * TimeoutSeconds + wait_seconds

    With today's ASL (transient 4 retries from 2 s at rate 2 capped at 30 s, permanent 0, unknown
    1 retry after 2 s) and ``total_max_attempts`` 3: 6 attempts, 18 requests per AWS call, 32 s of
    waits at most.
    """
    bounds: dict[str, TaskBound] = {}
    for name, state in states_of(asl):
        if state.get("Type") != "Task":
            continue
        attempts, wait = 1, 0.0
        for retrier in state.get("Retry", []):
            tries = int(retrier.get("MaxAttempts", 3))
            interval = float(retrier.get("IntervalSeconds", 1))
            rate = float(retrier.get("BackoffRate", 2.0))
            cap = float(retrier.get("MaxDelaySeconds", float("inf")))
            attempts += tries
            wait += sum(min(cap, interval * rate**k) for k in range(tries))
        timeout = float(state.get("TimeoutSeconds", 99_999_999))
        bounds[name] = TaskBound(
            state=name,
            attempts=attempts,
            sdk_attempts=sdk_max_attempts,
            requests_per_call=attempts * sdk_max_attempts,
            wait_seconds=wait,
            seconds=attempts * timeout + wait,
        )
    return bounds


# ---------------------------------------------------------------------------------------------
# Observing: what the account looks like before and after an execution
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionView:
    memory: int
    timeout: int
    description: str
    versions: frozenset[str]
    aliases: dict[str, str]  # alias name -> version

    @classmethod
    def read(cls, aws: EmbeddedAws, name: str) -> FunctionView:
        lam = aws.client("lambda")
        with unlogged():
            config = lam.get_function_configuration(FunctionName=name)
            versions = [
                v["Version"]
                for page in lam.get_paginator("list_versions_by_function").paginate(FunctionName=name)
                for v in page["Versions"]
            ]
            aliases = [
                a for page in lam.get_paginator("list_aliases").paginate(FunctionName=name) for a in page["Aliases"]
            ]
        return cls(
            memory=int(config["MemorySize"]),
            timeout=int(config["Timeout"]),
            description=config.get("Description") or "",
            versions=frozenset(v for v in versions if v != "$LATEST"),
            aliases={alias["Name"]: alias["FunctionVersion"] for alias in aliases},
        )


def state_items(aws: EmbeddedAws, arn: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The target's breaker and lease items in the state table, as plain values."""
    assert aws.stack is not None
    table = aws.stack.outputs["StateTableName"]
    ddb = aws.client("dynamodb")
    items = []
    with unlogged():
        for key in (breaker_key(arn), lease_key(arn)):
            item = ddb.get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True).get("Item")
            items.append({key: next(iter(value.values())) for key, value in item.items()} if item else None)
    return items[0], items[1]


# ---------------------------------------------------------------------------------------------
# The breaker's documented rules, replayed over the recorded outcomes
# ---------------------------------------------------------------------------------------------

BreakerState = tuple[str, int]  # (state, consecutive failures)


def expected_breakers(before: set[BreakerState], record: dict[str, Any], threshold: int) -> set[BreakerState]:
    """Breaker states the documented rules allow after one more recorded run of the target.

    A success closes the circuit; a counted failure adds one, and opens it at ``threshold`` or when
    it was the probe's; bad input, an open circuit and a held lease count for nothing. With the
    suite's cooldown of 0 s, a run that reaches CheckCircuit on an OPEN circuit becomes its probe;
    a run that failed before CheckCircuit admitted it does not decide an OPEN circuit. When a run
    failed in CheckCircuit itself, it may or may not have been admitted: both are allowed.
    """
    outcome = record.get("outcome")
    stage = record.get("failedStage")
    counted: bool | None
    if outcome in SUCCESS_OUTCOMES:
        counted = True
    elif outcome == "FAILED" and record.get("errorType") not in UNCOUNTED_ERRORS:
        counted = False
    else:
        counted = None
    admissions = {False} if stage == "ValidatePermissions" else {True, False} if stage == "CheckCircuit" else {True}
    after: set[BreakerState] = set()
    for state, failures in before:
        for admitted in admissions:
            probe = admitted and state == "OPEN"
            current = "HALF_OPEN" if probe else state
            if counted is None:
                after.add((current, failures))
            elif current == "OPEN" or (current == "HALF_OPEN" and not probe):
                after.add((current, failures))  # only the probe decides an open circuit
            elif counted:
                after.add(("CLOSED", 0))
            else:
                opens = probe or failures + 1 >= threshold
                after.add(("OPEN" if opens else "CLOSED", failures + 1))
    return after


# ---------------------------------------------------------------------------------------------
# One execution, checked
# ---------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    kind: str
    shape: str
    labels: list[str]
    status: str
    error: str | None
    failed_state: str | None
    outcomes: list[str]
    target_errors: list[str]  # errorTypes the targets answered with while measured (out of memory, timeout)
    seconds: float
    injected: int
    records_lost: int = 0
    false_successes: int = 0
    orphans: int = 0
    inconsistent_latest: int = 0
    inconsistent_breakers: int = 0
    over_bound: int = 0
    live_requests: int = 0  # requests the targets' users sent during the execution
    live_at_candidate_sizes: int = 0
    shadows_measured: int = 0  # targets whose record says they were measured on a shadow copy
    problems: list[str] = field(default_factory=list)

    @property
    def losses(self) -> int:
        return (
            self.records_lost
            + self.false_successes
            + self.orphans
            + self.inconsistent_latest
            + self.inconsistent_breakers
            + self.over_bound
            + self.live_at_candidate_sizes
        )


class Suite:
    """Runs executions on one embedded AWS and checks each one."""

    def __init__(self, aws: EmbeddedAws, bounds: dict[str, TaskBound]) -> None:
        self.aws = aws
        self.account = aws.account  # as started; each execution drives only its own targets' users
        self.bounds = bounds
        self.breakers: dict[str, set[BreakerState]] = defaultdict(lambda: {("CLOSED", 0)})
        self.default_update_seconds = aws.lambda_emulation.update_seconds

    def arn(self, name: str) -> str:
        account = self.aws.account
        return f"arn:aws:lambda:{account.region}:{account.account_id}:function:{name}"

    def execution_input(self, shape: Shape, targets: list[str], rng: random.Random) -> dict[str, Any]:
        document: dict[str, Any] = {"targets": targets, "apply": shape.apply, "circuitBreaker": CIRCUIT}
        if shape.measure:
            # payload {}: a run of several targets skips those without a payload of their own
            document.update(memorySizes=MEASURED_SIZES, invocations=5, payload={}, refine=rng.random() < 0.3)
        else:
            current = {self.aws.function_configuration(name)["MemorySize"] for name in targets}
            document["memorySize"] = rng.choice([size for size in FIXED_SIZES if size not in current])
        return document

    def execute(self, kind: FaultKind, shape: Shape, rng: random.Random) -> Verdict:
        pool = target_names(kind)
        targets = rng.sample(pool, shape.targets)
        armed = kind.arm(ArmContext(rng=rng, aws=self.aws, shape=shape, targets=targets))
        document = self.execution_input(shape, targets, rng)
        before = {name: FunctionView.read(self.aws, name) for name in targets}

        interceptor, emulation = self.aws.interceptor, self.aws.lambda_emulation
        interceptor.set_faults(armed.faults)
        interceptor.gates.extend(armed.gates)
        self.aws.runtime.set_worker_timeouts(
            armed.timeouts, interceptor=interceptor, time_scale=self.aws.account.retry_time_scale
        )
        emulation.update_seconds = armed.update_seconds or self.default_update_seconds
        self.aws.account = driving_only(self.account, targets)
        try:
            report = self.aws.run(document)
            calls = list(interceptor.log.calls)
            injected = interceptor.faults_injected() + self.aws.runtime.timeouts.cut_off
        finally:
            interceptor.set_faults([])
            for gate in armed.gates:
                interceptor.gates.remove(gate)
            self.aws.runtime.timeouts.cut_off = 0
            self.aws.runtime.set_worker_timeouts([], interceptor=interceptor, time_scale=1.0)
            emulation.update_seconds = self.default_update_seconds
            self.aws.account = self.account
        injected += sum(getattr(gate, "injected", 0) + int(getattr(gate, "fired", False)) for gate in armed.gates)
        time.sleep(max(armed.update_seconds or 0, self.default_update_seconds))  # let updates settle before reading

        verdict = Verdict(
            kind=kind.name,
            shape=shape.name,
            labels=armed.labels,
            status=report.status,
            error=report.error,
            failed_state=report.failed_state,
            outcomes=[f"{r['outcome']}{'/' + r['errorType'] if r.get('errorType') else ''}" for r in report.records],
            shadows_measured=sum((r.get("liveTraffic") or {}).get("measuredOn") == "shadow" for r in report.records),
            target_errors=sorted(
                {
                    kind
                    for r in report.records
                    for row in r.get("configurations") or []
                    for kind in row.get("errorTypes", [])
                }
            ),
            seconds=report.seconds,
            injected=injected,
            live_requests=sum(sum(sizes.values()) for sizes in report.live_invocations.values()),
            live_at_candidate_sizes=report.live_invocations_at_candidate_sizes,
        )
        if verdict.live_at_candidate_sizes:
            verdict.problems.append(
                f"{verdict.live_at_candidate_sizes} live requests at candidate sizes: {report.live_invocations}"
            )
        races = {gate.function: gate.changes for gate in armed.gates if isinstance(gate, RevisionRace) and gate.fired}
        for name in targets:
            self._check_target(verdict, report, name, before[name], races.get(name, {}))
        self._check_attempts(verdict, report, calls)
        return verdict

    def _check_target(
        self, verdict: Verdict, report: Any, name: str, before: FunctionView, changed_by_others: dict[str, Any]
    ) -> None:
        arn = self.arn(name)
        mine = [record for record in report.records if record.get("target") == arn]
        if len(mine) != 1:
            verdict.records_lost += 1
            verdict.problems.append(f"{name}: {len(mine)} run records")
        record = mine[0] if len(mine) == 1 else {}
        if report.status == "SUCCEEDED" and record.get("outcome") == "FAILED":
            verdict.false_successes += 1
            verdict.problems.append(f"{name}: SUCCEEDED with a FAILED record ({record.get('errorType')})")

        after = FunctionView.read(self.aws, name)
        temporary = [
            alias for alias in after.aliases if alias.startswith(TEMPORARY_ALIAS_PREFIX) and alias not in before.aliases
        ]
        unreferenced = sorted(after.versions - before.versions - set(after.aliases.values()))
        shadows = shadows_of(self.aws, arn)
        if temporary or unreferenced or shadows:
            verdict.orphans += len(temporary) + len(unreferenced) + len(shadows)
            verdict.problems.append(f"{name}: left aliases {temporary}, versions {unreferenced}, shadows {shadows}")

        found = {
            "MemorySize": changed_by_others.get("MemorySize", before.memory),
            "Timeout": changed_by_others.get("Timeout", before.timeout),
            "Description": changed_by_others.get("Description", before.description),
        }
        recorded_memory = (record.get("after") or {}).get("MemorySize") if record.get("outcome") == "APPLIED" else None
        allowed_memory = {found["MemorySize"]} if recorded_memory is None else {int(recorded_memory)}
        now = {"MemorySize": after.memory, "Timeout": after.timeout, "Description": after.description}
        if now["MemorySize"] not in allowed_memory or any(now[key] != found[key] for key in ("Timeout", "Description")):
            verdict.inconsistent_latest += 1
            verdict.problems.append(
                f"{name}: $LATEST {now}, found {found}, record {record.get('outcome')} "
                f"{record.get('errorType') or ''} after={recorded_memory}"
            )

        breaker, lease = state_items(self.aws, arn)
        expected = self.breakers[arn]
        if record:
            expected = expected_breakers(expected, record, CIRCUIT["failureThreshold"])
        actual = (breaker["state"], int(breaker["failures"])) if breaker else ("CLOSED", 0)
        # A lease this execution still holds blocks the target's next runs until it expires.
        lease_held = lease is not None and lease["owner"] == report.execution_arn
        if actual not in expected or lease_held:
            verdict.inconsistent_breakers += 1
            verdict.problems.append(
                f"{name}: breaker {actual}, expected one of {sorted(expected)}"
                + (f"; lease still held by {lease['owner']}" if lease_held else "")
            )
        self.breakers[arn] = {actual}  # go on from what is there: one divergence is counted once

    def _check_attempts(self, verdict: Verdict, report: Any, calls: list[Any]) -> None:
        # Each entry of a state, in the parent's history or a map run child's (event ids are per history).
        scheduled: Counter[tuple[int, int]] = Counter()
        names: dict[tuple[int, int], str] = {}
        histories = [report.history, *report.child_histories.values()]
        for index, history in enumerate(histories):
            by_id = {event["id"]: event for event in history}
            for event in history:
                if event["type"] != "TaskScheduled":
                    continue
                current = by_id.get(event.get("previousEventId"))
                while current is not None and "stateEnteredEventDetails" not in current:
                    current = by_id.get(current.get("previousEventId"))
                if current is not None:
                    scheduled[index, current["id"]] += 1
                    names[index, current["id"]] = current["stateEnteredEventDetails"]["name"]
        for entered, attempts in scheduled.items():
            name = names[entered]
            bound = self.bounds.get(name)
            if bound is None or attempts > bound.attempts:
                verdict.over_bound += 1
                verdict.problems.append(f"{name}: {attempts} attempts in one entry (bound {bound and bound.attempts})")
        requests: Counter[str] = Counter(call.invocation for call in calls if call.invocation)
        for call in calls:
            over = (call.attempt or 1) > SDK_MAX_ATTEMPTS or (call.max_attempts or 0) > SDK_MAX_ATTEMPTS
            if over or requests[call.invocation or ""] > SDK_MAX_ATTEMPTS:
                verdict.over_bound += 1
                verdict.problems.append(f"{call.call} by {call.caller}: attempt {call.attempt} of {call.max_attempts}")
                requests[call.invocation or ""] = 0  # count each SDK call once
