"""Static checks of statemachine/autotuner.asl.json: the error policy and the shape of every state.

Every state is checked, including states nested in a Map's ItemProcessor (or legacy Iterator)
and in a Parallel's Branches; a state is named by its path, e.g. ``TuneTargets/UpdateConfiguration``.
The template is read with SAM's own YAML loader, which understands CloudFormation's short tags.

Each rule is a function returning the problems it finds (each naming the state), so the last tests
can prove every rule reports a broken copy of a compliant sample; the real ASL is never edited.
Deliberate exceptions to a rule are listed in DESIGNED_EXCEPTIONS, each with the property that
holds instead; test_designed_exceptions_hold checks those properties.
Behaviour (what actually happens when a Task fails) is tested by executing the ASL, not here.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from autotuner_core.policy import errors

ROOT = Path(__file__).resolve().parents[2]
ASL_PATH = ROOT / "statemachine" / "autotuner.asl.json"
TEMPLATE_PATH = ROOT / "template.yaml"
STATE_MACHINE = "TunerStateMachine"
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
RECORDER_FUNCTION = "RecordResultFunction"  # writes the run records; failure paths go through it
LAMBDA_DEFAULT_TIMEOUT = 3  # seconds, when neither the function nor Globals set Timeout

# The transient errors, retried with BackoffRate 2, MaxDelaySeconds and full jitter.
TRANSIENT = frozenset(
    {
        "ThrottledError",
        "ServiceUnavailableError",
        "UpdateInProgressError",
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    }
)
# Also fine in the transient retrier: AWS's recommended Lambda retrier lists the first; the
# second is a TransientError (the updater re-reads the revision and decides again).
TRANSIENT_ALSO_ALLOWED = frozenset({"Lambda.ClientExecutionTimeoutException", "StaleRevisionError"})
# Permanent errors are never retried.
PERMANENT = frozenset(
    {
        "InvalidInputError",
        "PermissionDeniedError",
        "FunctionNotFoundError",
        "InvalidConfigurationError",
        "CircuitOpenError",
        "TuningInProgressError",
    }
)
SERVICE_ERROR_PREFIXES = ("States.", "Lambda.", "Sandbox.")
# States that must complete, or a record or a clean-up is lost: they also retry timeouts (each is
# idempotent) and, once pre-flight has proved the role's permissions, a denial (IAM propagation);
# RecordRunFailure may follow a pre-flight that failed on its own role, so a denial stays permanent.
MUST_COMPLETE = frozenset(
    {"CleanupMeasurement", "CleanupAfterFailure", "RecordTargetResult", "RecordTargetFailure", "RecordNoTargets"}
)
MUST_COMPLETE_ALSO_RETRIED = frozenset({"Sandbox.Timedout", "States.Timeout"})
RETRIED_AFTER_PREFLIGHT = frozenset({"PermissionDeniedError"})
CATCH_RESULT_PATH = "$.error"
RECORDER_CATCH_RESULT_PATH = "$.recordError"  # keeps the original $.error for the Fail state
# Other Tasks on a failure path (e.g. a cleanup) also keep $.error, in a field of their own.
FAILURE_PATH_CATCH_RESULT_PATH = re.compile(r"^\$\.[a-z][A-Za-z0-9]*Error$")
FAIL_ERROR_PATH = "$.error.Error"
FAIL_CAUSE_PATH = "$.error.Cause"
_SUBSTITUTION = re.compile(r"\$\{([^}]*)\}")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


# ---------------------------------------------------------------------------------------------
# Reading the ASL and the template
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateRef:
    """One state, wherever it is nested, with the states it can transition to."""

    path: str  # names the state in every message
    name: str
    body: dict[str, Any]
    scope: dict[str, Any]  # the "States" object this state belongs to
    top_level: bool


def _nested(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for key in ("ItemProcessor", "Iterator"):
        if isinstance(body.get(key), dict):
            yield "", body[key]
    for index, branch in enumerate(body.get("Branches") or []):
        if isinstance(branch, dict):
            yield f"Branches[{index}]/", branch


def scopes(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (label, state-machine-like object): the top level, each Map processor, each branch."""

    def visit(label: str, machine: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        yield label, machine
        for name, body in (machine.get("States") or {}).items():
            prefix = "" if label == "top level" else f"{label}/"
            for sub, nested in _nested(body if isinstance(body, dict) else {}):
                yield from visit(f"{prefix}{name}/{sub}".rstrip("/"), nested)

    yield from visit("top level", definition)


def walk(definition: dict[str, Any]) -> list[StateRef]:
    found = []
    for label, machine in scopes(definition):
        states = machine.get("States") or {}
        for name, body in states.items():
            path = name if label == "top level" else f"{label}/{name}"
            found.append(StateRef(path, name, body, states, label == "top level"))
    return found


@dataclass(frozen=True)
class TemplateFacts:
    substitutions: dict[str, Any]  # TunerStateMachine's DefinitionSubstitutions
    functions: dict[str, dict[str, Any]]  # logical id -> resource
    globals_timeout: Any

    @classmethod
    def read(cls, path: Path) -> TemplateFacts:
        template = yaml_parse(path.read_text())
        resources = template.get("Resources") or {}
        machine = resources.get(STATE_MACHINE, {}).get("Properties", {})
        return cls(
            substitutions=dict(machine.get("DefinitionSubstitutions") or {}),
            functions={
                logical_id: resource
                for logical_id, resource in resources.items()
                if resource.get("Type") in ("AWS::Serverless::Function", "AWS::Lambda::Function")
            },
            globals_timeout=((template.get("Globals") or {}).get("Function") or {}).get("Timeout"),
        )

    def function_of(self, substitution: str) -> str | None:
        """The function logical id a substitution resolves to (!GetAtt X.Arn or !Ref X)."""
        value = self.substitutions.get(substitution)
        target = None
        if isinstance(value, dict) and isinstance(value.get("Fn::GetAtt"), list):
            logical_id, attribute = (value["Fn::GetAtt"] + [None])[:2]
            target = logical_id if attribute == "Arn" else None
        elif isinstance(value, dict) and "Ref" in value:
            target = value["Ref"]
        return target if target in self.functions else None

    def timeout_of(self, logical_id: str) -> Any:
        properties = self.functions[logical_id].get("Properties") or {}
        if "Timeout" in properties:
            return properties["Timeout"]
        return self.globals_timeout if self.globals_timeout is not None else LAMBDA_DEFAULT_TIMEOUT


def _load(text: str) -> dict[str, Any]:
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError:
        return {}  # test_asl_is_valid_json reports it; the other tests then have nothing to check
    return loaded if isinstance(loaded, dict) else {}


ASL_TEXT = ASL_PATH.read_text()
DEFINITION = _load(ASL_TEXT)
TEMPLATE = TemplateFacts.read(TEMPLATE_PATH)


def _function_name(body: dict[str, Any]) -> Any:
    parameters = body.get("Parameters") or body.get("Arguments") or {}
    return parameters.get("FunctionName") if isinstance(parameters, dict) else None


def invoked_function(body: dict[str, Any], template: TemplateFacts) -> str | None:
    match = re.fullmatch(r"\$\{(\w+)\}", str(_function_name(body)))
    return template.function_of(match.group(1)) if match else None


def is_recorder(body: dict[str, Any], template: TemplateFacts) -> bool:
    """Whether a state is a Task invoking RecordResultFunction."""
    return body.get("Type") == "Task" and invoked_function(body, template) == RECORDER_FUNCTION


def failure_path_states(definition: dict[str, Any]) -> set[str]:
    """Paths of the states a Catch leads to, and of those after them: ``$.error`` is set there."""
    found = set()
    for state in walk(definition):
        prefix = state.path.rpartition("/")[0]
        for catcher in state.body.get("Catch") or []:
            for name in _reachable(state.scope, catcher.get("Next"), through=lambda _: True):
                found.add(f"{prefix}/{name}" if prefix else name)
    return found


def _error_names(matcher: dict[str, Any]) -> list[str]:
    names = matcher.get("ErrorEquals")
    return names if isinstance(names, list) else []


def _matches(matcher: dict[str, Any], error: str) -> bool:
    """Whether a retrier or catcher matches ``error``, as Step Functions decides it."""
    names = _error_names(matcher)
    return error in names or "States.ALL" in names or ("States.TaskFailed" in names and error != "States.Timeout")


def _max_attempts(retrier: dict[str, Any]) -> Any:
    return retrier.get("MaxAttempts", 3)  # Step Functions' default


def _successors(body: dict[str, Any]) -> list[str]:
    targets = [body["Next"]] if "Next" in body else []
    targets += [catcher.get("Next") for catcher in body.get("Catch") or []]
    targets += [choice.get("Next") for choice in body.get("Choices") or []]
    if "Default" in body:
        targets.append(body["Default"])
    return targets


def _reachable(scope: dict[str, Any], start: str, *, through: Callable[[dict[str, Any]], bool]) -> set[str]:
    """States reachable from ``start`` in its scope, leaving states for which ``through`` is false."""
    seen: set[str] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        if name in seen or not isinstance(scope.get(name), dict):
            continue
        seen.add(name)
        if through(scope[name]):
            pending.extend(_successors(scope[name]))
    return seen


# ---------------------------------------------------------------------------------------------
# Rules: each returns the problems it finds, every one naming its state
# ---------------------------------------------------------------------------------------------


def json_problems(text: str) -> list[str]:
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return [f"{ASL_PATH.name} is not valid JSON: {error}"]
    return []


def unquoted_substitution_problems(text: str) -> list[str]:
    # Blank out every string literal (keeping line breaks); what is left must hold no ${...}.
    outside = _JSON_STRING.sub(lambda literal: '"' + " " * (len(literal.group()) - 2) + '"', text)
    return [
        f"line {outside.count(chr(10), 0, match.start()) + 1}: substitution "
        f"{text[match.start() : match.end()]} is outside a JSON string (quote it)"
        for match in _SUBSTITUTION.finditer(outside)
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
            for name in _SUBSTITUTION.findall(value):
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
    name = _function_name(task.body)
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
    retriers = [r for r in task.body.get("Retry") or [] if TRANSIENT & set(_error_names(r))]
    if len(retriers) != 1:
        return [f"{task.path}: expected one retrier for the transient errors, found {len(retriers)}"]
    retrier = retriers[0]
    names = set(_error_names(retrier))
    problems = []
    if missing := sorted(TRANSIENT - names):
        problems.append(f"{task.path}: transient retrier does not list {missing}")
    allowed = TRANSIENT | TRANSIENT_ALSO_ALLOWED
    if task.name in MUST_COMPLETE | {"RecordRunFailure"}:
        allowed |= MUST_COMPLETE_ALSO_RETRIED
    if task.name in MUST_COMPLETE:
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
    if not isinstance(_max_attempts(retrier), int) or _max_attempts(retrier) < 1:
        problems.append(f"{task.path}: transient retrier never retries (MaxAttempts {_max_attempts(retrier)!r})")
    return problems


def permanent_retry_problems(state: StateRef) -> list[str]:
    """Step Functions uses the first retrier that matches; for a permanent error it must not retry."""
    problems = []
    retriers = state.body.get("Retry") or []
    permanent = PERMANENT - RETRIED_AFTER_PREFLIGHT if state.name in MUST_COMPLETE else PERMANENT
    for error in sorted(permanent):
        first = next((index for index, r in enumerate(retriers) if _matches(r, error)), None)
        if first is None:
            continue  # no retrier matches it: not retried
        if _max_attempts(retriers[first]) != 0:
            listed = (
                "lists it"
                if error in _error_names(retriers[first])
                else f"matches it via {_error_names(retriers[first])}"
            )
            problems.append(
                f"{state.path}: permanent {error} would be retried: Retry[{first}] {listed} "
                f"with MaxAttempts {_max_attempts(retriers[first])!r} (list it in a MaxAttempts 0 retrier "
                "before any States.ALL retrier)"
            )
    return problems


def catch_all_retrier_problems(state: StateRef) -> list[str]:
    problems = []
    retriers = state.body.get("Retry") or []
    for index, retrier in enumerate(retriers):
        names = _error_names(retrier)
        if "States.ALL" not in names:
            continue
        if names != ["States.ALL"]:
            problems.append(f"{state.path}: Retry[{index}] lists States.ALL with other errors {names}")
        if index != len(retriers) - 1:
            problems.append(f"{state.path}: Retry[{index}] States.ALL is not the last retrier")
        if not isinstance(_max_attempts(retrier), int) or _max_attempts(retrier) > 1:
            problems.append(
                f"{state.path}: Retry[{index}] States.ALL has MaxAttempts {_max_attempts(retrier)!r} "
                "(default 3 when absent); unknown errors get at most one retry"
            )
    return problems


def error_name_problems(definition: dict[str, Any]) -> list[str]:
    problems = []
    for state in walk(definition):
        for field in ("Retry", "Catch"):
            for index, matcher in enumerate(state.body.get(field) or []):
                for name in _error_names(matcher):
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
        if "States.ALL" in _error_names(catcher):
            problems = []
            if _error_names(catcher) != ["States.ALL"] or index != len(catchers) - 1:
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
        for target in _successors(state.body):
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
            for name in sorted(_reachable(state.scope, target, through=lambda _: True)):
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
        unrecorded = _reachable(state.scope, target, through=lambda body: not is_recorder(body, template))
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
    definition = _load(text)
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
# Known violations of the current ASL: reported to the lead, kept failing-visible (strict xfail)
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


def _params(rule: str, states: list[StateRef]) -> list[Any]:
    params = []
    for state in states:
        if (rule, state.path) in DESIGNED_EXCEPTIONS:
            continue
        params.append(pytest.param(state, id=state.path))
    return params


def _report(problems: list[str]) -> str:
    return "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# The file and its substitutions
# ---------------------------------------------------------------------------------------------


def test_asl_is_valid_json() -> None:
    # Given the ASL file as written (before SAM substitutes anything)
    # When it is parsed as JSON
    problems = json_problems(ASL_TEXT)
    # Then it parses, so editors, linters and Step Functions Local can read it unsubstituted
    assert not problems, _report(problems)


def test_substitutions_occur_only_inside_strings() -> None:
    # Given the ASL text
    # When everything outside JSON string literals is searched for ${...}
    problems = unquoted_substitution_problems(ASL_TEXT)
    # Then there is none: an unquoted substitution makes the file invalid JSON
    assert not problems, _report(problems)


def test_substitutions_are_defined_by_the_template() -> None:
    # Given the ASL and TunerStateMachine's DefinitionSubstitutions in template.yaml
    # When every ${...} in every key and string value is looked up
    problems = undefined_substitution_problems(DEFINITION, TEMPLATE)
    # Then each one is defined (an undefined one is deployed verbatim)
    assert not problems, _report(problems)


# ---------------------------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", _params("lambda-invoke", tasks(DEFINITION)))
def test_task_invokes_a_template_function_through_lambda_invoke(task: StateRef) -> None:
    # Given a Task state
    # When its Resource and FunctionName are read
    problems = lambda_invoke_problems(task, TEMPLATE)
    # Then it uses the optimized Lambda integration with a substituted function of the template
    assert not problems, _report(problems)


@pytest.mark.parametrize("task", _params("timeout", tasks(DEFINITION)))
def test_task_timeout_exceeds_the_function_timeout(task: StateRef) -> None:
    # Given a Task state and the function it invokes (Timeout from the function or Globals)
    # When its TimeoutSeconds is compared with the function's Timeout
    problems = timeout_problems(task, TEMPLATE)
    # Then the Task has a timeout, longer than the function's, so the function's own timeout is reported
    assert not problems, _report(problems)


@pytest.mark.parametrize("task", _params("transient-retrier", tasks(DEFINITION)))
def test_task_retries_transient_errors_with_backoff_and_full_jitter(task: StateRef) -> None:
    # Given a Task state
    # When its retrier for the transient errors is read
    problems = transient_retrier_problems(task)
    # Then it lists exactly those errors (plus the allowed extras) with BackoffRate 2, a cap and FULL jitter
    assert not problems, _report(problems)


@pytest.mark.parametrize("state", _params("permanent", retrying_states(DEFINITION)))
def test_permanent_errors_are_never_retried(state: StateRef) -> None:
    # Given a state that can retry
    # When each permanent error meets the first retrier that matches it
    problems = permanent_retry_problems(state)
    # Then that retrier has MaxAttempts 0 (so it comes before any States.ALL retrier)
    assert not problems, _report(problems)


@pytest.mark.parametrize("state", _params("catch-all-retrier", retrying_states(DEFINITION)))
def test_catch_all_retrier_is_last_and_retries_at_most_once(state: StateRef) -> None:
    # Given a state that can retry
    # When its States.ALL retrier, if any, is read
    problems = catch_all_retrier_problems(state)
    # Then it stands alone, comes last and allows at most one retry (unknown errors)
    assert not problems, _report(problems)


@pytest.mark.parametrize("task", _params("task-catch", tasks(DEFINITION)))
def test_task_catches_every_error_without_replacing_its_input(task: StateRef) -> None:
    # Given a Task state
    # When its Catch list is read
    problems = task_catch_problems(task, failure_path_states(DEFINITION), TEMPLATE)
    # Then a last, lone States.ALL catcher puts the error at $.error; on a failure path at a field of its
    # own ($.recordError in the recorder), so the caught $.error reaches the record and the Fail state
    assert not problems, _report(problems)


# ---------------------------------------------------------------------------------------------
# Errors, choices and the graph
# ---------------------------------------------------------------------------------------------


def test_custom_error_names_are_autotuner_error_classes() -> None:
    # Given every ErrorEquals name of every Retry and Catch that is not States.* or Lambda.*
    # When it is looked up in autotuner_core.policy.errors
    problems = error_name_problems(DEFINITION)
    # Then it is an AutotunerError subclass there (a misspelt name would never match)
    assert not problems, _report(problems)


def test_no_catch_replaces_the_state_input() -> None:
    # Given every Catch of every state (Tasks, Map, Parallel)
    # When its ResultPath is read
    problems = catch_result_path_problems(DEFINITION, TEMPLATE)
    # Then the error is added beside the input (the default "$" would replace it), and on a failure path
    # it does not overwrite the error already caught
    assert not problems, _report(problems)


def test_every_choice_has_a_default() -> None:
    # Given every Choice state, at any depth
    # When its fields are read
    problems = choice_default_problems(DEFINITION)
    # Then it has a Default
    assert not problems, _report(problems)


def test_every_transition_targets_a_state_in_its_scope() -> None:
    # Given every StartAt, Next, Catch Next, Choice Next and Default
    # When it is looked up among the states of its own scope (a Map or branch cannot leave its scope)
    problems = transition_problems(DEFINITION)
    # Then the state exists there
    assert not problems, _report(problems)


def test_no_failure_path_reaches_succeed() -> None:
    # Given every Catch of every state
    # When the graph is walked from its target
    problems = failure_path_problems(DEFINITION)
    # Then no Succeed state is reachable, and a top-level failure path ends in a Fail state
    assert not problems, _report(problems)


@pytest.mark.parametrize("state", _params("recorded-failure", catching_top_level_states(DEFINITION, TEMPLATE)))
def test_top_level_failure_path_records_before_failing(state: StateRef) -> None:
    # Given a top-level state with a Catch (other than the recorder itself)
    # When the graph is walked from the Catch target to a Fail state
    problems = recorded_failure_problems(state, TEMPLATE)
    # Then every such path passes a Task invoking RecordResultFunction first
    assert not problems, _report(problems)


def test_fail_states_report_the_caught_error() -> None:
    # Given every Fail state
    # When its error and cause fields are read
    problems = fail_state_problems(DEFINITION)
    # Then they come from the caught error via ErrorPath/CausePath, not fixed strings
    assert not problems, _report(problems)


def test_a_recorder_leads_into_the_top_level_fail_state() -> None:
    # Given the top-level states
    top = [state for state in walk(DEFINITION) if state.top_level]
    fails = {state.name for state in top if state.body.get("Type") == "Fail"}
    # When the RecordResult Tasks that transition into a Fail state are collected
    recorders_into_fail = [
        state.path for state in top if is_recorder(state.body, TEMPLATE) and fails & set(_successors(state.body))
    ]
    # Then there is such a Task: the failure path records, then fails
    assert fails, "the top level has no Fail state"
    assert recorders_into_fail, f"no top-level Task invoking {RECORDER_FUNCTION} transitions into {sorted(fails)}"


# ---------------------------------------------------------------------------------------------
# The rules catch broken copies of a compliant sample (the real ASL is never edited; the sample
# keeps these checks independent of how the real ASL evolves)
# ---------------------------------------------------------------------------------------------


def _sample_task(substitution: str, timeout: int, *, catch: str, catch_path: str = CATCH_RESULT_PATH) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": LAMBDA_INVOKE,
        "Parameters": {"FunctionName": f"${{{substitution}}}", "Payload.$": "$"},
        "TimeoutSeconds": timeout,
        "Retry": [
            {
                "ErrorEquals": sorted(TRANSIENT | TRANSIENT_ALSO_ALLOWED),
                "IntervalSeconds": 2,
                "BackoffRate": 2,
                "MaxAttempts": 4,
                "MaxDelaySeconds": 30,
                "JitterStrategy": "FULL",
            },
            {"ErrorEquals": sorted(PERMANENT), "MaxAttempts": 0},
            {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1, "JitterStrategy": "FULL"},
        ],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": catch_path, "Next": catch}],
    }


def _then(state: dict[str, Any], next_state: str | None) -> dict[str, Any]:
    return {**state, "Next": next_state} if next_state else {**state, "End": True}


FAIL = {"Type": "Fail", "ErrorPath": FAIL_ERROR_PATH, "CausePath": FAIL_CAUSE_PATH}
SAMPLE = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Next": "ValidatePermissions"},
        "ValidatePermissions": _then(
            _sample_task("ValidatePermissionsFunctionArn", 130, catch="RecordRunFailure"), "DiscoverResources"
        ),
        "DiscoverResources": _then(
            _sample_task("DiscoverResourcesFunctionArn", 130, catch="RecordRunFailure"), "TuneTargets"
        ),
        "TuneTargets": {
            "Type": "Map",
            "ItemsPath": "$.targets",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "UpdateConfiguration",
                "States": {
                    "UpdateConfiguration": _then(
                        _sample_task("UpdateConfigurationFunctionArn", 130, catch="CleanupAfterFailure"),
                        "RecordTargetResult",
                    ),
                    "CleanupAfterFailure": _then(
                        _sample_task(
                            "UpdateConfigurationFunctionArn",
                            130,
                            catch="RecordTargetFailure",
                            catch_path="$.cleanupError",
                        ),
                        "RecordTargetFailure",
                    ),
                    "RecordTargetResult": _then(
                        _sample_task("RecordResultFunctionArn", 40, catch="RecordTargetFailure"), None
                    ),
                    "RecordTargetFailure": _then(
                        _sample_task(
                            "RecordResultFunctionArn",
                            40,
                            catch="IterationFailed",
                            catch_path=RECORDER_CATCH_RESULT_PATH,
                        ),
                        None,
                    ),
                    "IterationFailed": FAIL,
                },
            },
            "ResultPath": "$.results",
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": CATCH_RESULT_PATH, "Next": "RecordRunFailure"}],
            "Next": "Summarize",
        },
        "Summarize": _then(_sample_task("SummarizeRunFunctionArn", 130, catch="RecordRunFailure"), "Succeeded"),
        "Succeeded": {"Type": "Succeed"},
        "RecordRunFailure": _then(
            _sample_task("RecordResultFunctionArn", 40, catch="RunFailed", catch_path=RECORDER_CATCH_RESULT_PATH),
            "RunFailed",
        ),
        "RunFailed": FAIL,
    },
}
SAMPLE_TEXT = json.dumps(SAMPLE, indent=2)


