"""statemachine/build.py: the committed ASL, transition counts and policy table are what it writes;
the run budget's discovery calls come from the permissions manifest."""

from __future__ import annotations

import copy
import gc
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from autotuner_core.cost import budget, run_cost
from autotuner_core.policy import errors, permissions

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # statemachine/ is not an installed package
from statemachine import build

COMMITTED = json.loads(build.ASL_PATH.read_text())


def test_committed_files_are_fresh() -> None:
    # Given what the generator writes from the committed ASL and the error policy
    for path, text in build.outputs().items():
        # Then the committed file is exactly that
        assert path.read_text() == text, (
            f"{path.relative_to(build.ROOT)} is stale: run `python -m statemachine.build` (or `make asl`) and commit"
        )


def _strip(scope: dict[str, Any]) -> None:
    for body in scope["States"].values():
        body.pop("Retry", None)
        for catcher in body.get("Catch", []):
            del catcher["ErrorEquals"]
        if "ItemProcessor" in body:
            _strip(body["ItemProcessor"])


def test_retry_and_catch_errors_come_from_the_policy_alone() -> None:
    # Given the ASL without a single Retry or Catch ErrorEquals
    bare = copy.deepcopy(COMMITTED)
    _strip(bare)
    # When the generator writes them
    # Then the ASL is the committed one, byte for byte
    assert build.asl_text(build.with_policy(bare)) == build.ASL_PATH.read_text()


def test_a_step_policy_changes_that_steps_retriers(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Summarize declared a step that must complete after pre-flight
    monkeypatch.setitem(errors.STEP_POLICIES, "Summarize", errors.MUST_COMPLETE)
    # When the ASL is written
    summarize = build.with_policy(COMMITTED)["States"]["Summarize"]
    # Then its transient retrier is patient, retries timeouts and a denial, and no longer lists it as permanent
    transient, permanent, unknown = summarize["Retry"]
    assert transient["MaxAttempts"] == errors.MUST_COMPLETE_ATTEMPTS
    assert {"PermissionDeniedError", *errors.TIMEOUT_ERRORS} <= set(transient["ErrorEquals"])
    assert "PermissionDeniedError" not in permanent["ErrorEquals"]
    assert unknown == {
        "Comment": "unknown: at most one more attempt",
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": 2,
        "MaxAttempts": 1,
        "JitterStrategy": "FULL",
    }


def test_a_new_error_class_is_retried_as_its_base_says() -> None:
    # Given a new transient class of the taxonomy
    class _ProbeError(errors.TransientError):
        pass

    # When the ASL is written
    summarize = build.with_policy(COMMITTED)["States"]["Summarize"]
    # Then its name is in the transient retrier, with no edit of the ASL or of a list
    assert "_ProbeError" in summarize["Retry"][0]["ErrorEquals"]
    # And once the class is gone, so is the name (the tree holds its subclasses weakly)
    del _ProbeError
    gc.collect()
    assert "_ProbeError" not in errors.transient_errors()


def test_transition_counts_are_walked_from_the_asl() -> None:
    # Given the paths the generator walks
    counted = {name: len(states) for name, states in build.transitions(COMMITTED).items()}
    # Then they give the numbers the run's cost is pinned to, and run_cost uses them
    assert counted == {
        "RUN_TRANSITIONS": 5,
        "FIXED_TARGET_TRANSITIONS": 5,
        "MEASURED_TARGET_TRANSITIONS": 9,
        "ROUND_TRANSITIONS": 3,
    }
    assert (
        run_cost.RUN_TRANSITIONS,
        run_cost.FIXED_TARGET_TRANSITIONS,
        run_cost.MEASURED_TARGET_TRANSITIONS,
        run_cost.ROUND_TRANSITIONS,
    ) == (5, 5, 9, 3)


def test_a_path_through_a_missing_branch_is_refused() -> None:
    # Given a path that names no branch of the Choice it meets
    # Then the walk refuses it rather than count another path
    with pytest.raises(ValueError, match="AnyTargets: the path names no branch"):
        build.walk(COMMITTED, COMMITTED["StartAt"], {"AnyTargets": "Summarize"})


def test_every_step_policy_names_a_task_of_the_asl() -> None:
    # Given the Task states of the ASL, at any depth
    task_names = {name for name, body in build.states(COMMITTED) if body["Type"] == "Task"}
    # Then the policy declares no step the ASL lacks (a renamed state would silently become ordinary)
    assert set(errors.STEP_POLICIES) <= task_names


def test_discovery_calls_are_the_manifests_lambda_actions_of_its_step() -> None:
    # Given the Lambda control-plane actions the manifest grants DiscoverResources
    actions = permissions.control_plane_actions("DiscoverResources")
    assert actions == [
        "lambda:GetFunction",
        "lambda:ListTags",
        "lambda:GetFunctionUrlConfig",
        "lambda:GetPolicy",
        "lambda:ListAliases",
        "lambda:ListEventSourceMappings",
    ]
    # Then the budget counts each once, those it makes twice twice, and gets today's number
    assert set(budget.DISCOVERY_CALLED_TWICE) <= set(actions)
    assert budget.DISCOVERY_CALLS == 8


def test_the_docs_table_is_refused_without_its_markers() -> None:
    # Given a reliability.md whose table markers were deleted
    # Then the generator says so rather than leave the table unwritten
    with pytest.raises(ValueError, match="lacks the markers"):
        build.docs_text("## The error policy\n\nno table here\n")
