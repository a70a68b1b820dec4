"""The static rules over an ASL definition: each returns the problems it finds, every one naming its state.

The rules are checked on the real ASL in test_asl_static.py and proved, in test_asl_static_rules.py,
to report a broken copy of a compliant sample. Deliberate exceptions to a rule are listed in
DESIGNED_EXCEPTIONS, each with the property that holds instead (test_designed_exceptions_hold).
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

import pytest
from asl_graph import (
    ASL_PATH,
    CATCH_RESULT_PATH,
    FAIL_CAUSE_PATH,
    FAIL_ERROR_PATH,
    FAILURE_PATH_CATCH_RESULT_PATH,
    JSON_STRING,
    LAMBDA_INVOKE,
    MUST_COMPLETE,
    MUST_COMPLETE_ALSO_RETRIED,
    PERMANENT,
    RECORDER_CATCH_RESULT_PATH,
    RECORDER_FUNCTION,
    RETRIED_AFTER_PREFLIGHT,
    RETRYING_DENIAL,
    SERVICE_ERROR_PREFIXES,
    STATE_MACHINE,
    SUBSTITUTION,
    TRANSIENT,
    StateRef,
    TemplateFacts,
    error_names,
    failure_path_states,
    function_name,
    invoked_function,
    is_recorder,
    load,
    matches,
    max_attempts,
    reachable,
    scopes,
    successors,
    walk,
)

from autotuner_core.policy import errors


def json_problems(text: str) -> list[str]:
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return [f"{ASL_PATH.name} is not valid JSON: {error}"]
    return []


def unquoted_substitution_problems(text: str) -> list[str]:
    # Blank out every string literal (keeping line breaks); what is left must hold no ${...}.
    outside = JSON_STRING.sub(lambda literal: '"' + " " * (len(literal.group()) - 2) + '"', text)
    return [
        f"line {outside.count(chr(10), 0, match.start()) + 1}: substitution "
        f"{text[match.start() : match.end()]} is outside a JSON string (quote it)"
        for match in SUBSTITUTION.finditer(outside)
    ]


def undefined_substitution_problems(definition: dict[str, Any], template: TemplateFacts) -> list[str]:
    problems = []

    def visit(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                visit(key, f"{where}.{key} (key)")
                visit(item, f"{where}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, f"{where}[{index}]")
        elif isinstance(value, str):
            for name in SUBSTITUTION.findall(value):
                if name not in template.substitutions:
                    problems.append(
                        f"{where}: ${{{name}}} is not a key of {STATE_MACHINE}'s DefinitionSubstitutions "
                        f"{sorted(template.substitutions)}"
                    )

    visit(definition, "$")
    return problems


def lambda_invoke_problems(task: StateRef, template: TemplateFacts) -> list[str]:
    problems = []
    if task.body.get("Resource") != LAMBDA_INVOKE:
        problems.append(f"{task.path}: Resource is {task.body.get('Resource')!r}, expected {LAMBDA_INVOKE!r}")
    name = function_name(task.body)
    match = re.fullmatch(r"\$\{(\w+)\}", name) if isinstance(name, str) else None
    if match is None:
        problems.append(f"{task.path}: Parameters.FunctionName {name!r} is not a ${{...}} substitution")
    elif template.function_of(match.group(1)) is None:
        problems.append(
            f"{task.path}: FunctionName ${{{match.group(1)}}} does not resolve to a function of template.yaml "
            f"(expected !GetAtt <Function>.Arn or !Ref <Function> in {STATE_MACHINE}'s DefinitionSubstitutions)"
        )
    return problems


def timeout_problems(task: StateRef, template: TemplateFacts) -> list[str]:
    seconds = task.body.get("TimeoutSeconds")
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        return [f"{task.path}: no TimeoutSeconds (Step Functions would wait 99,999,999 s)"]
    function = invoked_function(task.body, template)
    if function is None:
        return [f"{task.path}: cannot tell which template function it invokes, so cannot compare timeouts"]
    function_timeout = template.timeout_of(function)
    if not isinstance(function_timeout, int):
        return [f"{task.path}: {function}'s Timeout {function_timeout!r} is not a number of seconds"]
    if seconds <= function_timeout:
        return [
            f"{task.path}: TimeoutSeconds {seconds} is not greater than {function}'s Timeout {function_timeout} "
            "(the state would time out before the function does)"
        ]
    return []


def transient_retrier_problems(task: StateRef) -> list[str]:
    retriers = [r for r in task.body.get("Retry") or [] if TRANSIENT & set(error_names(r))]
    if len(retriers) != 1:
        return [f"{task.path}: expected one retrier for the transient errors, found {len(retriers)}"]
    retrier = retriers[0]
    names = set(error_names(retrier))
    problems = []
    if missing := sorted(TRANSIENT - names):
        problems.append(f"{task.path}: transient retrier does not list {missing}")
    allowed = set(TRANSIENT)
    if task.name in MUST_COMPLETE:
        allowed |= MUST_COMPLETE_ALSO_RETRIED
    if task.name in RETRYING_DENIAL:
        allowed |= RETRIED_AFTER_PREFLIGHT
    if extra := sorted(names - allowed):
        problems.append(f"{task.path}: transient retrier lists non-transient errors {extra}")
    if retrier.get("BackoffRate") != 2:
        problems.append(f"{task.path}: transient retrier BackoffRate is {retrier.get('BackoffRate')!r}, expected 2")
    if not isinstance(retrier.get("MaxDelaySeconds"), int) or retrier["MaxDelaySeconds"] < 1:
        problems.append(f"{task.path}: transient retrier has no MaxDelaySeconds cap")
    if retrier.get("JitterStrategy") != "FULL":
        problems.append(
            f"{task.path}: transient retrier JitterStrategy is {retrier.get('JitterStrategy')!r}, expected 'FULL'"
        )
    if not isinstance(max_attempts(retrier), int) or max_attempts(retrier) < 1:
        problems.append(f"{task.path}: transient retrier never retries (MaxAttempts {max_attempts(retrier)!r})")
    return problems


def permanent_retry_problems(state: StateRef) -> list[str]:
    """Step Functions uses the first retrier that matches; for a permanent error it must not retry."""
    problems = []
    retriers = state.body.get("Retry") or []
    permanent = PERMANENT - RETRIED_AFTER_PREFLIGHT if state.name in RETRYING_DENIAL else PERMANENT
    for error in sorted(permanent):
        first = next((index for index, r in enumerate(retriers) if matches(r, error)), None)
        if first is None:
            continue  # no retrier matches it: not retried
        if max_attempts(retriers[first]) != 0:
            listed = (
                "lists it"
                if error in error_names(retriers[first])
                else f"matches it via {error_names(retriers[first])}"
            )
            problems.append(
                f"{state.path}: permanent {error} would be retried: Retry[{first}] {listed} "
                f"with MaxAttempts {max_attempts(retriers[first])!r} (list it in a MaxAttempts 0 retrier "
                "before any States.ALL retrier)"
            )
    return problems


def catch_all_retrier_problems(state: StateRef) -> list[str]:
    problems = []
    retriers = state.body.get("Retry") or []
    for index, retrier in enumerate(retriers):
        names = error_names(retrier)
        if "States.ALL" not in names:
            continue
        if names != ["States.ALL"]:
            problems.append(f"{state.path}: Retry[{index}] lists States.ALL with other errors {names}")
        if index != len(retriers) - 1:
            problems.append(f"{state.path}: Retry[{index}] States.ALL is not the last retrier")
        if not isinstance(max_attempts(retrier), int) or max_attempts(retrier) > 1:
            problems.append(
                f"{state.path}: Retry[{index}] States.ALL has MaxAttempts {max_attempts(retrier)!r} "
                "(default 3 when absent); unknown errors get at most one retry"
            )
    return problems


def error_name_problems(definition: dict[str, Any]) -> list[str]:
    problems = []
    for state in walk(definition):
        for field in ("Retry", "Catch"):
            for index, matcher in enumerate(state.body.get(field) or []):
                for name in error_names(matcher):
                    if name.startswith(SERVICE_ERROR_PREFIXES):
                        continue
                    found = getattr(errors, name, None)
                    if not (inspect.isclass(found) and issubclass(found, errors.AutotunerError)):
                        problems.append(
                            f"{state.path}: {field}[{index}] names {name!r}, which is not an AutotunerError "
                            "subclass in autotuner_core.policy.errors (Step Functions matches the exception class name)"
                        )
    return problems


def _catch_path_problem(
    state: StateRef, index: int, catcher: dict[str, Any], failure_path: set[str], template: TemplateFacts
) -> str | None:
    """$.error beside the input; on a failure path a field of its own, so the caught $.error survives."""
    path = catcher.get("ResultPath", "$")
    if state.path not in failure_path:
        ok, expected = path == CATCH_RESULT_PATH, repr(CATCH_RESULT_PATH)
    elif is_recorder(state.body, template):
        ok, expected = path == RECORDER_CATCH_RESULT_PATH, f"{RECORDER_CATCH_RESULT_PATH!r} (keeps the caught $.error)"
    else:
        ok = path != CATCH_RESULT_PATH and bool(FAILURE_PATH_CATCH_RESULT_PATH.match(str(path)))
        expected = "a field of its own such as '$.cleanupError' (keeps the caught $.error)"
    shown = repr(path) if "ResultPath" in catcher else "'$ (default: replaces the input)'"
    return None if ok else f"{state.path}: Catch[{index}] ResultPath is {shown}, expected {expected}"


def task_catch_problems(task: StateRef, failure_path: set[str], template: TemplateFacts) -> list[str]:
    catchers = task.body.get("Catch") or []
    for index, catcher in enumerate(catchers):
        if "States.ALL" in error_names(catcher):
            problems = []
            if error_names(catcher) != ["States.ALL"] or index != len(catchers) - 1:
                problems.append(f"{task.path}: Catch[{index}] States.ALL must stand alone and be the last catcher")
            if problem := _catch_path_problem(task, index, catcher, failure_path, template):
                problems.append(problem)
            return problems
    return [f"{task.path}: no Catch for States.ALL (an error after the retries would end the run unrecorded)"]


def catch_result_path_problems(definition: dict[str, Any], template: TemplateFacts) -> list[str]:
    failure_path = failure_path_states(definition)
    return [
        problem
        for state in walk(definition)
        for index, catcher in enumerate(state.body.get("Catch") or [])
        if (problem := _catch_path_problem(state, index, catcher, failure_path, template))
    ]


def choice_default_problems(definition: dict[str, Any]) -> list[str]:
    return [
        f"{state.path}: Choice has no Default (no match would fail the run with States.NoChoiceMatched)"
        for state in walk(definition)
        if state.body.get("Type") == "Choice" and "Default" not in state.body
    ]


def transition_problems(definition: dict[str, Any]) -> list[str]:
    problems = []
    for label, machine in scopes(definition):
        states = machine.get("States") or {}
        if machine.get("StartAt") not in states:
            problems.append(f"{label}: StartAt {machine.get('StartAt')!r} is not a state of this scope")
    for state in walk(definition):
        for target in successors(state.body):
            if target not in state.scope:
                problems.append(
                    f"{state.path}: transition to {target!r}, which is not a state in the same scope "
                    f"({sorted(state.scope)})"
                )
    return problems


def failure_path_problems(definition: dict[str, Any]) -> list[str]:
    """No Succeed is reachable from a Catch; at the top level a failure path must end in Fail.

    Inside a Map iteration, End is how the iteration hands its recorded failure to the Map
    (the run's summary then fails the run), so only Succeed is refused there.
    """
    problems = []
    for state in walk(definition):
        for index, catcher in enumerate(state.body.get("Catch") or []):
            target = catcher.get("Next")
            for name in sorted(reachable(state.scope, target, through=lambda _: True)):
                body = state.scope[name]
                if body.get("Type") == "Succeed":
                    problems.append(f"{state.path}: Catch[{index}] → {target} reaches Succeed state {name!r}")
                elif state.top_level and body.get("End") is True:
                    problems.append(
                        f"{state.path}: Catch[{index}] → {target} reaches {name!r}, which ends the run with "
                        "End: true (SUCCEEDED); a failure path must end in a Fail state"
                    )
    return problems


def recorded_failure_problems(state: StateRef, template: TemplateFacts) -> list[str]:
    """From a top-level Catch, no Fail state is reachable without passing a RecordResult Task."""
    problems = []
    for index, catcher in enumerate(state.body.get("Catch") or []):
        target = catcher.get("Next")
        unrecorded = reachable(state.scope, target, through=lambda body: not is_recorder(body, template))
        for name in sorted(unrecorded):
            if state.scope[name].get("Type") == "Fail":
                problems.append(
                    f"{state.path}: Catch[{index}] → {target} reaches Fail state {name!r} without a Task "
                    f"invoking {RECORDER_FUNCTION} (the failure would not be recorded)"
                )
    return problems


def fail_state_problems(definition: dict[str, Any]) -> list[str]:
    problems = []
    for state in walk(definition):
        if state.body.get("Type") != "Fail":
            continue
        if state.body.get("ErrorPath") != FAIL_ERROR_PATH or state.body.get("CausePath") != FAIL_CAUSE_PATH:
            problems.append(
                f"{state.path}: Fail has ErrorPath {state.body.get('ErrorPath')!r} / CausePath "
                f"{state.body.get('CausePath')!r}; expected {FAIL_ERROR_PATH!r} / {FAIL_CAUSE_PATH!r} "
                "so the run fails with the caught error"
            )
        if fixed := sorted({"Error", "Cause"} & set(state.body)):
            problems.append(f"{state.path}: Fail sets fixed {fixed}, hiding the caught error")
    return problems


def tasks(definition: dict[str, Any]) -> list[StateRef]:
    return [state for state in walk(definition) if state.body.get("Type") == "Task"]


def retrying_states(definition: dict[str, Any]) -> list[StateRef]:
    return [state for state in walk(definition) if state.body.get("Type") == "Task" or "Retry" in state.body]


def catching_top_level_states(definition: dict[str, Any], template: TemplateFacts) -> list[StateRef]:
    return [s for s in walk(definition) if s.top_level and s.body.get("Catch") and not is_recorder(s.body, template)]


def all_problems(text: str, template: TemplateFacts) -> list[str]:
    """Every rule over a whole definition (for proving the rules catch broken copies)."""
    definition = load(text)
    found = json_problems(text) + unquoted_substitution_problems(text)
    found += undefined_substitution_problems(definition, template) + error_name_problems(definition)
    found += catch_result_path_problems(definition, template) + choice_default_problems(definition)
    found += transition_problems(definition) + failure_path_problems(definition) + fail_state_problems(definition)
    for task in tasks(definition):
        found += lambda_invoke_problems(task, template) + timeout_problems(task, template)
        found += transient_retrier_problems(task) + task_catch_problems(task, failure_path_states(definition), template)
    for state in retrying_states(definition):
        found += permanent_retry_problems(state) + catch_all_retrier_problems(state)
    for state in catching_top_level_states(definition, template):
        found += recorded_failure_problems(state, template)
    return found


# ---------------------------------------------------------------------------------------------
# Deliberate exceptions to a rule, each with the property that holds instead
# ---------------------------------------------------------------------------------------------

DESIGNED_EXCEPTIONS: dict[tuple[str, str], str] = {
    # A record that cannot be written (after its retries) fails the iteration, so the Map's Catch
    # fails the run: nothing left to record it with.
    ("task-catch", "TuneTargets/RecordTargetResult"): "enclosing-map-fails-the-run",
    ("task-catch", "TuneTargets/RecordTargetFailure"): "enclosing-map-fails-the-run",
    # Each target is recorded inside the Map; the run's own failure needs no second record.
    ("recorded-failure", "TuneTargets"): "targets-record-inside-the-map",
    ("recorded-failure", "Summarize"): "targets-record-inside-the-map",
}


def checked_states(rule: str, states: list[StateRef]) -> list[Any]:
    params = []
    for state in states:
        if (rule, state.path) in DESIGNED_EXCEPTIONS:
            continue
        params.append(pytest.param(state, id=state.path))
    return params


def report(problems: list[str]) -> str:
    return "\n".join(problems)