def _state(definition: dict[str, Any], path: str) -> dict[str, Any]:
    return next(state.body for state in walk(definition) if state.path == path)


def _edit(change: Callable[[dict[str, Any]], None]) -> Callable[[str], str]:
    def apply(text: str) -> str:
        definition = json.loads(text)
        change(definition)
        return json.dumps(definition, indent=2)

    return apply


def _retrier(path: str, index: int, **fields: Any) -> Callable[[str], str]:
    return _edit(lambda d: _state(d, path)["Retry"][index].update(fields))


def _drop(path: str, *keys: Any) -> Callable[[str], str]:
    def change(definition: dict[str, Any]) -> None:
        node: Any = _state(definition, path)
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return _edit(change)


def _set(path: str, *keys_and_value: Any) -> Callable[[str], str]:
    *keys, value = keys_and_value

    def change(definition: dict[str, Any]) -> None:
        node: Any = _state(definition, path)
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return _edit(change)


def _swap_retriers(path: str, first: int, second: int) -> Callable[[str], str]:
    def change(definition: dict[str, Any]) -> None:
        retry = _state(definition, path)["Retry"]
        retry[first], retry[second] = retry[second], retry[first]

    return _edit(change)


def _add_choice_without_default(definition: dict[str, Any]) -> None:
    definition["States"]["Route"] = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.apply", "BooleanEquals": True, "Next": "Summarize"}],
    }
    definition["States"]["Prepare"]["Next"] = "Route"


