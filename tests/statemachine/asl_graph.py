"""Reading statemachine/autotuner.asl.json and template.yaml for the static checks (test_asl_static*.py).

Every state is found, including states nested in a Map's ItemProcessor (or legacy Iterator) and
in a Parallel's Branches; a state is named by its path, e.g. ``TuneTargets/UpdateConfiguration``.
The template is read with SAM's own YAML loader, which understands CloudFormation's short tags.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

from autotuner_core.policy import errors

ROOT = Path(__file__).resolve().parents[2]
ASL_PATH = ROOT / "statemachine" / "autotuner.asl.json"
TEMPLATE_PATH = ROOT / "template.yaml"
STATE_MACHINE = "TunerStateMachine"
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
RECORDER_FUNCTION = "RecordResultFunction"  # writes the run records; failure paths go through it
LAMBDA_DEFAULT_TIMEOUT = 3  # seconds, when neither the function nor Globals set Timeout

# The error policy, from the class tree: transient errors are retried with BackoffRate 2, MaxDelaySeconds
# and full jitter; permanent errors never.
TRANSIENT = frozenset(errors.transient_errors())
PERMANENT = frozenset(errors.permanent_errors())
SERVICE_ERROR_PREFIXES = ("States.", "Lambda.", "Sandbox.")
# States that must complete, or a record or a clean-up is lost: they also retry timeouts (each is
# idempotent) and, where pre-flight has proved the role's permissions, a denial (IAM propagation).
MUST_COMPLETE = frozenset(name for name, step in errors.STEP_POLICIES.items() if step.must_complete)
RETRYING_DENIAL = frozenset(name for name, step in errors.STEP_POLICIES.items() if step.retries_denial)
MUST_COMPLETE_ALSO_RETRIED = frozenset(errors.TIMEOUT_ERRORS)
RETRIED_AFTER_PREFLIGHT = frozenset({"PermissionDeniedError"})
CATCH_RESULT_PATH = "$.error"
RECORDER_CATCH_RESULT_PATH = "$.recordError"  # keeps the original $.error for the Fail state
# Other Tasks on a failure path (e.g. a cleanup) also keep $.error, in a field of their own.
FAILURE_PATH_CATCH_RESULT_PATH = re.compile(r"^\$\.[a-z][A-Za-z0-9]*Error$")
FAIL_ERROR_PATH = "$.error.Error"
FAIL_CAUSE_PATH = "$.error.Cause"
SUBSTITUTION = re.compile(r"\$\{([^}]*)\}")
JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


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


def load(text: str) -> dict[str, Any]:
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError:
        return {}  # test_asl_is_valid_json reports it; the other tests then have nothing to check
    return loaded if isinstance(loaded, dict) else {}


ASL_TEXT = ASL_PATH.read_text()
DEFINITION = load(ASL_TEXT)
TEMPLATE = TemplateFacts.read(TEMPLATE_PATH)


def function_name(body: dict[str, Any]) -> Any:
    parameters = body.get("Parameters") or body.get("Arguments") or {}
    return parameters.get("FunctionName") if isinstance(parameters, dict) else None


def invoked_function(body: dict[str, Any], template: TemplateFacts) -> str | None:
    match = re.fullmatch(r"\$\{(\w+)\}", str(function_name(body)))
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
            for name in reachable(state.scope, catcher.get("Next"), through=lambda _: True):
                found.add(f"{prefix}/{name}" if prefix else name)
    return found


def error_names(matcher: dict[str, Any]) -> list[str]:
    names = matcher.get("ErrorEquals")
    return names if isinstance(names, list) else []


def matches(matcher: dict[str, Any], error: str) -> bool:
    """Whether a retrier or catcher matches ``error``, as Step Functions decides it."""
    names = error_names(matcher)
    return error in names or "States.ALL" in names or ("States.TaskFailed" in names and error != "States.Timeout")


def max_attempts(retrier: dict[str, Any]) -> Any:
    return retrier.get("MaxAttempts", 3)  # Step Functions' default


def successors(body: dict[str, Any]) -> list[str]:
    targets = [body["Next"]] if "Next" in body else []
    targets += [catcher.get("Next") for catcher in body.get("Catch") or []]
    targets += [choice.get("Next") for choice in body.get("Choices") or []]
    if "Default" in body:
        targets.append(body["Default"])
    return targets


def reachable(scope: dict[str, Any], start: str, *, through: Callable[[dict[str, Any]], bool]) -> set[str]:
    """States reachable from ``start`` in its scope, leaving states for which ``through`` is false."""
    seen: set[str] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        if name in seen or not isinstance(scope.get(name), dict):
            continue
        seen.add(name)
        if through(scope[name]):
            pending.extend(successors(scope[name]))
    return seen
