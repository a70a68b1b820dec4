"""The fault-injection suite's seed-fixed subset: every fault kind, and nothing an operator relies on is lost.

One embedded AWS runs the subset of ``benchmarks/reliability.py`` (``run_suite(quick=True)``, the
same engine as ``python -m benchmarks reliability``): single targets and sweeps, measuring and
fixed-memory, dry run and apply, under each fault kind and under several at once. After each
execution the engine reads what an operator would read — the run records, each target's
configuration, versions and aliases, the state table, the execution history and the call log —
and counts the losses.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from autotuner_core.aws.clients import SDK_MAX_ATTEMPTS
from emulator.account import SimulatedAccount, SimulatedFunction, WorkerTimeout
from emulator.cloud import EmbeddedAws
from emulator.fault_gates import RevisionRace
from emulator.interceptor import unlogged

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not an installed package
from benchmarks import reliability
from benchmarks._asl_variants import states_of


@pytest.fixture(scope="module")
def verdicts() -> list[reliability.Verdict]:
    return reliability.run_suite(quick=True)


@pytest.fixture(scope="module")
def live_verdicts() -> list[reliability.Verdict]:
    # Every fault kind once, its targets' users invoking them throughout (each kind's first target
    # unqualified, the others through an alias)
    return reliability.run_suite(quick=True, live=True, per_kind=1)


def test_no_execution_reports_a_false_success_or_exceeds_the_attempt_bound(verdicts):
    # Given the seed-fixed subset ran: every fault kind, on its own and mixed
    total = reliability.table(verdicts)[-1]
    # Then no run SUCCEEDED with a failed target, and no Task or SDK call retried beyond the bound
    problems = [p for v in verdicts for p in v.problems if "SUCCEEDED with" in p or "attempt" in p]
    assert (total["false_successes"], total["over_bound"]) == (0, 0), "\n".join(problems)


def test_no_execution_loses_anything_under_any_fault(verdicts):
    # Given the seed-fixed subset ran: every fault kind, on its own and mixed
    rows = reliability.table(verdicts)
    total = rows[-1]
    assert total["executions"] == len(verdicts) >= 25
    # Then every loss column is 0: records, false successes, orphans, $LATEST, breakers, attempts
    problems = [f"{v.kind} / {v.shape} ({'; '.join(v.labels)}): {p}" for v in verdicts for p in v.problems]
    assert {key: total[key] for key in reliability.LOSS_COLUMNS} == dict.fromkeys(reliability.LOSS_COLUMNS, 0), (
        "\n".join(problems)
    )


def test_every_fault_kind_was_really_injected(verdicts):
    # A kind whose faults never fired would prove nothing.
    injected = {row["kind"]: row["injected"] for row in reliability.table(verdicts)[:-1]}
    faultless = {"no faults", "target timeouts/OOM"}  # the second's faults are the targets' own
    assert all(injected[kind] > 0 for kind in injected.keys() - faultless), injected
    assert {kind.name for kind in reliability.KINDS} == set(injected)
    # And the targets that run out of memory or time did so while measured
    answered = {error for v in verdicts if v.kind == "target timeouts/OOM" for error in v.target_errors}
    assert {"Runtime.OutOfMemory", "Sandbox.Timedout"} <= answered


def test_the_runs_cover_single_targets_sweeps_measuring_fixed_dry_run_and_apply(verdicts):
    shapes = {verdict.shape for verdict in verdicts}
    assert {"fixed apply", "measure dry run", "measure apply", "fixed dry run", "sweep fixed apply"} <= shapes
    # And faults made some executions fail: the checks also ran on failure paths
    assert {verdict.status for verdict in verdicts} == {"SUCCEEDED", "FAILED"}


def test_under_every_fault_kind_no_live_request_runs_at_a_candidate_size(live_verdicts):
    # Given every fault kind ran once with live traffic on its targets
    rows = reliability.table(live_verdicts)
    total = rows[-1]
    assert {row["kind"] for row in rows[:-1]} == {kind.name for kind in reliability.KINDS}
    # Then production was served during every execution
    assert all(verdict.live_requests > 0 for verdict in live_verdicts)
    # And no live request ran at a size other than the original or the one the execution left,
    # and nothing else an operator relies on was lost either
    problems = [f"{v.kind} / {v.shape} ({'; '.join(v.labels)}): {p}" for v in live_verdicts for p in v.problems]
    assert total["live_at_candidate_sizes"] == 0, "\n".join(problems)
    assert {key: total[key] for key in reliability.LOSS_COLUMNS} == dict.fromkeys(reliability.LOSS_COLUMNS, 0), (
        "\n".join(problems)
    )
    assert reliability.summary(rows, live=True) == [
        f"liveAtCandidateSizes: 0 of {total['live_requests']} live requests ran at a candidate size (must be 0)",
        "every loss column is 0",
    ]


def test_with_live_traffic_targets_were_measured_live_latest_ones_on_shadows(live_verdicts):
    # The column proves something only if measuring happened while production was served
    outcomes = [outcome for verdict in live_verdicts for outcome in verdict.outcomes]
    measured = [v for v in live_verdicts if v.shape.startswith(("measure", "sweep measure"))]
    assert any(o.split("/")[0] in ("RECOMMENDED", "UNCHANGED", "APPLIED") for v in measured for o in v.outcomes)
    # And no unqualified live target was refused: the deployment allows shadows, so each was measured on one
    assert "FAILED/LiveTrafficError" not in outcomes
    assert sum(v.shadows_measured for v in live_verdicts) > 0


def test_the_summary_fails_the_goal_when_live_requests_ran_at_a_candidate_size():
    # Given one execution whose users were served at a candidate size
    verdict = reliability.Verdict(
        kind="no faults",
        shape="measure dry run",
        labels=["none"],
        status="SUCCEEDED",
        error=None,
        failed_state=None,
        outcomes=["RECOMMENDED"],
        target_errors=[],
        seconds=1.0,
        injected=0,
        live_requests=40,
        live_at_candidate_sizes=7,
    )
    rows = reliability.table([verdict])
    # Then the column counts it as a loss and the summary says FAIL
    assert rows[-1]["live_at_candidate_sizes"] == 7 and verdict.losses == 7
    assert reliability.summary(rows, live=True) == [
        "liveAtCandidateSizes: 7 of 40 live requests ran at a candidate size (must be 0)",
        "FAIL: live_at_candidate_sizes not 0",
    ]
    assert "liveAtCandidateSizes" in reliability.format_table(rows).splitlines()[0]


def test_the_attempt_bound_is_the_retriers_arithmetic():
    # Given a Task with the three retriers of the error policy
    asl = {
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemProcessor": {
                    "States": {
                        "Work": {
                            "Type": "Task",
                            "TimeoutSeconds": 40,
                            "Retry": [
                                {"ErrorEquals": ["ThrottledError"], "IntervalSeconds": 2, "BackoffRate": 2,
                                 "MaxAttempts": 4, "MaxDelaySeconds": 10},
                                {"ErrorEquals": ["InvalidInputError"], "MaxAttempts": 0},
                                {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3, "MaxAttempts": 1},
                            ],
                        }
                    }
                },
            }
        }
    }  # fmt: skip
    (bound,) = reliability.attempt_bounds(asl, sdk_max_attempts=3).values()
    # Then each retrier adds its own attempts, and SDK attempts multiply them
    assert bound.attempts == 1 + 4 + 0 + 1
    assert bound.requests_per_call == 6 * 3
    assert bound.wait_seconds == 2 + 4 + 8 + 10 + 3  # the fourth wait is capped at MaxDelaySeconds
    assert bound.seconds == 6 * 40 + 27


def test_the_deployed_state_machine_has_a_bound_for_every_task():
    asl = json.loads(reliability.ASL_FILE.read_text())
    bounds = reliability.attempt_bounds(asl)
    tasks = [name for name, state in states_of(asl) if state.get("Type") == "Task"]
    assert sorted(bounds) == sorted(tasks)
    assert all(bound.sdk_attempts == SDK_MAX_ATTEMPTS and bound.attempts > 1 for bound in bounds.values())


def test_an_updater_timed_out_after_applying_is_retried_and_applies_once():
    # Given the updater will be cut off by its timeout right after its UpdateFunctionConfiguration
    target = SimulatedFunction(name="orders-api", memory_size=512, timeout=30, tags={"autotune": "enabled"})
    with EmbeddedAws(SimulatedAccount(functions=[target])) as aws:
        aws.runtime.set_worker_timeouts(
            [WorkerTimeout(function="UpdateConfigurationFunction", after="lambda:UpdateFunctionConfiguration")],
            interceptor=aws.interceptor,
            time_scale=aws.account.retry_time_scale,
        )
        # When a run applies 1024 MB
        report = aws.run({"targets": ["orders-api"], "memorySize": 1024, "apply": True})
        memory = aws.function_configuration("orders-api")["MemorySize"]
    # Then the state machine saw what Lambda reports for a timed-out function, and retried
    failures = [event["taskFailedEventDetails"] for event in report.events if event["type"] == "TaskFailed"]
    assert [failure["error"] for failure in failures] == ["Sandbox.Timedout"]
    assert "Task timed out after" in json.loads(failures[0]["cause"])["errorMessage"]
    assert report.task_attempts["UpdateConfiguration"] == 2
    # And the retry found the change already made: applied once, recorded once, run succeeded
    assert report.status == "SUCCEEDED"
    assert memory == 1024
    (record,) = report.records
    assert (record["outcome"], record["after"]["MemorySize"]) == ("APPLIED", 1024)


ORDERS = SimulatedFunction(name="orders-api", memory_size=512, timeout=30, tags={"autotune": "enabled"})
MEASURE = {"targets": ["orders-api"], "memorySizes": [256, 1024], "invocations": 5, "refine": False}


def temporary_leftovers(aws: EmbeddedAws, name: str) -> list[str]:
    lam = aws.client("lambda")
    with unlogged():
        aliases = [alias["Name"] for alias in lam.list_aliases(FunctionName=name)["Aliases"]]
        versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
    return [alias for alias in aliases if alias.startswith("autotuner-")] + [
        version["Version"] for version in versions if version["Version"] != "$LATEST"
    ]


def test_a_measurement_cut_off_after_creating_an_alias_is_retried_to_the_end():
    with EmbeddedAws(SimulatedAccount(functions=[ORDERS])) as aws:
        # Given PrepareMeasurement times out right after it created its first temporary alias
        aws.runtime.set_worker_timeouts(
            [WorkerTimeout(function="PrepareMeasurementFunction", after="lambda:CreateAlias", seconds=0.2)],
            interceptor=aws.interceptor,
            time_scale=aws.account.retry_time_scale,
        )
        # When a run measures the function
        report = aws.run(MEASURE)
        found = aws.function_configuration("orders-api")
        leftovers = temporary_leftovers(aws, "orders-api")
    # Then the retry took over the alias the first attempt made, and the run finished: one attempt
    # more than the measuring loop's rounds entered PrepareMeasurement
    rounds = report.states_entered.count("PrepareMeasurement")
    assert report.task_attempts["PrepareMeasurement"] == rounds + 1
    assert report.status == "SUCCEEDED"
    assert report.records[0]["outcome"] in ("RECOMMENDED", "UNCHANGED")
    # And it left the function as it found it: no alias, no version, $LATEST untouched
    assert leftovers == []
    assert (found["MemorySize"], found["Description"]) == (512, "Simulated target function (embedded AWS)")


def test_someone_elses_change_during_measurement_stands():
    with EmbeddedAws(SimulatedAccount(functions=[ORDERS])) as aws:
        # Given someone edits the description between the measurement's first and second change of $LATEST
        race = RevisionRace(
            aws.account.region,
            "orders-api",
            {"Description": "edited by the on-call"},
            operation="UpdateFunctionConfiguration",
            caller="PrepareMeasurementFunction",
            nth=2,
        )
        aws.interceptor.gates.append(race)
        # When a run measures the function
        report = aws.run(MEASURE)
        found = aws.function_configuration("orders-api")
        leftovers = temporary_leftovers(aws, "orders-api")
    # Then the tuner stopped, said why, and cleaned up what was its own
    assert race.fired
    assert (report.status, report.error) == ("FAILED", "TargetChangedError")
    assert leftovers == []
    # And their description stays, with the memory the function had
    assert (found["MemorySize"], found["Description"]) == (512, "edited by the on-call")


def test_a_lease_taken_by_a_check_that_then_timed_out_does_not_block_the_next_run():
    with EmbeddedAws(SimulatedAccount(functions=[ORDERS])) as aws:
        # Given CheckCircuit times out right after taking the target's lease, on both of its attempts
        aws.runtime.set_worker_timeouts(
            [WorkerTimeout(function="CheckCircuitFunction", after="dynamodb:PutItem", times=2, seconds=0.2)],
            interceptor=aws.interceptor,
            time_scale=aws.account.retry_time_scale,
        )
        first = aws.run({"targets": ["orders-api"], "memorySize": 1024, "apply": True})
        # When the next run comes
        second = aws.run({"targets": ["orders-api"], "memorySize": 1024, "apply": True})
    # Then the first failed with the timeout, recorded, and the second was not refused as "in progress"
    assert (first.status, first.records[0]["errorType"]) == ("FAILED", "Sandbox.Timedout")
    assert (second.status, second.records[0]["outcome"]) == ("SUCCEEDED", "APPLIED")
