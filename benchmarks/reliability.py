"""Reliability under faults: executions of the real state machine while AWS misbehaves, and what they left.

Every execution runs on one embedded AWS (moto executing ``statemachine/autotuner.asl.json``,
the handlers in-process) with one fault kind armed — or several, in the ``mixed`` rows:

``throttling 10 %`` / ``throttling 30 %``
    that share of every AWS request (every service, every caller, the state machine's own Lambda
    invokes included) answered with the service's throttling code (``fault_gates.Throttling``;
    Step Functions' own S3 reads and writes of the Distributed Map's items are not throttled).
``5xx bursts``
    runs of 3-6 consecutive Lambda, DynamoDB and IAM requests answered with a 5xx.
``InProgress windows``
    each update stays ``InProgress`` for 0.2-0.4 s, and someone else's update is in progress
    (``ForeignUpdate``) when the tuner discovers, updates or publishes.
``ResourceConflict``
    ResourceConflictException on the first 1-3 UpdateFunctionConfiguration or PublishVersion calls.
``RevisionId race``
    someone else changes the function (its memory, timeout or description) between the tuner's
    discovery and its update: right before the updater's update, or the measurement's first or
    second change of ``$LATEST`` (``RevisionRace``).
``IAM propagation lag``
    the pre-flight simulation allows an action, the real call is denied (AccessDeniedException)
    the first 1-2 times a worker makes it.
``DynamoDB throttling``
    ProvisionedThroughputExceededException on the run-history and state tables (records,
    breaker, lease, idempotency), in bursts or on 30-50 % of the requests.
``target timeouts/OOM``
    the targets themselves run out of memory or time out at some of the measured sizes.
``worker timeout``
    a tuner function is cut off by its timeout right after a call (``workerTimeouts``): the
    updater after it applied the change, the measurement after it changed ``$LATEST``, the
    recorder after it wrote the record, ...
``mixed``
    two or three of the above at once.

Runs are single targets and sweeps of 2-3, measuring and fixed-memory, dry run and apply. After
each execution the suite checks what an operator would check, and counts what fails:

records lost        a target without exactly one run record for the execution (missing or duplicated)
false successes     the execution SUCCEEDED while a target's record says FAILED
orphans             a temporary alias (``autotuner-…``) left, a version the run published and no alias points to,
                    or a shadow copy of the target left after its execution
inconsistent $LATEST  memory neither the original (after anyone else's change) nor the recorded new one;
                    or timeout/description not as found
inconsistent breakers the state table's breaker disagrees with the recorded outcomes (a model of the
                    documented rules replays them), or a lease is still held after the execution
attempts over bound a Task state entered more often than its retriers allow, or an SDK call sent more
                    requests than the clients' retry budget (``attempt_bounds``)
liveAtCandidateSizes live requests of the targets' users that ran at a memory size other than the
                    original or the one the execution left (the run report's
                    ``liveInvocationsAtCandidateSizes``)

Every loss column must be 0. ``main(quick=True)`` is the seed-fixed subset the tests run.

With live traffic (``run_suite(live=True)``, ``--live``; the default run does a plain pass, then
a live pass of the subset), every target's users invoke it during each execution that targets it
(``LIVE_REQUESTS_PER_SECOND`` per AWS second): the first target of each kind unqualified, so its
requests run ``$LATEST`` as an API Gateway integration's do; the other two through their alias
``live``. The live pass's deployment allows shadows of the targets' role (``ShadowRoleArns``),
so a measured run on the first measures a shadow copy of it, under the same faults; the others
are measured on versions while their alias serves. Only the execution's own targets are driven:
nothing else changes size, and driving 36 functions at once would starve the run of CPU.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autotuner_core.aws.clients import SDK_MAX_ATTEMPTS
from autotuner_core.measuring.shadow import SHADOW_OF_TAG, SHADOW_PREFIX
from autotuner_core.policy.breaker import breaker_key, lease_key
from benchmarks._table import text_table
from benchmarks.failfast import states_of
from emulator.account import (
    Fault,
    FunctionProfile,
    LiveTrafficSpec,
    SimulatedAccount,
    SimulatedFunction,
    WorkerTimeout,
)
from emulator.cloud import EmbeddedAws
from emulator.fault_gates import THROTTLING, Bursts, ForeignUpdate, RevisionRace, Throttling
from emulator.interceptor import unlogged

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ASL_FILE = PROJECT_ROOT / "statemachine" / "autotuner.asl.json"
TEMPORARY_ALIAS_PREFIX = "autotuner-"
CIRCUIT = {"failureThreshold": 3, "cooldownSeconds": 0}  # every run after an opening probes: both halves tested
SUCCESS_OUTCOMES = frozenset({"APPLIED", "UNCHANGED", "RECOMMENDED"})
UNCOUNTED_ERRORS = frozenset({"InvalidInputError", "CircuitOpenError", "TuningInProgressError"})
FIXED_SIZES = (256, 384, 640, 768, 1024, 1536)
MEASURED_SIZES = [256, 1024]
LIVE_REQUESTS_PER_SECOND = 0.2  # per AWS second: one request every 50 ms of wall time at the suite's clock
LIVE_ALIAS = "live"
# The execution role the embedded AWS gives every simulated function (cloud.py).
SHADOW_ROLE = "arn:aws:iam::123456789012:role/simulated-target-role"

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
# What an execution is: a shape of input, its targets, and the faults armed for it
# ---------------------------------------------------------------------------------------------

UPDATER = "UpdateConfigurationFunction"
PREPARE = "PrepareMeasurementFunction"
CLEANUP = "CleanupMeasurementFunction"
RECORDER = "RecordResultFunction"
GUARD = "CheckCircuitFunction"
DISCOVER = "DiscoverResourcesFunction"
MEASURE = "MeasureConfigurationFunction"


@dataclass(frozen=True)
class Shape:
    name: str
    targets: int
    measure: bool
    apply: bool


SHAPES = {
    shape.name: shape
    for shape in (
        Shape("fixed apply", 1, measure=False, apply=True),
        Shape("measure dry run", 1, measure=True, apply=False),
        Shape("measure apply", 1, measure=True, apply=True),
        Shape("fixed dry run", 1, measure=False, apply=False),
        Shape("sweep fixed apply", 3, measure=False, apply=True),
        Shape("sweep measure dry run", 2, measure=True, apply=False),
        Shape("sweep measure apply", 2, measure=True, apply=True),
    )
}


@dataclass
class Armed:
    """What one execution runs under."""

    faults: list[Fault] = field(default_factory=list)
    gates: list[Any] = field(default_factory=list)
    timeouts: list[WorkerTimeout] = field(default_factory=list)
    update_seconds: float | None = None
    labels: list[str] = field(default_factory=list)

    def merge(self, other: Armed) -> Armed:
        return Armed(
            faults=self.faults + other.faults,
            gates=self.gates + other.gates,
            timeouts=self.timeouts + other.timeouts,
            update_seconds=other.update_seconds or self.update_seconds,
            labels=self.labels + other.labels,
        )


@dataclass
class ArmContext:
    rng: random.Random
    aws: EmbeddedAws
    shape: Shape
    targets: list[str]


Arming = Callable[[ArmContext], Armed]


def _no_faults(ctx: ArmContext) -> Armed:
    return Armed(labels=["none"])


def _throttle(share: float) -> Arming:
    def arm(ctx: ArmContext) -> Armed:
        return Armed(gates=[Throttling(share, seed=ctx.rng.randrange(1 << 30))], labels=[f"throttle {share:.0%}"])

    return arm


def _bursts(ctx: ArmContext) -> Armed:
    rng = ctx.rng
    gates = [
        Bursts("lambda", starts=sorted(rng.sample(range(40), 2)), length=rng.choice([3, 4, 6])),
        Bursts("dynamodb", starts=[rng.randrange(20)], length=rng.choice([3, 4])),
        Bursts("iam", starts=[rng.randrange(9)], length=3),
    ]
    return Armed(gates=gates, labels=["5xx bursts"])


def _in_progress(ctx: ArmContext) -> Armed:
    rng = ctx.rng
    places = [("GetFunction", DISCOVER)]
    if ctx.shape.apply:
        places.append(("UpdateFunctionConfiguration", UPDATER))
    if ctx.shape.measure:
        places += [("UpdateFunctionConfiguration", PREPARE), ("PublishVersion", PREPARE)]
    operation, caller = rng.choice(places)
    account = ctx.aws.account
    gate = ForeignUpdate(
        ctx.aws.lambda_emulation,
        account.account_id,
        account.region,
        rng.choice(ctx.targets),
        seconds=rng.uniform(0.05, 0.3),
        operation=operation,
        caller=caller,
    )
    return Armed(
        gates=[gate], update_seconds=rng.choice([0.2, 0.3, 0.4]), labels=[f"InProgress at {caller}.{operation}"]
    )


def _conflict(ctx: ArmContext) -> Armed:
    rng = ctx.rng
    places: list[tuple[str, str | None]] = [("UpdateFunctionConfiguration", None)]
    if ctx.shape.apply:
        places.append(("UpdateFunctionConfiguration", UPDATER))
    if ctx.shape.measure:
        places += [
            ("UpdateFunctionConfiguration", PREPARE),
            ("PublishVersion", PREPARE),
            ("UpdateFunctionConfiguration", CLEANUP),
        ]
    operation, caller = rng.choice(places)
    times = rng.choice([1, 2, 3])
    fault = Fault(
        service="lambda",
        action=operation,
        code="ResourceConflictException",
        status=409,
        message="The operation cannot be performed at this time. An update is in progress for resource",
        times=times,
        caller=caller,
    )
    return Armed(faults=[fault], labels=[f"ResourceConflict x{times} on {caller or 'any'}.{operation}"])


def _race(ctx: ArmContext) -> Armed:
    rng = ctx.rng
    target = ctx.targets[0]
    current = ctx.aws.function_configuration(target)
    caller = UPDATER if ctx.shape.apply and (not ctx.shape.measure or rng.random() < 0.5) else PREPARE
    changes = rng.choice(
        [
            {"MemorySize": rng.choice([s for s in (320, 448, 896, 1280) if s != current["MemorySize"]])},
            {"Timeout": int(current["Timeout"]) + 1},
            {"Description": f"changed by someone else {rng.randrange(1000)}"},
        ]
    )
    # Measuring changes $LATEST once per size: the race may come before the first change or mid-measurement.
    nth = rng.choice([1, 2]) if caller == PREPARE else 1
    gate = RevisionRace(
        ctx.aws.account.region, target, changes, operation="UpdateFunctionConfiguration", caller=caller, nth=nth
    )
    return Armed(gates=[gate], labels=[f"race {sorted(changes)[0]} before {caller} update #{nth}"])


def _iam_lag(ctx: ArmContext) -> Armed:
    rng = ctx.rng
    places = [
        ("lambda", "GetFunction", DISCOVER),
        ("dynamodb", "GetItem", GUARD),
        ("dynamodb", "PutItem", GUARD),
        ("dynamodb", "PutItem", RECORDER),
        ("eventbridge", "PutEvents", RECORDER),
    ]
    if ctx.shape.apply:
        places += [("lambda", "UpdateFunctionConfiguration", UPDATER), ("dynamodb", "PutItem", UPDATER)]
    if ctx.shape.measure:
        places += [
            ("lambda", "UpdateFunctionConfiguration", PREPARE),
            ("lambda", "PublishVersion", PREPARE),
            ("lambda", "CreateAlias", PREPARE),
            ("lambda", "Invoke", MEASURE),
            ("lambda", "DeleteAlias", CLEANUP),
            ("lambda", "DeleteFunction", CLEANUP),
        ]
    service, action, caller = rng.choice(places)
    times = rng.choice([1, 2])
    fault = Fault(
        service=service,  # type: ignore[arg-type]
        action=action,
        code="AccessDeniedException",
        status=403 if service == "lambda" else 400,
        message=f"User is not authorized to perform: {action} (IAM change still propagating)",
        times=times,
        caller=caller,
    )
    return Armed(faults=[fault], labels=[f"denied x{times} {caller}.{action}"])


def _dynamodb(ctx: ArmContext) -> Armed:
    rng = ctx.rng
    code, status = THROTTLING["dynamodb"]
    faults = []
    for caller in rng.sample([RECORDER, GUARD, UPDATER], rng.choice([1, 2])):
        action = rng.choice(["*", "PutItem", "GetItem", "DeleteItem"])
        if rng.random() < 0.5:
            trigger: dict[str, Any] = {"times": rng.randrange(2, 8)}
        else:
            trigger = {"probability": rng.choice([0.3, 0.5]), "seed": rng.randrange(1 << 30)}
        faults.append(Fault(service="dynamodb", action=action, code=code, status=status, caller=caller, **trigger))
    return Armed(faults=faults, labels=[f"ddb throttled {f.caller}.{f.action}" for f in faults])


def _worker_timeout(ctx: ArmContext) -> Armed:
    rng = ctx.rng
    places = [(RECORDER, "dynamodb:PutItem"), (GUARD, "dynamodb:PutItem")]
    if ctx.shape.apply:
        places += [(UPDATER, "lambda:UpdateFunctionConfiguration")] * 3  # the headline case: timed out after applying
    if ctx.shape.measure:
        places += [
            (PREPARE, "lambda:UpdateFunctionConfiguration"),
            (PREPARE, "lambda:PublishVersion"),
            (PREPARE, "lambda:CreateAlias"),
            (CLEANUP, "lambda:DeleteAlias"),
            (CLEANUP, "lambda:UpdateFunctionConfiguration"),
        ]
    function, after = rng.choice(places)
    times = rng.choice([1, 1, 2])
    spec = WorkerTimeout(function=function, after=after, times=times, seconds=0.25)
    return Armed(timeouts=[spec], labels=[f"{function} timed out after {after} x{times}"])


INGREDIENTS: dict[str, Arming] = {
    "throttling 10 %": _throttle(0.10),
    "5xx bursts": _bursts,
    "InProgress windows": _in_progress,
    "ResourceConflict": _conflict,
    "RevisionId race": _race,
    "IAM propagation lag": _iam_lag,
    "DynamoDB throttling": _dynamodb,
    "worker timeout": _worker_timeout,
}


def _mixed(ctx: ArmContext) -> Armed:
    names = ctx.rng.sample(sorted(INGREDIENTS), ctx.rng.choice([2, 3]))
    if ctx.shape.targets > 1 and "RevisionId race" in names:  # a race needs to know its target's update
        names.remove("RevisionId race")
    armed = Armed()
    for name in names:
        armed = armed.merge(INGREDIENTS[name](ctx))
    return armed


@dataclass(frozen=True)
class FaultKind:
    name: str
    arm: Arming
    shapes: tuple[str, ...]
    executions: int  # full run
    quick: int  # seed-fixed subset
    profiles: tuple[FunctionProfile, ...] = (FunctionProfile(),)
    memory_size: int = 512
    timeout: int = 30


ALL_SHAPES = tuple(SHAPES)
KINDS: tuple[FaultKind, ...] = (
    FaultKind("no faults", _no_faults, ALL_SHAPES, executions=7, quick=2),
    FaultKind("throttling 10 %", _throttle(0.10), ALL_SHAPES, executions=21, quick=3),
    FaultKind("throttling 30 %", _throttle(0.30), ALL_SHAPES, executions=21, quick=3),
    FaultKind("5xx bursts", _bursts, ALL_SHAPES, executions=14, quick=2),
    FaultKind("InProgress windows", _in_progress, ALL_SHAPES, executions=14, quick=2),
    FaultKind("ResourceConflict", _conflict, ALL_SHAPES, executions=14, quick=2),
    FaultKind("RevisionId race", _race, ("fixed apply", "measure apply", "measure dry run"), executions=15, quick=3),
    FaultKind("IAM propagation lag", _iam_lag, ALL_SHAPES, executions=21, quick=3),
    FaultKind("DynamoDB throttling", _dynamodb, ALL_SHAPES, executions=14, quick=2),
    FaultKind(
        "target timeouts/OOM",
        _no_faults,
        ("measure dry run", "measure apply", "sweep measure dry run", "sweep measure apply"),
        executions=12,
        quick=2,
        # Out of memory below 460 MB; past its 3 s timeout below about 1,200 MB.
        profiles=(FunctionProfile(preset="memory-hungry"), FunctionProfile(preset="cpu-bound")),
        memory_size=1536,
        timeout=3,
    ),
    FaultKind("worker timeout", _worker_timeout, ALL_SHAPES, executions=21, quick=4),
    FaultKind("mixed", _mixed, ALL_SHAPES, executions=35, quick=4),
)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")[:40]


def target_names(kind: FaultKind) -> list[str]:
    """Each kind has its own targets, so its breakers see only its own runs."""
    return [f"rel-{_slug(kind.name)}-{index}" for index in range(3)]


def _live_settings(index: int) -> dict[str, Any]:
    """Target ``index``'s users: the first invokes ``$LATEST`` unqualified, the others their alias."""
    if index == 0:
        return {"live_traffic": LiveTrafficSpec(requests_per_second=LIVE_REQUESTS_PER_SECOND)}
    return {
        "aliases": [LIVE_ALIAS],
        "live_traffic": LiveTrafficSpec(requests_per_second=LIVE_REQUESTS_PER_SECOND, qualifier=LIVE_ALIAS),
    }


