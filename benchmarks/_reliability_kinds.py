"""The reliability suite's executions: input shapes, the fault kinds and how each is armed, the account.

See :mod:`benchmarks.reliability` for what each kind injects and what the suite checks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autotuner_core.measuring.shadow import SHADOW_OF_TAG, SHADOW_PREFIX
from autotuner_core.policy.errors import CircuitOpenError, InvalidInputError, TuningInProgressError
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
UNCOUNTED_ERRORS = frozenset(e.__name__ for e in (InvalidInputError, CircuitOpenError, TuningInProgressError))
FIXED_SIZES = (256, 384, 640, 768, 1024, 1536)
MEASURED_SIZES = [256, 1024]
LIVE_REQUESTS_PER_SECOND = 0.2  # per AWS second: one request every 50 ms of wall time at the suite's clock
LIVE_ALIAS = "live"
# The execution role the embedded AWS gives every simulated function (cloud.py).
SHADOW_ROLE = "arn:aws:iam::123456789012:role/simulated-target-role"

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


def shadows_of(aws: EmbeddedAws, arn: str) -> list[str]:
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
