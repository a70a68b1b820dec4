"""The bad-input corpus: malformed inputs, events and account states, as data in tests/corpus/.

Each case is one execution on the embedded AWS. A user who sent it checks that the run ended with
the expected error class and a cause naming the problem, that nothing changed (no mutating call in
the embedded AWS's call log, every function as it was) and that the run history holds a record for
each function the input named, and none keyed by text that names no function.

Executions of one account share one embedded AWS: cases run grouped by account, and each case's
execution is run once and shared by the tests that look at it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.events.models import EventPattern

from emulator.account import SimulatedAccount
from emulator.cloud import EmbeddedAws, RunReport
from emulator.interceptor import unlogged

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
DEFAULT_ACCOUNT = json.loads((CORPUS / "accounts" / "default.json").read_text())
NO_TARGET = "(no target)"  # the run's record when the input named no function (records.NO_TARGET)
# "<tuner:LogicalId>" / "<tuner-arn:LogicalId>": a tuner function's physical name or ARN, known once deployed.
_TUNER = re.compile(r"<tuner(-arn)?:([A-Za-z]+)>")


@dataclass(frozen=True)
class Case:
    name: str
    document: dict[str, Any]

    @property
    def account(self) -> str:
        """The account as canonical JSON: cases with the same text share one embedded AWS."""
        return json.dumps(self.document.get("account", DEFAULT_ACCOUNT), sort_keys=True)

    @property
    def expect(self) -> dict[str, Any]:
        return self.document["expect"]


@dataclass
class CaseResult:
    report: RunReport | None  # None: StartExecution refused it (refusal), so no execution exists
    expect: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]
    arn_prefix: str  # arn:PARTITION:lambda:REGION:ACCOUNT:function:
    refusal: dict[str, str] | None = None  # StartExecution's error: Code, Message
    mutating_calls: list[str] = field(default_factory=list)
    executions: tuple[int, int] = (0, 0)  # the state machine's executions before and after
    stored_records: tuple[int, int] = (0, 0)  # run-history items before and after


def _load() -> list[Case]:
    cases = [Case(path.stem, json.loads(path.read_text())) for path in sorted(CORPUS.glob("*.json"))]
    return sorted(cases, key=lambda case: (case.account != json.dumps(DEFAULT_ACCOUNT, sort_keys=True), case.account))


CASES = _load()


def _expand(node: Any) -> Any:
    """{"$repeat": text, "times": n} stands for text * n: a 7 MB payload is not kept as a 7 MB file."""
    if isinstance(node, dict):
        if set(node) == {"$repeat", "times"}:
            return node["$repeat"] * node["times"]
        return {key: _expand(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_expand(item) for item in node]
    return node


def _substitute(node: Any, aws: EmbeddedAws) -> Any:
    if isinstance(node, str):
        return _TUNER.sub(lambda m: getattr(aws.stack.functions[m.group(2)], "arn" if m.group(1) else "name"), node)
    if isinstance(node, dict):
        return {key: _substitute(value, aws) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(item, aws) for item in node]
    return node


def _input_from_event(aws: EmbeddedAws, event: dict[str, Any]) -> Any:
    """What the deployed Tune Requested rule starts the state machine with for this event.

    moto's EventBridge does not deliver to Step Functions, so the rule is applied here as
    EventBridge applies it: its pattern must match, then its target's InputPath selects the input.
    """
    events = aws.client("events")
    rule_name = aws.stack.outputs["TuneRequestRuleName"]
    with unlogged():
        rule = events.describe_rule(Name=rule_name)
        targets = events.list_targets_by_rule(Rule=rule_name)["Targets"]
    (target,) = [target for target in targets if target["Arn"] == aws.stack.state_machine_arn]
    assert rule["State"] == "ENABLED"
    assert EventPattern.load(rule["EventPattern"]).matches_event(event), "a corpus event must be one the rule takes"
    path = target["InputPath"]
    assert re.fullmatch(r"\$(\.[A-Za-z-]+)*", path), f"InputPath {path} is more than this test applies"
    selected = event
    for key in path.split(".")[1:]:
        selected = selected[key]
    return selected


def _snapshot(aws: EmbeddedAws, lam: Any) -> dict[str, Any]:
    """What a run must leave as it found: every function's configuration, aliases and versions."""
    state: dict[str, Any] = {}
    with unlogged():
        # The tuner's own functions too: some cases name them.
        for page in lam.get_paginator("list_functions").paginate():
            for config in page["Functions"]:
                state[config["FunctionName"]] = {
                    "memory": config["MemorySize"],
                    "description": config.get("Description"),
                }
        for function in aws.account.functions:
            state[function.name]["aliases"] = sorted(
                alias["Name"] for alias in lam.list_aliases(FunctionName=function.name)["Aliases"]
            )
            state[function.name]["versions"] = len(
                lam.list_versions_by_function(FunctionName=function.name)["Versions"]
            )
    return state


