"""The rules of asl_rules.py each report a broken copy of a compliant sample.

The real ASL is never edited; the sample keeps these checks independent of how the real ASL evolves.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from asl_graph import (
    CATCH_RESULT_PATH,
    FAIL_CAUSE_PATH,
    FAIL_ERROR_PATH,
    LAMBDA_INVOKE,
    PERMANENT,
    RECORDER_CATCH_RESULT_PATH,
    TEMPLATE,
    TRANSIENT,
    walk,
)
from asl_rules import all_problems, report

# ---------------------------------------------------------------------------------------------


def _sample_task(substitution: str, timeout: int, *, catch: str, catch_path: str = CATCH_RESULT_PATH) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": LAMBDA_INVOKE,
        "Parameters": {"FunctionName": f"${{{substitution}}}", "Payload.$": "$"},
        "TimeoutSeconds": timeout,
        "Retry": [
            {
                "ErrorEquals": sorted(TRANSIENT),
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
    assert not problems, report(problems)


@pytest.mark.parametrize(("break_copy", "expected"), [pytest.param(b, e, id=i) for i, b, e in BROKEN_COPIES])
def test_rules_report_a_broken_copy(break_copy: Callable[[str], str], expected: str) -> None:
    # Given a copy of the compliant sample with one rule broken
    broken = break_copy(SAMPLE_TEXT)
    # When every rule runs over the copy
    problems = all_problems(broken, TEMPLATE)
    # Then a problem names the broken state and rule
    assert any(expected in problem for problem in problems), report(problems) or "no problem found"
