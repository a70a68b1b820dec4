"""The permission matrix: every action the template grants, revoked alone, against the scenarios that use it.

One embedded AWS holds a small account (targets to apply to, with and without an alias, one to
measure, two to sweep by tag). Each scenario runs once with the template's permissions: its call
log (IAM is enforced on every call, emulator/iam_enforcement.py) says which role made
which call, so which scenarios need each grant. Then, for every action of the permissions manifest
(layers/common/autotuner_core/policy/permissions.py), the action is revoked from its role alone
and the scenarios that called it run again. The action is necessary when a scenario's outcome
changes (status, error, failed state, the run records' outcomes): a FAILED run with the error
pre-flight or the service gave, or a degraded path. Scenarios run cheapest first and the first
changed outcome settles it, so the matrix stays a few minutes long.

Printed: role, action, the scenarios that used it, whether it is necessary and how the run ended
without it; grants the manifest marks as not observable here (with the reason); and "calls not
covered by the template": calls the scenarios made that were denied, or that the manifest does
not declare for the role that made them. Both lists must be empty.

``--quick`` (and the test in make test) runs a seed-fixed sample of the grants.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from typing import Any

from autotuner_core.policy.permissions import PRINCIPALS
from benchmarks._goals import Result, judge
from benchmarks._table import text_table
from emulator.account import Fault, SimulatedAccount, SimulatedFunction, WorkerTimeout
from emulator.cloud import EmbeddedAws
from emulator.interceptor import unlogged

QUICK_SAMPLE = 4
SEED = 10

# The simulated targets' execution role: shadows of live targets may run with it (ShadowRoleArns).
TARGET_ROLE = "arn:aws:iam::123456789012:role/simulated-target-role"
ACCOUNT = SimulatedAccount(
    parameters={"StatusPollIntervalMs": "20", "MaxStatusWaitSeconds": "5", "ShadowRoleArns": TARGET_ROLE},
    functions=[
        SimulatedFunction(name="orders-api", memory_size=512, timeout=30, tags={"autotune": "enabled"}),
        SimulatedFunction(
            name="billing-api", memory_size=512, timeout=30, tags={"autotune": "enabled"}, aliases=["live"]
        ),
        SimulatedFunction(
            name="image-resizer",
            memory_size=512,
            timeout=60,
            tags={"autotune": "enabled"},
            profile={"preset": "cpu-bound", "seed": 7},
        ),
        SimulatedFunction(name="cart-api", memory_size=1024, timeout=30, tags={"autotune": "enabled", "team": "shop"}),
        SimulatedFunction(
            name="checkout-api", memory_size=1024, timeout=30, tags={"autotune": "enabled", "team": "shop"}
        ),
        # Invoked unqualified in the last day: live, so it is measured on a shadow copy.
        SimulatedFunction(
            name="live-api",
            memory_size=512,
            timeout=30,
            tags={"autotune": "enabled"},
            recent_invocations=500,
            layers=["shared-libs"],  # its shadow is created with them, in its VPC
            vpc={"subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"]},
        ),
    ],
)


@dataclass(frozen=True)
class Scenario:
    """One execution input, with the worker timeouts and faults armed while it runs (failure paths)."""

    input: dict[str, Any]
    worker_timeouts: tuple[WorkerTimeout, ...] = ()
    faults: tuple[Fault, ...] = ()
    fails: bool = False  # the run is meant to end FAILED
    orphan: bool = False  # a crashed run's shadow is left in the account first (the orphan sweep's work)


_APPLY = {"targets": ["orders-api"], "memorySize": 1024, "apply": True}
# An explicit payload: a sweep skips functions without one.
_MEASURE = {"memorySizes": [512, 1024], "invocations": 5, "payload": {}}
# Cheapest first: the matrix stops at the first scenario whose outcome a revocation changes.
SCENARIOS: dict[str, Scenario] = {
    "apply": Scenario(_APPLY),
    "apply-alias-new": Scenario({**_APPLY, "alias": "live"}),
    "apply-alias-existing": Scenario({**_APPLY, "targets": ["billing-api"], "alias": "live"}),
    # Lambda refuses the first update (an update in progress): Powertools Idempotency deletes its
    # in-progress record so that the state machine's retry may apply it.
    "apply-conflict-once": Scenario(
        _APPLY,
        faults=(
            Fault(
                service="lambda",
                action="UpdateFunctionConfiguration",
                code="ResourceConflictException",
                status=409,
                message="An update is in progress for resource",
                times=1,
                caller="UpdateConfigurationFunction",
            ),
        ),
    ),
    # Every attempt of the update is cut off after Lambda accepted it (the first right after the
    # update, the retries, which find the size set, at publishing the alias's version): the run
    # fails, and the clean-up after the failure must put the target's memory back.
    "apply-cut-off": Scenario(
        {**_APPLY, "alias": "live"},
        (
            WorkerTimeout(function="UpdateConfigurationFunction", after="lambda:UpdateFunctionConfiguration"),
            WorkerTimeout(function="UpdateConfigurationFunction", after="lambda:PublishVersion", times=10),
        ),
        fails=True,
    ),
    "sweep-by-tag": Scenario({"select": {"tags": {"team": "shop"}}, **_MEASURE}),
    "sweep-by-prefix": Scenario({"select": {"namePrefix": "cart"}, **_MEASURE}),
    "measure-live-shadow": Scenario({"targets": ["live-api"], **_MEASURE}),
    "orphan-sweep": Scenario({"targets": ["orders-api"], "memorySize": 1024}, orphan=True),
    "measure-refine-apply": Scenario(
        {"targets": ["image-resizer"], **_MEASURE, "memorySizes": [512, 1024, 2048], "refine": True, "apply": True}
    ),
}


@dataclass(frozen=True)
class Outcome:
    """What a user sees of a run: how it ended, where, and each target's recorded outcome."""

    status: str
    error: str | None
    failed_state: str | None
    records: tuple[tuple[str, str, str | None], ...]

    def text(self) -> str:
        if self.status == "SUCCEEDED":
            outcomes = sorted({outcome for _, outcome, _ in self.records})
            return f"SUCCEEDED ({', '.join(outcomes)})"
        return f"{self.status} {self.error} at {self.failed_state}"


