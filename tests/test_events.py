"""Every file under events/ is validated by the code that reads it, so no sample drifts from it.

EVENT_KINDS maps each kind of file to its validator; a file that matches no kind fails
``test_every_event_file_has_a_validator``, so a new kind of file must come with a validator.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from autotuner_core.documents.request import TuningRequest, parse_request
from autotuner_core.policy.errors import InvalidInputError
from autotuner_core.power_tuning import is_power_tuning_input
from emulator.account import SimulatedAccount, load_account

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
TEMPLATE = ROOT / "template.yaml"


def _execution_input(path: Path) -> TuningRequest:
    return parse_request(json.loads(path.read_text()))


def _power_tuning_input(path: Path) -> TuningRequest:
    raw = json.loads(path.read_text())
    if not is_power_tuning_input(raw):
        raise ValueError("not in Power Tuning's form (it names its function with lambdaARN)")
    return parse_request(raw)


def _power_tuning_sources(path: Path) -> None:
    # Every example has its documented source in the README's table, and every row names a file.
    listed = set(re.findall(r"^\| `([^`]+\.json)` \|", path.read_text(), flags=re.MULTILINE))
    present = {example.name for example in path.parent.glob("*.json")}
    if listed != present:
        raise ValueError(
            f"sources listed for {sorted(listed - present)} (no such file), missing for {sorted(present - listed)}"
        )


# glob under events/ -> (what the files are, the validator that must accept each one)
EVENT_KINDS: dict[str, tuple[str, Callable[[Path], Any]]] = {
    "inputs/*.json": ("execution inputs (autotuner local run --input, start-execution)", _execution_input),
    "console/*.json": ("execution inputs to paste into the Step Functions console", _execution_input),
    "accounts/*.json": ("simulated accounts (autotuner local run --account)", load_account),
    "power-tuning/*.json": ("AWS Lambda Power Tuning's documented execution inputs", _power_tuning_input),
    "power-tuning/README.md": ("the sources of the Power Tuning inputs", _power_tuning_sources),
}


def _event_files() -> list[Path]:
    return sorted(path for path in EVENTS.rglob("*") if path.is_file())


def _kinds_of(path: Path) -> list[str]:
    return [pattern for pattern in EVENT_KINDS if path in _files_of(pattern)]


def _files_of(pattern: str) -> list[Path]:
    return sorted(EVENTS.glob(pattern))


def _id(path: Path) -> str:
    return str(path.relative_to(EVENTS))


def _plain_name(target: str) -> bool:
    return ":" not in target  # not an ARN, a partial ARN or a qualified name


def _function_name(target: str) -> str:
    # name | name:qualifier | account:function:name[:qualifier] | arn:...:function:name[:qualifier]
    parts = target.split(":")
    if "function" in parts:
        return parts[parts.index("function") + 1]
    return parts[0]


def _accounts() -> dict[str, SimulatedAccount]:
    return {_id(path): load_account(path) for path in _files_of("accounts/*.json")}


@pytest.mark.parametrize("path", _event_files(), ids=_id)
def test_every_event_file_has_a_validator(path: Path) -> None:
    # Given a file under events/
    # When it is matched against the documented kinds
    kinds = _kinds_of(path)
    # Then exactly one kind claims it (otherwise add its kind and validator to EVENT_KINDS)
    assert len(kinds) == 1, (
        f"events/{_id(path)} matches {kinds or 'no kind'} of EVENT_KINDS ({sorted(EVENT_KINDS)}); "
        "give each kind of event file a validator there"
    )


@pytest.mark.parametrize("path", _event_files(), ids=_id)
def test_every_event_file_is_accepted_by_its_validator(path: Path) -> None:
    # Given a file under events/ and the validator of its kind
    kinds = _kinds_of(path)
    if len(kinds) != 1:
        pytest.fail(f"events/{_id(path)} has no single kind in EVENT_KINDS")
    description, validate = EVENT_KINDS[kinds[0]]
    # When it is validated
    try:
        validate(path)
    except (ValueError, InvalidInputError) as error:
        problem: Exception | None = error
    else:
        problem = None
    # Then it is accepted
    assert problem is None, f"events/{_id(path)} is not valid as one of the {description}: {problem}"


@pytest.mark.parametrize("path", _files_of("accounts/*.json"), ids=_id)
def test_revoked_permissions_name_functions_of_the_template(path: Path) -> None:
    # Given an account file and the functions template.yaml declares
    account = load_account(path)
    resources = yaml_parse(TEMPLATE.read_text())["Resources"]
    functions = {name for name, resource in resources.items() if resource["Type"] == "AWS::Serverless::Function"}
    # When its revoked permissions are read
    unknown = sorted({revoked.function for revoked in account.revoke} - functions)
    # Then each names a function's logical id (the embedded AWS refuses anything else at start)
    assert not unknown, (
        f"events/{_id(path)}: revoke names {unknown}, not functions of template.yaml {sorted(functions)}"
    )


@pytest.mark.parametrize("path", [path for path in _files_of("inputs/*.json") if "missing" not in path.name], ids=_id)
def test_input_targets_exist_in_a_demo_account(path: Path) -> None:
    # Given an execution input meant to reach existing functions, and every account file
    request = _execution_input(path)
    known = {function.name for account in _accounts().values() for function in account.functions}
    # When its targets given by plain name are looked up
    absent = sorted(target for target in request.targets or [] if _plain_name(target) and target not in known)
    # Then each exists in at least one account, so the input can be run locally
    assert not absent, f"events/{_id(path)}: targets {absent} exist in no file of events/accounts/ ({sorted(known)})"


@pytest.mark.parametrize("path", [path for path in _files_of("inputs/*.json") if "missing" in path.name], ids=_id)
def test_missing_function_inputs_name_functions_no_account_has(path: Path) -> None:
    # Given an execution input whose purpose is a missing function, and every account file
    request = _execution_input(path)
    known = {function.name for account in _accounts().values() for function in account.functions}
    # When its targets' function names are looked up
    present = sorted(target for target in request.targets or [] if _function_name(target) in known)
    # Then none exists, so the input still demonstrates FunctionNotFoundError
    assert not present, f"events/{_id(path)}: targets {present} exist in events/accounts/, so nothing is missing"


@pytest.mark.parametrize(
    "path", [path for path in _files_of("inputs/*.json") if '"select"' in path.read_text()], ids=_id
)
def test_sweep_inputs_select_functions_of_a_demo_account(path: Path) -> None:
    # Given an execution input that sweeps by selector
    request = _execution_input(path)
    assert request.select is not None
    # When its tags are matched against the account files
    matched = [
        function.name
        for account in _accounts().values()
        for function in account.functions
        if all(function.tags.get(key) == value for key, value in request.select.tags.items())
    ]
    # Then some account has functions it selects, so the input can be run locally
    assert matched, f"events/{_id(path)}: selector {request.select} matches no function of events/accounts/"


@pytest.mark.parametrize("path", _files_of("power-tuning/*.json"), ids=_id)
def test_power_tuning_inputs_name_the_function_of_their_account(path: Path) -> None:
    # Given a Power Tuning example and the account its README runs it in
    request = _execution_input(path)
    account = load_account(EVENTS / "accounts" / "power-tuning-account.json")
    # When its lambdaARN is looked up there
    (target,) = request.targets or []
    # Then the function exists, in that account and region, so the example runs as it is
    assert target.split(":")[3:5] == [account.region, account.account_id]
    assert _function_name(target) in {function.name for function in account.functions}


def test_the_dry_run_example_measures_and_changes_nothing() -> None:
    # Given the README's first real-AWS example
    request = _execution_input(EVENTS / "inputs" / "dry-run.json")
    # Then it measures sizes (no fixed memorySize) with a payload of its own, and only recommends
    assert request.memory_size is None
    assert len(request.memory_sizes) > 1 and request.payload is not None
    assert request.apply is False and request.alias is None