def _counts(aws: EmbeddedAws) -> tuple[int, int]:
    """How many executions the state machine has, and how many items the run history holds."""
    with unlogged():
        executions = aws.client("stepfunctions").list_executions(stateMachineArn=aws.stack.state_machine_arn)
        stored = aws.client("dynamodb").scan(TableName=aws.stack.outputs["RunHistoryTableName"], Select="COUNT")
    return len(executions["executions"]), stored["Count"]


class CorpusRunner:
    """One embedded AWS at a time (they are process-wide), opened when a case of its account runs."""

    def __init__(self) -> None:
        self.results: dict[str, CaseResult] = {}
        self._aws: EmbeddedAws | None = None
        self._account: str | None = None
        self._lambda: Any = None  # one client per account: creating a boto3 client takes tens of ms

    def result(self, case: Case) -> CaseResult:
        if case.name not in self.results:
            self.results[case.name] = self._run(case)
        return self.results[case.name]

    def _run(self, case: Case) -> CaseResult:
        if self._account != case.account:
            self.close()
            self._aws = EmbeddedAws(SimulatedAccount.model_validate(json.loads(case.account))).__enter__()
            self._account = case.account
            self._lambda = self._aws.client("lambda")
        aws = self._aws
        assert aws is not None
        document = _substitute(_expand(case.document), aws)
        execution_input = _input_from_event(aws, document["event"]) if "event" in document else document["input"]
        before = _snapshot(aws, self._lambda)
        counts_before = _counts(aws)
        report: RunReport | None = None
        refusal: dict[str, str] | None = None
        try:
            report = aws.run(execution_input)
        except ClientError as error:  # StartExecution refused the input: no execution was created
            refusal = {"Code": error.response["Error"]["Code"], "Message": error.response["Error"]["Message"]}
        counts_after = _counts(aws)
        account = aws.account
        partition = aws.stack.state_machine_arn.split(":")[1]
        return CaseResult(
            report=report,
            expect=document["expect"],
            before=before,
            after=_snapshot(aws, self._lambda),
            arn_prefix=f"arn:{partition}:lambda:{account.region}:{account.account_id}:function:",
            refusal=refusal,
            mutating_calls=[record.call for record in aws.interceptor.log.mutating()],
            executions=(counts_before[0], counts_after[0]),
            stored_records=(counts_before[1], counts_after[1]),
        )

    def close(self) -> None:
        if self._aws is not None:
            self._aws.__exit__(None, None, None)
            self._aws = None
            self._account = None


@pytest.fixture(scope="module")
def runner():
    corpus = CorpusRunner()
    yield corpus
    corpus.close()