@dataclass(frozen=True)
class Row:
    role: str
    action: str
    scenarios: tuple[str, ...]
    necessary: bool | None  # None: not observable in the embedded AWS (reason in ``how``)
    how: str


# Permissions a call depends on without being its own action: GetFunction returns Tags only to a
# caller allowed lambda:ListTags (Lambda API reference, GetFunction), and discovery decides on tags.
IMPLIED: dict[str, tuple[str, ...]] = {"lambda:GetFunction": ("lambda:ListTags",)}


def _outcome(report: Any) -> Outcome:
    records = tuple(
        sorted(
            (str(record.get("target", "")).rsplit(":", 1)[-1], str(record.get("outcome")), record.get("errorType"))
            for record in report.records
        )
    )
    return Outcome(report.status, report.error, report.failed_state, records)


def _reset(aws: EmbeddedAws) -> None:
    """Put the account back as it started: target configurations, breaker and lease items, run records."""
    assert aws.stack is not None
    lam, dynamodb = aws.client("lambda"), aws.client("dynamodb")
    with unlogged():
        for function in aws.account.functions:
            if lam.get_function_configuration(FunctionName=function.name)["MemorySize"] != function.memory_size:
                lam.update_function_configuration(FunctionName=function.name, MemorySize=function.memory_size)
                lam.get_waiter("function_updated_v2").wait(
                    FunctionName=function.name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200}
                )
        table = aws.stack.outputs["StateTableName"]
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                dynamodb.delete_item(TableName=table, Key={"pk": item["pk"]})
        # And no run history: a size put back above after an earlier scenario's apply would otherwise
        # read as a deploy's revert (targets/drift.py) and change what the next scenario does.
        history = aws.stack.outputs["RunHistoryTableName"]
        for page in dynamodb.get_paginator("scan").paginate(TableName=history):
            for item in page["Items"]:
                dynamodb.delete_item(TableName=history, Key={"target": item["target"], "runKey": item["runKey"]})


ORPHAN = "autotuner-shadow-0rphan00-0000000000"


def _plant_orphan(aws: EmbeddedAws) -> None:
    """A shadow a crashed run of this stack left: tagged by the tuner, its execution long over."""
    from autotuner_core.measuring.shadow import EXECUTION_TAG, SHADOW_OF_TAG, code_key

    assert aws.stack is not None
    lam = aws.client("lambda")
    execution = aws.stack.state_machine_arn.replace(":stateMachine:", ":execution:") + ":crashed-run"
    with unlogged():
        if any(fn["FunctionName"] == ORPHAN for fn in lam.list_functions(MaxItems=50)["Functions"]):
            return
        target = lam.get_function(FunctionName="orders-api")["Configuration"]
        aws.client("s3").put_object(Bucket=aws.stack.outputs["SweepBucketName"], Key=code_key(ORPHAN), Body=b"x")
        lam.create_function(
            FunctionName=ORPHAN,
            Role=TARGET_ROLE,
            Runtime="python3.13",
            Handler="simulated.handler",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
            Tags={
                SHADOW_OF_TAG: target["FunctionArn"],
                EXECUTION_TAG: execution,
                "lambda-autotuner:stack": aws.account.stack_name,
            },
        )


def _run(aws: EmbeddedAws, name: str) -> tuple[Outcome, list[Any]]:
    _reset(aws)
    scenario = SCENARIOS[name]
    if scenario.orphan:
        _plant_orphan(aws)
    scale = aws.account.retry_time_scale
    aws.runtime.set_worker_timeouts(list(scenario.worker_timeouts), interceptor=aws.interceptor, time_scale=scale)
    aws.interceptor.set_faults(list(scenario.faults))
    try:
        report = aws.run(scenario.input)
    finally:
        aws.runtime.set_worker_timeouts([], interceptor=aws.interceptor, time_scale=scale)
        aws.interceptor.set_faults([])
    return _outcome(report), list(aws.interceptor.log.calls)