def simulated_account(kinds: Iterable[FaultKind], *, live: bool = False) -> SimulatedAccount:
    functions = [
        SimulatedFunction(
            name=name,
            memory_size=kind.memory_size,
            timeout=kind.timeout,
            tags={"autotune": "enabled"},
            profile=kind.profiles[index % len(kind.profiles)].model_copy(update={"seed": index}),
            **(_live_settings(index) if live else {}),
        )
        for kind in kinds
        for index, name in enumerate(target_names(kind))
    ]
    parameters = {"StatusPollIntervalMs": "20", "MaxStatusWaitSeconds": "5"}
    if live:
        # The unqualified live target is measured on a shadow copy, under the same faults.
        parameters["ShadowRoleArns"] = SHADOW_ROLE
    return SimulatedAccount(functions=functions, parameters=parameters)


def _shadows_of(aws: EmbeddedAws, arn: str) -> list[str]:
    """Shadow copies of ``arn`` still there once its execution has ended (clean-up deletes them)."""
    lam = aws.client("lambda")
    with unlogged():
        names = [
            fn["FunctionName"]
            for page in lam.get_paginator("list_functions").paginate()
            for fn in page["Functions"]
            if fn["FunctionName"].startswith(SHADOW_PREFIX)
        ]
        return [name for name in names if lam.list_tags(Resource=name).get("Tags", {}).get(SHADOW_OF_TAG) == arn]