def _add_parallel_with_untimed_task(definition: dict[str, Any]) -> None:
    task = copy.deepcopy(definition["States"]["Summarize"])
    del task["TimeoutSeconds"], task["Next"]
    task["End"] = True
    definition["States"]["Fanout"] = {
        "Type": "Parallel",
        "Branches": [{"StartAt": "Probe", "States": {"Probe": task}}],
        "End": True,
    }


def _legacy_iterator_with_untimed_task(definition: dict[str, Any]) -> None:
    tune = definition["States"]["TuneTargets"]
    tune["Iterator"] = tune.pop("ItemProcessor")
    del tune["Iterator"]["States"]["UpdateConfiguration"]["TimeoutSeconds"]


def _unlist_circuit_open(definition: dict[str, Any]) -> None:
    _state(definition, "DiscoverResources")["Retry"][1]["ErrorEquals"].remove("CircuitOpenError")


def _end_run_after_recording(definition: dict[str, Any]) -> None:
    recorder = _state(definition, "RecordRunFailure")
    del recorder["Next"]
    recorder["End"] = True


def _fail_with_fixed_error(definition: dict[str, Any]) -> None:
    fail = _state(definition, "RunFailed")
    del fail["ErrorPath"]
    fail["Error"] = "Failed"


def _transient_list(path: str, change: Callable[[list[str]], None]) -> Callable[[str], str]:
    return _edit(lambda d: change(_state(d, path)["Retry"][0]["ErrorEquals"]))