def grants() -> list[tuple[str, str, bool | str]]:
    """(role, action, observable) for every action of the manifest, in manifest order, each once.

    An action granted on two resources (RecordResult's dynamodb:PutItem) is revoked from both at
    once, as the account file's ``revoke`` does.
    """
    found: dict[tuple[str, str], bool | str] = {}
    for entry in PRINCIPALS:
        for grant in entry.grants:
            for action in grant.actions:
                found.setdefault((entry.logical_id, action), grant.observable)
    return [(role, action, observable) for (role, action), observable in found.items()]


def matrix(sample: int | None = None, seed: int = SEED) -> tuple[list[Row], list[str], dict[str, Outcome]]:
    """Run the scenarios, then each revocation; returns the rows, the uncovered calls and the baselines."""
    chosen = grants()
    if sample is not None:
        observable = [grant for grant in chosen if grant[2] is True]
        chosen = sorted(random.Random(seed).sample(observable, sample), key=chosen.index)
    declared = {(entry.logical_id, action) for entry in PRINCIPALS for action in entry.actions}
    rows: list[Row] = []
    uncovered: set[str] = set()
    with EmbeddedAws(ACCOUNT) as aws:
        baseline: dict[str, Outcome] = {}
        used: dict[tuple[str, str], set[str]] = {}
        for name in SCENARIOS:
            baseline[name], calls = _run(aws, name)
            for record in calls:
                if record.principal is None:
                    continue
                if record.denied:
                    uncovered.add(f"{record.principal} {record.denied[0]} on {record.denied[1]} (denied, {name})")
                for action, resource in record.authorized:
                    used.setdefault((record.principal, action), set()).add(name)
                    for implied in IMPLIED.get(action, ()):
                        used.setdefault((record.principal, implied), set()).add(name)
                    if (record.principal, action) not in declared:
                        uncovered.add(f"{record.principal} {action} on {resource} (not in the manifest, {name})")
        for role, action, observable in chosen:
            scenarios = tuple(name for name in SCENARIOS if name in used.get((role, action), set()))
            if observable is not True:
                rows.append(Row(role, action, scenarios, None, str(observable)))
                continue
            if not scenarios:
                rows.append(Row(role, action, (), False, "no scenario calls it"))
                continue
            changed = None
            with aws.revoked(role, [action]):
                # Cheapest scenario first; one changed outcome is enough to prove the grant needed.
                for name in scenarios:
                    outcome, _ = _run(aws, name)
                    if outcome != baseline[name]:
                        changed = f"{name}: {outcome.text()}"
                        break
            rows.append(Row(role, action, scenarios, changed is not None, changed or "no outcome changed"))
    return rows, sorted(uncovered), baseline


def main(quick: bool = False) -> Result:
    rows, uncovered, baseline = matrix(QUICK_SAMPLE if quick else None)
    print("scenarios (all permissions granted):")
    for name, outcome in baseline.items():
        print(f"  {name}: {outcome.text()}")
    table = [["role", "action", "scenarios", "necessary", "without it"]]
    for row in rows:
        necessary = "n/a" if row.necessary is None else ("yes" if row.necessary else "NO")
        table.append([row.role, row.action, ",".join(row.scenarios) or "-", necessary, row.how])
    print("\n".join(text_table(table, right=set())))
    unnecessary = [row for row in rows if row.necessary is False]
    print(
        f"granted actions revoked: {sum(row.necessary is not None for row in rows)}; "
        f"necessary: {sum(row.necessary is True for row in rows)}; not necessary: {len(unnecessary)}; "
        f"not observable here: {sum(row.necessary is None for row in rows)}"
    )
    print("calls not covered by the template:", "none" if not uncovered else "")
    for line in uncovered:
        print(f"  {line}")
    revoked = sum(row.necessary is not None for row in rows)
    counts = (
        f"granted actions revoked: {revoked}; necessary: {sum(row.necessary is True for row in rows)}; "
        f"not necessary: {len(unnecessary)}; not observable here: {sum(row.necessary is None for row in rows)}\n"
        f"calls not covered by the template: {'none' if not uncovered else len(uncovered)}"
    )
    goals = [
        judge(
            "every granted action revoked alone changes how a scenario ends",
            f"{revoked - len(unnecessary)}/{revoked} necessary" + (" (a seed-fixed sample)" if quick else ""),
            "all necessary",
            not unnecessary and revoked > 0,
            "not necessary: " + ", ".join(f"{row.role} {row.action}" for row in unnecessary),
        ),
        judge(
            "every call the scenarios make is granted by the template",
            f"{len(uncovered)} uncovered",
            "0",
            not uncovered,
            "; ".join(uncovered),
        ),
    ]
    return Result(goals=goals, tables={"permissions": counts})


if __name__ == "__main__":
    from benchmarks.__main__ import standalone

    sys.exit(standalone("permissions"))