def driving_only(account: SimulatedAccount, targets: Iterable[str]) -> SimulatedAccount:
    """``account`` with live traffic left only on ``targets``: what one execution's users send."""
    wanted = set(targets)
    return account.model_copy(
        update={
            "functions": [
                function if function.name in wanted else function.model_copy(update={"live_traffic": None})
                for function in account.functions
            ]
        }
    )


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
        shadows = _shadows_of(self.aws, arn)
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


# ---------------------------------------------------------------------------------------------
# The suite and its table
# ---------------------------------------------------------------------------------------------

COLUMNS = (
    ("executions", "executions"),
    ("failed runs", "failed"),
    ("faults injected", "injected"),
    ("records lost", "records_lost"),
    ("false successes", "false_successes"),
    ("orphans", "orphans"),
    ("inconsistent $LATEST", "inconsistent_latest"),
    ("inconsistent breakers", "inconsistent_breakers"),
    ("attempts over bound", "over_bound"),
    ("live requests", "live_requests"),
    ("liveAtCandidateSizes", "live_at_candidate_sizes"),
)
LOSS_COLUMNS = (
    "records_lost",
    "false_successes",
    "orphans",
    "inconsistent_latest",
    "inconsistent_breakers",
    "over_bound",
    "live_at_candidate_sizes",
)