BROKEN_COPIES = [
    (
        "unquoted substitution",
        lambda t: t.replace('"${SummarizeRunFunctionArn}"', "${SummarizeRunFunctionArn}"),
        "outside a JSON string",
    ),
    (
        "invalid JSON",
        lambda t: t.replace('"${SummarizeRunFunctionArn}"', "${SummarizeRunFunctionArn}"),
        "not valid JSON",
    ),
    (
        "undefined substitution",
        _set("Summarize", "Parameters", "FunctionName", "${SummaryFunctionArn}"),
        "$.States.Summarize.Parameters.FunctionName: ${SummaryFunctionArn} is not a key",
    ),
    ("not lambda:invoke", _set("Summarize", "Resource", LAMBDA_INVOKE + ".waitForTaskToken"), "Summarize: Resource"),
    (
        "literal function name",
        _set("Summarize", "Parameters", "FunctionName", "summarize"),
        "Summarize: Parameters.FunctionName",
    ),
    (
        "nested task without timeout",
        _drop("TuneTargets/UpdateConfiguration", "TimeoutSeconds"),
        "TuneTargets/UpdateConfiguration: no TimeoutSeconds",
    ),
    (
        "timeout equal to the function's",
        _set("DiscoverResources", "TimeoutSeconds", 120),
        "DiscoverResources: TimeoutSeconds 120 is not greater",
    ),
    (
        "transient error missing",
        _transient_list("ValidatePermissions", lambda e: e.remove("Lambda.SdkClientException")),
        "ValidatePermissions: transient retrier does not list",
    ),
    (
        "non-transient error retried as transient",
        _transient_list("ValidatePermissions", lambda e: e.append("States.Timeout")),
        "ValidatePermissions: transient retrier lists non-transient errors ['States.Timeout']",
    ),
    ("no backoff", _retrier("RecordRunFailure", 0, BackoffRate=1.5), "RecordRunFailure: transient retrier BackoffRate"),
    (
        "no delay cap",
        _drop("TuneTargets/RecordTargetResult", "Retry", 0, "MaxDelaySeconds"),
        "TuneTargets/RecordTargetResult: transient retrier has no MaxDelaySeconds",
    ),
    ("no jitter", _retrier("Summarize", 0, JitterStrategy="NONE"), "Summarize: transient retrier JitterStrategy"),
    (
        "permanent error left to States.ALL",
        _edit(_unlist_circuit_open),
        "DiscoverResources: permanent CircuitOpenError would be retried",
    ),
    (
        "permanent retrier after States.ALL",
        _swap_retriers("Summarize", 1, 2),
        "Summarize: Retry[1] States.ALL is not the last",
    ),
    (
        "permanent error listed as transient",
        _transient_list("Summarize", lambda e: e.insert(0, "InvalidInputError")),
        "Summarize: permanent InvalidInputError would be retried",
    ),
    (
        "States.ALL retried twice",
        _retrier("Summarize", 2, MaxAttempts=2),
        "Summarize: Retry[2] States.ALL has MaxAttempts 2",
    ),
    (
        "States.ALL with default attempts",
        _drop("Summarize", "Retry", 2, "MaxAttempts"),
        "Summarize: Retry[2] States.ALL has MaxAttempts 3",
    ),
    (
        "misspelt error name",
        _retrier("Summarize", 1, ErrorEquals=["TargetChangedErorr"]),
        "Summarize: Retry[1] names 'TargetChangedErorr', which is not an AutotunerError",
    ),
    (
        "error name of a non-error class",
        _retrier("Summarize", 1, ErrorEquals=["RetryPolicy"]),
        "Summarize: Retry[1] names 'RetryPolicy', which is not an AutotunerError",
    ),
    (
        "catch without ResultPath",
        _drop("Summarize", "Catch", 0, "ResultPath"),
        "Summarize: Catch[0] ResultPath is '$ (default: replaces the input)'",
    ),
    (
        "Map catch replacing input",
        _set("TuneTargets", "Catch", 0, "ResultPath", "$"),
        "TuneTargets: Catch[0] ResultPath is '$', expected '$.error'",
    ),
    (
        "task without catch-all",
        _set("TuneTargets/UpdateConfiguration", "Catch", 0, "ErrorEquals", ["States.TaskFailed"]),
        "TuneTargets/UpdateConfiguration: no Catch for States.ALL",
    ),
    (
        "Next to a missing state",
        _set("DiscoverResources", "Next", "TuneTarget"),
        "DiscoverResources: transition to 'TuneTarget'",
    ),
    (
        "Catch leaving its Map",
        _set("TuneTargets/UpdateConfiguration", "Catch", 0, "Next", "RunFailed"),
        "TuneTargets/UpdateConfiguration: transition to 'RunFailed'",
    ),
    (
        "failure path to Succeed",
        _set("DiscoverResources", "Catch", 0, "Next", "Succeeded"),
        "DiscoverResources: Catch[0] → Succeeded reaches Succeed state 'Succeeded'",
    ),
    (
        "failure path ending with End",
        _edit(_end_run_after_recording),
        "ValidatePermissions: Catch[0] → RecordRunFailure reaches 'RecordRunFailure', which ends the run",
    ),
    (
        "failure path skipping the recorder",
        _set("ValidatePermissions", "Catch", 0, "Next", "RunFailed"),
        "ValidatePermissions: Catch[0] → RunFailed reaches Fail state",
    ),
    (
        "failure recorder overwriting $.error",
        _set("RecordRunFailure", "Catch", 0, "ResultPath", "$.error"),
        "RecordRunFailure: Catch[0] ResultPath is '$.error', expected '$.recordError'",
    ),
    (
        "success recorder hiding the error from the failure recorder",
        _set("TuneTargets/RecordTargetResult", "Catch", 0, "ResultPath", "$.recordError"),
        "TuneTargets/RecordTargetResult: Catch[0] ResultPath is '$.recordError', expected '$.error'",
    ),
    (
        "record task without catch",
        _drop("TuneTargets/RecordTargetResult", "Catch"),
        "TuneTargets/RecordTargetResult: no Catch for States.ALL",
    ),
    (
        "Map failure skipping the recorder",
        _set("TuneTargets", "Catch", 0, "Next", "RunFailed"),
        "TuneTargets: Catch[0] → RunFailed reaches Fail state 'RunFailed' without a Task",
    ),
    (
        "failure-path task overwriting the caught error",
        _set("TuneTargets/CleanupAfterFailure", "Catch", 0, "ResultPath", "$.error"),
        "TuneTargets/CleanupAfterFailure: Catch[0] ResultPath is '$.error', expected a field of its own",
    ),
    ("choice without default", _edit(_add_choice_without_default), "Route: Choice has no Default"),
    ("Fail with a fixed error", _edit(_fail_with_fixed_error), "RunFailed: Fail has ErrorPath None"),
    (
        "task in a Parallel branch",
        _edit(_add_parallel_with_untimed_task),
        "Fanout/Branches[0]/Probe: no TimeoutSeconds",
    ),
    (
        "task in a legacy Iterator",
        _edit(_legacy_iterator_with_untimed_task),
        "TuneTargets/UpdateConfiguration: no TimeoutSeconds",
    ),
]


