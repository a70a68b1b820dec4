"""The permissions manifest against the ASL, the error classes and what the scenarios really call.

The template's policies are checked against the manifest in tests/template, pre-flight's checks
in tests/unit/test_preflight.py; here: each Task invokes the function the manifest names for its
step, its retriers implement the error classes' policy, and a seed-fixed sample
of the permission matrix (benchmarks/permissions.py) runs on the embedded AWS, so a call the
manifest does not declare, or a grant no scenario needs, fails a test.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autotuner_core.policy import errors
from autotuner_core.policy.permissions import by_step

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/ is not an installed package
from benchmarks import permissions

ROOT = Path(__file__).resolve().parents[2]
ASL = json.loads((ROOT / "statemachine" / "autotuner.asl.json").read_text())


def _tasks(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        if state["Type"] == "Task":
            yield name, state
        for branch in state.get("Branches", []):
            yield from _tasks(branch["States"])
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from _tasks(state[key]["States"])


TASKS = dict(_tasks(ASL["States"]))


def test_every_task_invokes_the_function_the_manifest_names_for_its_step():
    # Given the ASL's Tasks and the manifest's steps
    invoked = {}
    for name, state in TASKS.items():
        match = re.fullmatch(r"\$\{(\w+)Arn\}", state["Parameters"]["FunctionName"])
        assert match, f"{name} invokes {state['Parameters']['FunctionName']!r}, not a template function"
        invoked[name] = match.group(1)
    # Then the two agree, Task by Task, and the manifest names no step the ASL lacks
    assert invoked == by_step()


@pytest.mark.parametrize("name", sorted(TASKS))
def test_each_task_retries_the_transient_errors_and_never_the_permanent_ones(name: str):
    # Given one Task's retriers
    retried: set[str] = set()
    for retrier in TASKS[name].get("Retry", []):
        if retrier.get("MaxAttempts", 3) > 0:
            retried |= set(retrier["ErrorEquals"])
    # Then every transient error of the class tree is retried
    assert retried >= set(errors.transient_errors())
    # And no permanent one is (a record or clean-up may retry a denial: IAM propagation after pre-flight)
    allowed = {"PermissionDeniedError"} if errors.step_policy(name).retries_denial else set()
    assert (retried & set(errors.permanent_errors())) - allowed == set()


@pytest.fixture(scope="module")
def sampled_matrix():
    return permissions.matrix(sample=3, seed=permissions.SEED)


def test_sampled_revocations_each_change_an_outcome(sampled_matrix):
    # Given a seed-fixed sample of the manifest's observable grants, each revoked alone
    rows, _, _ = sampled_matrix
    assert len(rows) == 3
    # Then every one is used by a scenario and its revocation changes how a scenario ends
    assert [(row.role, row.action, row.necessary) for row in rows if not row.necessary] == []
    assert all(row.scenarios for row in rows)


def test_every_call_the_scenarios_make_is_declared_and_allowed(sampled_matrix):
    # Given the call log of every scenario with the template's permissions
    _, uncovered, baseline = sampled_matrix
    # Then no call was denied and none is missing from the manifest
    assert uncovered == []
    # And the scenarios ran as designed: all succeed but the one that fails on purpose
    assert {name: outcome.status for name, outcome in baseline.items()} == {
        name: "FAILED" if scenario.fails else "SUCCEEDED" for name, scenario in permissions.SCENARIOS.items()
    }