def run_suite(
    *,
    quick: bool,
    seed: int = 6,
    kinds: Iterable[FaultKind] = KINDS,
    progress: Callable[[str], None] | None = None,
    live: bool = False,
    per_kind: int | None = None,
) -> list[Verdict]:
    """Run every kind's executions (``quick``: the subset) on one embedded AWS; a verdict per execution.

    ``live``: the targets' users invoke them during each execution (see the module docstring).
    ``per_kind``: at most this many executions of each kind.
    """
    kinds = list(kinds)
    rng = random.Random(seed)
    verdicts: list[Verdict] = []
    with EmbeddedAws(simulated_account(kinds, live=live)) as aws:
        suite = Suite(aws, attempt_bounds(json.loads(ASL_FILE.read_text())))
        for position, kind in enumerate(kinds):
            count = kind.quick if quick else kind.executions
            count = count if per_kind is None else min(count, per_kind)
            for index in range(count):
                # Each kind starts its cycle of shapes elsewhere, so a short subset still has every shape.
                shape = SHAPES[kind.shapes[(index + position) % len(kind.shapes)]]
                verdict = suite.execute(kind, shape, random.Random(rng.randrange(1 << 30)))
                verdicts.append(verdict)
                if progress:
                    progress(
                        f"{kind.name:20} {shape.name:21} {verdict.status:9} {verdict.error or '-':24} "
                        f"{verdict.failed_state or '-':20} {verdict.seconds:5.1f}s {' '.join(verdict.outcomes)} "
                        f"| {'; '.join(verdict.labels)}"
                        + "".join(f"\n    LOSS {problem}" for problem in verdict.problems)
                    )
    return verdicts