def test_the_sample_passes_every_rule() -> None:
    # Given the compliant sample the next test breaks
    # When every rule runs over it
    problems = all_problems(SAMPLE_TEXT, TEMPLATE)
    # Then it passes, so each problem found in a broken copy comes from the break
    assert not problems, _report(problems)


@pytest.mark.parametrize(("break_copy", "expected"), [pytest.param(b, e, id=i) for i, b, e in BROKEN_COPIES])
def test_rules_report_a_broken_copy(break_copy: Callable[[str], str], expected: str) -> None:
    # Given a copy of the compliant sample with one rule broken
    broken = break_copy(SAMPLE_TEXT)
    # When every rule runs over the copy
    problems = all_problems(broken, TEMPLATE)
    # Then a problem names the broken state and rule
    assert any(expected in problem for problem in problems), _report(problems) or "no problem found"


def _state_at(path: str) -> dict[str, Any]:
    (found,) = [state.body for state in walk(DEFINITION) if state.path == path]
    return found


def test_designed_exceptions_hold() -> None:
    # Given each deliberate exception to a rule above
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


@pytest.mark.parametrize(
    "task", [task for task in tasks(DEFINITION) if task.name in MUST_COMPLETE | {"RecordRunFailure"}], ids=str
)
def test_record_and_cleanup_states_outlast_timeouts_and_iam_propagation(task: StateRef) -> None:
    # Given a state whose failure would lose a run record or leave a temporary alias behind
    (retrier,) = [r for r in task.body["Retry"] if TRANSIENT & set(_error_names(r))]
    names = set(_error_names(retrier))
    # Then its transient retrier also retries a worker timeout, with more patience than the others
    assert names >= MUST_COMPLETE_ALSO_RETRIED
    assert _max_attempts(retrier) == 8
    # And a denial is retried where pre-flight has already proved the role's permissions, and only there
    assert ("PermissionDeniedError" in names) == (task.name != "RecordRunFailure")