def _params(test: str) -> list[Any]:
    # A case may name a product bug its expectation is known to catch (expect.knownBug); that test
    # is expected to fail until the bug is fixed, and fails loudly once it passes (strict).
    params = []
    for case in CASES:
        bug = case.expect.get("knownBug")
        marks = [pytest.mark.xfail(strict=True, reason=bug["fix"])] if bug and bug["test"] == test else []
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def _message(cause: str | None) -> str:
    """A Lambda error's cause is the JSON Lambda reports; the message is its errorMessage."""
    try:
        parsed = json.loads(cause or "")
    except ValueError:
        return cause or ""
    return parsed.get("errorMessage", cause) if isinstance(parsed, dict) else cause or ""


def test_the_corpus_covers_every_kind_of_bad_input():
    kinds = {case.document["kind"] for case in CASES}
    assert len(CASES) >= 40
    assert kinds >= {
        "shape",
        "wrong-type",
        "out-of-range",
        "unknown-field",
        "empty",
        "huge",
        "injection-unicode",
        "arn",
        "qualifier",
        "tuner-itself",
        "duplicate",
        "account-state",
        "event",
    }


@pytest.mark.parametrize("case", _params("run"))
def test_bad_input_ends_with_its_error_naming_the_problem_and_changes_nothing(runner, case: Case):
    # When the case's input (or the input its event's rule selects) is run
    result = runner.result(case)
    report, expect = result.report, result.expect
    if "startRefused" in expect:
        # Then StartExecution itself refuses it with the expected error, and no execution exists
        refused = expect["startRefused"]
        assert result.refusal is not None, f"StartExecution accepted it: the run ended {report and report.status}"
        assert result.refusal["Code"] == refused["error"]
        for text in refused.get("messageContains", []):
            assert text in result.refusal["Message"]
        assert result.executions[1] == result.executions[0]
        # And nothing was changed
        assert result.mutating_calls == []
        assert result.after == result.before
        return
    assert report is not None, f"StartExecution refused it: {result.refusal}"
    # Then the execution ends with the expected error class, where expected, after the expected attempts
    assert (report.status, report.error) == (expect.get("status", "FAILED"), expect["error"])
    message = _message(report.cause)
    for text in expect.get("causeContains", []):
        assert text in message, f"{text!r} not in the cause: {message[:2000]}"
    assert report.failed_state == expect.get("failedState")
    failed_state = expect.get("failedState")
    attempts = expect.get("taskAttempts", {failed_state: 1} if failed_state else {})
    assert {state: report.task_attempts.get(state, 0) for state in attempts} == attempts
    # And nothing was changed: no mutating call beyond the refusals a case names, every function as found
    assert report.mutating_calls == expect.get("mutatingCalls", [])
    assert result.after == result.before


@pytest.mark.parametrize("case", _params("records"))
def test_bad_input_is_recorded_against_each_named_target_and_no_other(runner, case: Case):
    result = runner.result(case)

    def expected(item: str | dict[str, Any]) -> dict[str, Any]:
        item = {"target": item} if isinstance(item, str) else item
        target = item["target"]
        # A plain function name is recorded under its ARN in the tuner's account and region.
        if target != NO_TARGET and ":" not in target:
            target = result.arn_prefix + target
        return {
            "target": target,
            "outcome": item.get("outcome", "FAILED"),
            "errorType": item.get("errorType", result.expect["error"]),
        }

    if result.report is None:
        # Then a refused start records nothing: there was no execution to record
        assert result.expect["records"] == []
        assert result.stored_records[1] == result.stored_records[0]
        return
    # Then the run history has one record per function the input named (none invented for text
    # that names no function; the run's own record where it named none), each saying why
    want = sorted((expected(item) for item in result.expect["records"]), key=lambda record: record["target"])
    got = sorted(
        (
            {"target": record["target"], "outcome": record["outcome"], "errorType": record.get("errorType")}
            for record in result.report.records
        ),
        key=lambda record: record["target"],
    )
    assert got == want
    notes = {item["target"]: item["noteContains"] for item in result.expect["records"] if "noteContains" in item}
    for record in result.report.records:
        if record["target"] in notes:
            assert notes[record["target"]] in record.get("note", "")
