"""Static checks of statemachine/autotuner.asl.json against the rules of asl_rules.py.

The error policy they check is the one in autotuner_core/policy/errors.py (statemachine/build.py writes
the retriers from it; test_asl_fresh.py checks the ASL is what it writes). Behaviour (what actually
happens when a Task fails) is tested by executing the ASL, not here.
"""

from __future__ import annotations

from typing import Any

import pytest
from asl_graph import (
    ASL_TEXT,
    DEFINITION,
    MUST_COMPLETE,
    MUST_COMPLETE_ALSO_RETRIED,
    RECORDER_FUNCTION,
    TEMPLATE,
    TRANSIENT,
    StateRef,
    error_names,
    failure_path_states,
    is_recorder,
    max_attempts,
    successors,
    walk,
)
from asl_rules import (
    DESIGNED_EXCEPTIONS,
    catch_all_retrier_problems,
    catch_result_path_problems,
    catching_top_level_states,
    checked_states,
    choice_default_problems,
    error_name_problems,
    fail_state_problems,
    failure_path_problems,
    json_problems,
    lambda_invoke_problems,
    permanent_retry_problems,
    recorded_failure_problems,
    report,
    retrying_states,
    task_catch_problems,
    tasks,
    timeout_problems,
    transient_retrier_problems,
    transition_problems,
    undefined_substitution_problems,
    unquoted_substitution_problems,
)

# ---------------------------------------------------------------------------------------------
# The file and its substitutions
# ---------------------------------------------------------------------------------------------


def test_asl_is_valid_json() -> None:
    # Given the ASL file as written (before SAM substitutes anything)
    # When it is parsed as JSON
    problems = json_problems(ASL_TEXT)
    # Then it parses, so editors, linters and Step Functions Local can read it unsubstituted
    assert not problems, report(problems)


def test_substitutions_occur_only_inside_strings() -> None:
    # Given the ASL text
    # When everything outside JSON string literals is searched for ${...}
    problems = unquoted_substitution_problems(ASL_TEXT)
    # Then there is none: an unquoted substitution makes the file invalid JSON
    assert not problems, report(problems)


def test_substitutions_are_defined_by_the_template() -> None:
    # Given the ASL and TunerStateMachine's DefinitionSubstitutions in template.yaml
    # When every ${...} in every key and string value is looked up
    problems = undefined_substitution_problems(DEFINITION, TEMPLATE)
    # Then each one is defined (an undefined one is deployed verbatim)
    assert not problems, report(problems)


# ---------------------------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", checked_states("lambda-invoke", tasks(DEFINITION)))
def test_task_invokes_a_template_function_through_lambda_invoke(task: StateRef) -> None:
    # Given a Task state
    # When its Resource and FunctionName are read
    problems = lambda_invoke_problems(task, TEMPLATE)
    # Then it uses the optimized Lambda integration with a substituted function of the template
    assert not problems, report(problems)


@pytest.mark.parametrize("task", checked_states("timeout", tasks(DEFINITION)))
def test_task_timeout_exceeds_the_function_timeout(task: StateRef) -> None:
    # Given a Task state and the function it invokes (Timeout from the function or Globals)
    # When its TimeoutSeconds is compared with the function's Timeout
    problems = timeout_problems(task, TEMPLATE)
    # Then the Task has a timeout, longer than the function's, so the function's own timeout is reported
    assert not problems, report(problems)


@pytest.mark.parametrize("task", checked_states("transient-retrier", tasks(DEFINITION)))
def test_task_retries_transient_errors_with_backoff_and_full_jitter(task: StateRef) -> None:
    # Given a Task state
    # When its retrier for the transient errors of the error policy is read
    problems = transient_retrier_problems(task)
    # Then it lists exactly those errors (plus the allowed extras) with BackoffRate 2, a cap and FULL jitter
    assert not problems, report(problems)


@pytest.mark.parametrize("state", checked_states("permanent", retrying_states(DEFINITION)))
def test_permanent_errors_are_never_retried(state: StateRef) -> None:
    # Given a state that can retry
    # When each permanent error of the error policy meets the first retrier that matches it
    problems = permanent_retry_problems(state)
    # Then that retrier has MaxAttempts 0 (so it comes before any States.ALL retrier)
    assert not problems, report(problems)


@pytest.mark.parametrize("state", checked_states("catch-all-retrier", retrying_states(DEFINITION)))
def test_catch_all_retrier_is_last_and_retries_at_most_once(state: StateRef) -> None:
    # Given a state that can retry
    # When its States.ALL retrier, if any, is read
    problems = catch_all_retrier_problems(state)
    # Then it stands alone, comes last and allows at most one retry (unknown errors)
    assert not problems, report(problems)


@pytest.mark.parametrize("task", checked_states("task-catch", tasks(DEFINITION)))
def test_task_catches_every_error_without_replacing_its_input(task: StateRef) -> None:
    # Given a Task state
    # When its Catch list is read
    problems = task_catch_problems(task, failure_path_states(DEFINITION), TEMPLATE)
    # Then a last, lone States.ALL catcher puts the error at $.error; on a failure path at a field of its
    # own ($.recordError in the recorder), so the caught $.error reaches the record and the Fail state
    assert not problems, report(problems)


