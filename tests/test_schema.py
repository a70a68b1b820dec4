"""The execution input's JSON Schema: committed, generated from the model, and in agreement with it.

docs/execution-input.schema.json is what the console and editors validate against; parse_request
is what the state machine validates with. Every input this repository ships must pass both, and
a bad input must fail both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from autotuner.cli import main
from autotuner.schema import EXAMPLES, SCHEMA_COMMAND, SCHEMA_FILE, execution_input_schema, render_schema
from autotuner_core.documents.request import parse_request
from autotuner_core.policy.errors import InvalidInputError
from emulator.account import load_account

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
INPUT_FILES = (
    sorted(EVENTS.glob("inputs/*.json"))
    + sorted(EVENTS.glob("console/*.json"))
    + sorted(EVENTS.glob("power-tuning/*.json"))
)


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def _schema_problems(validator: Draft202012Validator, raw: Any) -> list[str]:
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(raw)]


def _model_problem(raw: Any) -> str | None:
    try:
        parse_request(raw)
    except InvalidInputError as error:
        return str(error)
    return None


# --- the committed file is the generated schema ------------------------------------------


def test_committed_schema_is_the_generated_one():
    # Given the committed schema file
    committed = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
    # When the schema is generated from the input model
    generated = render_schema()
    # Then they are the same text
    assert committed == generated, (
        f"{SCHEMA_FILE.relative_to(ROOT)} is not what the input model generates; run `{SCHEMA_COMMAND}`"
    )


def test_schema_is_a_draft_2020_12_schema_for_the_console():
    # When the schema is generated
    schema = execution_input_schema()
    # Then it is a valid draft 2020-12 schema, titled, without $id
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Lambda Autotuner execution input"
    assert "$id" not in json.dumps(schema)
    # And its examples are a dry run and an apply that moves an alias
    assert [(example.get("apply", False), "alias" in example) for example in schema["examples"]] == [
        (False, False),
        (True, True),
    ]


def test_generation_is_deterministic():
    # When the schema is rendered twice
    first, second = render_schema(), render_schema()
    # Then the text is the same, with sorted keys, a 2-space indent and a trailing newline
    assert first == second
    assert first == json.dumps(json.loads(first), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _objects(node: Any, path: str = "$") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            found.append((path, node))
        for key, value in node.items():
            if key != "examples":
                found += _objects(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _objects(value, f"{path}[{index}]")
    return found


def test_every_object_forbids_unknown_fields_and_describes_its_fields():
    # Given every object level of the schema (the models all forbid extra fields)
    objects = _objects(execution_input_schema())
    # When their additionalProperties and property descriptions are read
    open_objects = [path for path, node in objects if node.get("additionalProperties") is not False]
    undescribed = [
        f"{path}.{name}"
        for path, node in objects
        for name, prop in node["properties"].items()
        if not prop.get("description")
    ]
    # Then each is closed and each field is described
    assert {path for path, _ in objects} >= {
        "$.$defs.TuningRequest",
        "$.$defs.PowerTuningInput",
        "$.$defs.CircuitBreakerOverride",
        "$.$defs.TargetSelector",
        "$.$defs.WeightedPayload",
    }
    assert not open_objects, f"objects that accept unknown fields: {open_objects}"
    assert not undescribed, f"fields without a description: {undescribed}"


# --- the `autotuner schema` command --------------------------------------------------------


def test_schema_command_prints_the_schema(capsys):
    # When `autotuner schema` is run
    code = main(["schema"])
    # Then it prints the generated schema
    assert code == 0
    assert capsys.readouterr().out == render_schema()


def test_schema_command_writes_the_file(tmp_path):
    # Given a path to write to
    target = tmp_path / "schema.json"
    # When `autotuner schema --output` is run
    code = main(["schema", "--output", str(target)])
    # Then the file holds the generated schema
    assert code == 0
    assert target.read_text(encoding="utf-8") == render_schema()


def test_schema_check_passes_on_the_repository(capsys):
    # When `autotuner schema --check` is run on the committed file
    code = main(["schema", "--check"])
    # Then it succeeds
    assert code == 0, capsys.readouterr().err


def test_schema_check_fails_on_a_modified_copy(tmp_path, capsys):
    # Given a copy of the committed schema with one limit changed
    copy = tmp_path / "execution-input.schema.json"
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    schema["$defs"]["TuningRequest"]["properties"]["invocations"]["maximum"] = 5000
    copy.write_text(render_schema(schema), encoding="utf-8")
    # When `autotuner schema --check` is run on it
    code = main(["schema", "--check", "--output", str(copy)])
    # Then it fails, names the file and the command that regenerates it, and shows the change
    err = capsys.readouterr().err
    assert code == 1
    assert f"{copy} differs from the schema the input model generates" in err
    assert f"autotuner schema --output {copy}" in err
    assert '-          "maximum": 5000,' in err
    assert '+          "maximum": 1000,' in err


def test_schema_check_fails_on_a_missing_file(tmp_path, capsys):
    # When `autotuner schema --check` is pointed at a file that does not exist
    code = main(["schema", "--check", "--output", str(tmp_path / "absent.json")])
    # Then it fails and says how to write the file
    assert code == 1
    assert "autotuner schema --output" in capsys.readouterr().err


# --- the schema and the model agree --------------------------------------------------------


def _id(path: Path) -> str:
    return str(path.relative_to(EVENTS))


@pytest.mark.parametrize("path", INPUT_FILES, ids=_id)
def test_every_shipped_input_is_valid_for_the_schema_and_the_model(path, validator):
    # Given an execution input the repository ships
    raw = json.loads(path.read_text())
    # When it is validated by the schema and by the model
    schema_problems, model_problem = _schema_problems(validator, raw), _model_problem(raw)
    # Then both accept it
    assert not schema_problems, f"events/{_id(path)}: {schema_problems}"
    assert model_problem is None, f"events/{_id(path)}: {model_problem}"


def test_the_console_inputs_are_the_documented_three():
    # Then events/console/ has a dry run, an apply that moves an alias and a fixed-size apply
    assert sorted(path.name for path in EVENTS.glob("console/*.json")) == [
        "fixed-memory-apply.json",
        "single-function-apply.json",
        "single-function-dry-run.json",
    ]


@pytest.mark.parametrize("path", sorted(EVENTS.glob("console/*.json")), ids=_id)
def test_console_inputs_name_a_function_of_the_demo_account(path):
    # Given a console input and the demo account
    request = parse_request(json.loads(path.read_text()))
    known = {function.name for function in load_account(EVENTS / "accounts" / "demo-account.json").functions}
    # Then its targets exist there, so `autotuner local run` can run it as it is
    assert request.targets, f"events/{_id(path)}: a console input names its targets"
    assert set(request.targets) <= known, f"events/{_id(path)}: {request.targets} not in {sorted(known)}"


GOOD = {
    "preset standard": {"targets": ["orders-api"], "memorySizes": "standard"},
    "preset cpu": {"targets": ["orders-api"], "memorySizes": "cpu"},
    "preset fine": {"targets": ["orders-api"], "memorySizes": "fine"},
    "qualified ARN": {"targets": ["arn:aws:lambda:us-east-1:123456789012:function:orders-api:live"]},
    "partial ARN, $LATEST": {"targets": ["123456789012:function:orders-api:$LATEST"]},
    "JSON text payload": {"targets": ["orders-api"], "payload": '{"id": 1}'},
    "weighted payload": {"targets": ["orders-api"], "payload": [{"payload": [1, 2], "weight": 0.5}]},
    "null alias without apply": {"targets": ["orders-api"], "alias": None},
    "breaker override": {"targets": ["orders-api"], "circuitBreaker": {"failureThreshold": 1}},
    "started by a parent": {
        "targets": ["orders-api"],
        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": "arn:aws:states:us-east-1:123456789012:execution:deploy:run-1",
    },
    "selector by tags": {"select": {"tags": {"autotune": "enabled"}, "exclude": ["legacy-report"]}},
    "selector by prefix": {"select": {"namePrefix": "orders-"}, "apply": True},
    "selector by both, targets null": {"targets": None, "select": {"tags": {"team": "orders"}, "namePrefix": "o"}},
    **{f"example {index}": example for index, example in enumerate(EXAMPLES)},
    "Power Tuning, minimal": {"lambdaARN": "orders-api", "num": 5},
    "Power Tuning, ALL and digits": {"lambdaARN": "orders-api", "num": "10", "powerValues": "ALL"},
    "Power Tuning, sizes as text": {"lambdaARN": "orders-api", "num": 10, "powerValues": ["128", 512]},
    "Power Tuning, alias with autoOptimize": {
        "lambdaARN": "orders-api",
        "num": 10,
        "autoOptimize": True,
        "autoOptimizeAlias": "prod",
    },
    "Power Tuning, array payload": {"lambdaARN": "orders-api", "num": 10, "payload": [1, 2, 3]},
    "Power Tuning, text payload": {"lambdaARN": "orders-api", "num": 10, "payload": "not json"},
    "Power Tuning, null payload and S3": {
        "lambdaARN": "orders-api",
        "num": 10,
        "payload": None,
        "payloadS3": "s3://payloads/event.json",
    },
    "Power Tuning, dry run and output flags": {
        "lambdaARN": "orders-api",
        "num": 10,
        "dryRun": True,
        "includeOutputResults": True,
        "disablePayloadLogs": False,
    },
    "Power Tuning, sleep 0 in parallel": {
        "lambdaARN": "orders-api",
        "num": 10,
        "sleepBetweenRunsMs": 0,
        "parallelInvocation": True,
    },
}

BAD = {
    "unknown field": {"targets": ["orders-api"], "memorySizez": [512]},
    "memorySize 64": {"targets": ["orders-api"], "memorySize": 64},
    "invocations 3": {"targets": ["orders-api"], "invocations": 3},
    "balancedWeight 2": {"targets": ["orders-api"], "strategy": "balanced", "balancedWeight": 2},
    "no targets": {"targets": []},
    "neither targets nor select": {"memorySize": 1024},
    "both targets and select": {"targets": ["orders-api"], "select": {"namePrefix": "orders-"}},
    "selector that selects everything": {"select": {"tags": {}}},
    "selector with a null prefix only": {"select": {"namePrefix": None}},
    "selector unknown field": {"select": {"namePrefix": "orders-", "prefix": "x"}},
    "selector bad exclusion": {"select": {"namePrefix": "orders-", "exclude": ["not a name!"]}},
    "selector bad prefix": {"select": {"namePrefix": "orders/"}},
    "not a function name": {"targets": ["orders api!"]},
    "unknown preset": {"targets": ["orders-api"], "memorySizes": "huge"},
    "empty memorySizes": {"targets": ["orders-api"], "memorySizes": []},
    "duplicate memorySizes": {"targets": ["orders-api"], "memorySizes": [512, 512]},
    "memorySizes 64": {"targets": ["orders-api"], "memorySizes": [64, 512]},
    "49 memorySizes": {"targets": ["orders-api"], "memorySizes": list(range(128, 128 + 49 * 64, 64))},
    "strategy COST": {"targets": ["orders-api"], "strategy": "COST"},
    "apply as text": {"targets": ["orders-api"], "apply": "yes"},
    "alias without apply": {"targets": ["orders-api"], "alias": "live"},
    "alias only digits": {"targets": ["orders-api"], "apply": True, "alias": "7"},
    "empty weighted payload": {"targets": ["orders-api"], "payload": []},
    "weight 0": {"targets": ["orders-api"], "payload": [{"payload": {}, "weight": 0}]},
    "weighted item unknown field": {"targets": ["orders-api"], "payload": [{"payload": {}, "weight": 1, "w": 1}]},
    "breaker unknown field": {"targets": ["orders-api"], "circuitBreaker": {"threshold": 3}},
    "breaker threshold 0": {"targets": ["orders-api"], "circuitBreaker": {"failureThreshold": 0}},
    "Power Tuning without num": {"lambdaARN": "orders-api"},
    "Power Tuning num 4": {"lambdaARN": "orders-api", "num": 4},
    "Power Tuning num 5000": {"lambdaARN": "orders-api", "num": 5000},
    "Power Tuning bad ARN": {"lambdaARN": "not a function!", "num": 10},
    "Power Tuning 64 MB": {"lambdaARN": "orders-api", "num": 10, "powerValues": [64]},
    "Power Tuning preset name": {"lambdaARN": "orders-api", "num": 10, "powerValues": "fine"},
    "Power Tuning balancedWeight 2": {"lambdaARN": "orders-api", "num": 10, "balancedWeight": 2},
    "Power Tuning discardTopBottom 0.5": {"lambdaARN": "orders-api", "num": 10, "discardTopBottom": 0.5},
    "Power Tuning alias alone": {"lambdaARN": "orders-api", "num": 10, "autoOptimizeAlias": "prod"},
    "Power Tuning sleep in parallel": {
        "lambdaARN": "orders-api",
        "num": 10,
        "sleepBetweenRunsMs": 100,
        "parallelInvocation": True,
    },
    "Power Tuning payload and S3": {
        "lambdaARN": "orders-api",
        "num": 10,
        "payload": {"id": 1},
        "payloadS3": "s3://payloads/event.json",
    },
    "Power Tuning dryRun as text": {"lambdaARN": "orders-api", "num": 10, "dryRun": "true"},
    "Power Tuning unknown field": {"lambdaARN": "orders-api", "num": 10, "numm": 10},
    "Power Tuning with targets": {"lambdaARN": "orders-api", "num": 10, "targets": ["orders-api"]},
    "ours with num": {"targets": ["orders-api"], "num": 10},
    "translation written by a user": {"targets": ["orders-api"], "powerTuning": []},
}


@pytest.mark.parametrize("raw", GOOD.values(), ids=GOOD.keys())
def test_schema_and_model_accept_the_same_good_inputs(raw, validator):
    # When a valid input is validated by the schema and by the model
    schema_problems, model_problem = _schema_problems(validator, raw), _model_problem(raw)
    # Then both accept it
    assert not schema_problems
    assert model_problem is None


@pytest.mark.parametrize("raw", BAD.values(), ids=BAD.keys())
def test_schema_and_model_reject_the_same_bad_inputs(raw, validator):
    # When an invalid input is validated by the schema and by the model
    schema_problems, model_problem = _schema_problems(validator, raw), _model_problem(raw)
    # Then both reject it
    assert schema_problems, "the schema accepts an input the model rejects"
    assert model_problem is not None, f"the model accepts an input the schema rejects: {schema_problems}"


def test_the_nested_execution_field_is_accepted_but_not_offered_as_a_property():
    # Given the generated schema's form of our own input (the other form is Power Tuning's)
    schema = execution_input_schema()["$defs"]["TuningRequest"]
    # Then the field a parent execution passes is no property an editor would suggest to a person
    assert "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID" not in schema["properties"]
    # And an input carrying it, as a nested .sync start sends it, is still valid (the model accepts it)
    assert list(schema["patternProperties"]) == ["^AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID$"]


def test_refine_is_valid_and_marked_deprecated(validator):
    # Given an input that still sets refine, a field the engine ignores
    raw = {"targets": ["orders-api"], "refine": False}
    # Then the schema and the model accept it, and the schema marks it deprecated (editors strike it through)
    assert not _schema_problems(validator, raw) and _model_problem(raw) is None
    assert execution_input_schema()["$defs"]["TuningRequest"]["properties"]["refine"]["deprecated"] is True


def test_no_shipped_input_sets_the_ignored_refine():
    assert not [path.name for path in INPUT_FILES if "refine" in json.loads(path.read_text())]