def table(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for verdict in verdicts:
        row = rows.setdefault(verdict.kind, {"kind": verdict.kind} | {key: 0 for _, key in COLUMNS})
        row["executions"] += 1
        row["failed"] += verdict.status != "SUCCEEDED"
        row["injected"] += verdict.injected
        row["live_requests"] += verdict.live_requests
        for key in LOSS_COLUMNS:
            row[key] += getattr(verdict, key)
    total = {"kind": "total"} | {key: sum(row[key] for row in rows.values()) for _, key in COLUMNS}
    return [*rows.values(), total]


def format_table(rows: list[dict[str, Any]]) -> str:
    headers = ["fault kind", *(title for title, _ in COLUMNS)]
    cells = [[str(row["kind"]), *(str(row[key]) for _, key in COLUMNS)] for row in rows]
    lines = text_table([headers, *cells], right=set(range(1, len(headers))))
    if cells and cells[-1][0] == "total":  # a rule above the total, as above the rows
        lines.insert(-1, lines[1])
    return "\n".join(lines)


def format_bounds(bounds: dict[str, TaskBound]) -> str:
    lines = ["state                     attempts  x SDK  = requests/call  max waits s  max seconds"]
    for bound in bounds.values():
        lines.append(
            f"{bound.state:24} {bound.attempts:9}  {bound.sdk_attempts:5}  {bound.requests_per_call:15}  "
            f"{bound.wait_seconds:11.0f}  {bound.seconds:11.0f}"
        )
    return "\n".join(lines)


def summary(rows: list[dict[str, Any]], *, live: bool) -> list[str]:
    """The goal, stated: every loss column 0, the live-traffic one included; FAIL names the columns that are not."""
    total = rows[-1]
    lines = []
    if live:
        lines.append(
            f"liveAtCandidateSizes: {total['live_at_candidate_sizes']} of {total['live_requests']} live requests "
            "ran at a candidate size (must be 0)"
        )
    failing = [key for key in LOSS_COLUMNS if total[key]]
    lines.append(f"FAIL: {', '.join(failing)} not 0" if failing else "every loss column is 0")
    return lines


def main(quick: bool = False, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks reliability", description=__doc__.split("\n")[0])
    passes = parser.add_mutually_exclusive_group()
    passes.add_argument("--live", action="store_true", help="only the pass with live traffic on every target")
    passes.add_argument("--no-live", action="store_true", help="only the pass without live traffic")
    args = parser.parse_args(argv or [])
    started = time.monotonic()

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    status = 0
    # The plain pass at the requested size; the live pass is the subset unless asked for alone.
    plans = [(False, quick)] if args.no_live else [(True, quick)] if args.live else [(False, quick), (True, True)]
    for live, subset in plans:
        verdicts = run_suite(quick=subset, progress=progress, live=live)
        rows = table(verdicts)
        title = "with live traffic on every target" if live else "without live traffic"
        print(f"{'subset' if subset else 'full suite'} {title}:")
        print(format_table(rows))
        for line in summary(rows, live=live):
            print(line)
        print()
        status |= 1 if any(rows[-1][key] for key in LOSS_COLUMNS) else 0
    print("attempt bound per Task state (attempt_bounds: ASL retriers x clients.py total_max_attempts):")
    print(format_bounds(attempt_bounds(json.loads(ASL_FILE.read_text()))))
    print(f"\nexecutions in {time.monotonic() - started:.0f} s")
    return status