# ---------------------------------------------------------------------------------------------
# Errors, choices and the graph
# ---------------------------------------------------------------------------------------------


def test_custom_error_names_are_autotuner_error_classes() -> None:
    # Given every ErrorEquals name of every Retry and Catch that is not States.* or Lambda.*
    # When it is looked up in autotuner_core.policy.errors
    problems = error_name_problems(DEFINITION)
    # Then it is an AutotunerError subclass there (a misspelt name would never match)
    assert not problems, report(problems)


def test_no_catch_replaces_the_state_input() -> None:
    # Given every Catch of every state (Tasks, Map, Parallel)
    # When its ResultPath is read
    problems = catch_result_path_problems(DEFINITION, TEMPLATE)
    # Then the error is added beside the input (the default "$" would replace it), and on a failure path
    # it does not overwrite the error already caught
    assert not problems, report(problems)


def test_every_choice_has_a_default() -> None:
    # Given every Choice state, at any depth
    # When its fields are read
    problems = choice_default_problems(DEFINITION)
    # Then it has a Default
    assert not problems, report(problems)


def test_every_transition_targets_a_state_in_its_scope() -> None:
    # Given every StartAt, Next, Catch Next, Choice Next and Default
    # When it is looked up among the states of its own scope (a Map or branch cannot leave its scope)
    problems = transition_problems(DEFINITION)
    # Then the state exists there
    assert not problems, report(problems)


def test_no_failure_path_reaches_succeed() -> None:
    # Given every Catch of every state
    # When the graph is walked from its target
    problems = failure_path_problems(DEFINITION)
    # Then no Succeed state is reachable, and a top-level failure path ends in a Fail state
    assert not problems, report(problems)


@pytest.mark.parametrize("state", checked_states("recorded-failure", catching_top_level_states(DEFINITION, TEMPLATE)))
def test_top_level_failure_path_records_before_failing(state: StateRef) -> None:
    # Given a top-level state with a Catch (other than the recorder itself)
    # When the graph is walked from the Catch target to a Fail state
    problems = recorded_failure_problems(state, TEMPLATE)
    # Then every such path passes a Task invoking RecordResultFunction first
    assert not problems, report(problems)


def test_fail_states_report_the_caught_error() -> None:
    # Given every Fail state
    # When its error and cause fields are read
    problems = fail_state_problems(DEFINITION)
    # Then they come from the caught error via ErrorPath/CausePath, not fixed strings
    assert not problems, report(problems)


def test_a_recorder_leads_into_the_top_level_fail_state() -> None:
    # Given the top-level states
    top = [state for state in walk(DEFINITION) if state.top_level]
    fails = {state.name for state in top if state.body.get("Type") == "Fail"}
    # When the RecordResult Tasks that transition into a Fail state are collected
    recorders_into_fail = [
        state.path for state in top if is_recorder(state.body, TEMPLATE) and fails & set(successors(state.body))
    ]
    # Then there is such a Task: the failure path records, then fails
    assert fails, "the top level has no Fail state"
    assert recorders_into_fail, f"no top-level Task invoking {RECORDER_FUNCTION} transitions into {sorted(fails)}"


def _state_at(path: str) -> dict[str, Any]:
    (found,) = [state.body for state in walk(DEFINITION) if state.path == path]
    return found


def test_designed_exceptions_hold() -> None:
    # Given each deliberate exception to a rule (asl_rules.DESIGNED_EXCEPTIONS)
    tune = _state_at("TuneTargets")
    iteration = tune["ItemProcessor"]["States"]
    for (_, path), guarantee in DESIGNED_EXCEPTIONS.items():
        # Then what replaces the rule is in place
        if guarantee == "enclosing-map-fails-the-run":
            (catcher,) = tune["Catch"]
            assert catcher["ErrorEquals"] == ["States.ALL"], path
            assert DEFINITION["States"][catcher["Next"]]["Type"] == "Fail", path
        elif guarantee == "targets-record-inside-the-map":
            catch_targets = {c["Next"] for state in iteration.values() for c in state.get("Catch", [])}
            assert catch_targets <= {"CleanupAfterFailure", "RecordTargetFailure"}, path
            assert is_recorder(iteration["RecordTargetFailure"], TEMPLATE), path
        else:
            raise AssertionError(f"{path}: unknown guarantee {guarantee}")


@pytest.mark.parametrize("task", [task for task in tasks(DEFINITION) if task.name in MUST_COMPLETE], ids=str)
def test_record_and_cleanup_states_outlast_timeouts_and_iam_propagation(task: StateRef) -> None:
    # Given a state whose failure would lose a run record or leave a temporary alias behind
    (retrier,) = [r for r in task.body["Retry"] if TRANSIENT & set(error_names(r))]
    names = set(error_names(retrier))
    # Then its transient retrier also retries a worker timeout, with more patience than the others
    assert names >= MUST_COMPLETE_ALSO_RETRIED
    assert max_attempts(retrier) == 8
    # And a denial is retried where pre-flight has already proved the role's permissions, and only there
    assert ("PermissionDeniedError" in names) == (task.name != "RecordRunFailure")
