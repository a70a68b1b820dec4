"""The execution input's JSON Schema, generated from ``TuningRequest`` for the console and editors.

pydantic's schema is the starting point; what it cannot see is added here: the field
descriptions (README "Execution input"), the preset names ``memorySizes`` accepts (its
BeforeValidator is invisible to the schema), the weighted-payload list, the target and
alias patterns, and the rule that ``alias`` needs ``apply``. The generated file lives at
``docs/execution-input.schema.json``; ``tests/test_schema.py`` fails when it drifts.
"""

from __future__ import annotations

import copy
import json
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from autotuner.schema_descriptions import DESCRIPTIONS, EXAMPLES, POWER_TUNING_DESCRIPTIONS
from autotuner_core.documents.base import _TARGET, MAX_MEMORY_MB, MIN_MEMORY_MB
from autotuner_core.documents.request import (
    _ALIAS,
    MAX_CANDIDATES,
    MAX_SLEEP_BETWEEN_RUNS_MS,
    MEMORY_PRESETS,
    CircuitBreakerOverride,
    TargetPayload,
    TargetSelector,
    TuningRequest,
    WeightedPayload,
)
from autotuner_core.power_tuning import PowerTuningInput
from autotuner_core.power_tuning_fields import MAX_NUM, MIN_NUM

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "docs" / "execution-input.schema.json"
SCHEMA_COMMAND = "autotuner schema --output docs/execution-input.schema.json"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

TITLE = "Lambda Autotuner execution input"
DESCRIPTION = (
    "The input of one Lambda Autotuner execution (Step Functions: Start execution): ours, or AWS Lambda Power "
    "Tuning's (it names its function with lambdaARN), which is translated field by field (docs/integration.md). "
    "Unknown fields, wrong types and out-of-range values end the run with InvalidInputError before anything is "
    f"created. Generated from the input models by `{SCHEMA_COMMAND}`; README: Execution input."
)

# Object definitions and the model each one comes from ("#" is the root): additionalProperties
# follows the model's `extra`, and every property must have a description (autotuner/schema_descriptions.py).
_OBJECTS: dict[str, type[BaseModel]] = {
    "#": TuningRequest,
    "CircuitBreakerOverride": CircuitBreakerOverride,
    "TargetPayload": TargetPayload,
    "TargetSelector": TargetSelector,
    "WeightedPayload": WeightedPayload,
}

_DIGITS = {"type": "string", "pattern": r"^\d{1,9}$"}

# models._s3_uri's pattern in ECMA-262 (no \Z; [\s\S] for a key's any character).
_S3_URI_PATTERN = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[\s\S]{1,1024}$"
STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"


def execution_input_schema() -> dict[str, Any]:
    """The execution input's JSON Schema (draft 2020-12), generated from ``TuningRequest``."""
    schema = TuningRequest.model_json_schema(by_alias=True, mode="validation")
    # Set by the translation of a Power Tuning input, never by a user.
    schema["properties"].pop("powerTuning")
    schema["$defs"].pop("TranslatedField")
    schema["$defs"]["WeightedPayload"] = WeightedPayload.model_json_schema(by_alias=True, mode="validation")
    objects = {name: definition for name, definition in schema["$defs"].items() if definition.get("type") == "object"}
    objects["#"] = schema
    unknown = sorted(set(objects) - set(_OBJECTS))
    if unknown:
        raise LookupError(
            f"autotuner/schema.py: add the models of {unknown} to _OBJECTS and describe their fields in "
            "autotuner/schema_descriptions.py"
        )
    for name, definition in objects.items():
        _describe_object(name, definition, _OBJECTS[name])

    properties = schema["properties"]
    # Accepted and ignored (the engine always searches adaptively): kept valid, marked so editors strike it.
    properties["refine"]["deprecated"] = True
    # The field a parent execution passes to a nested one: accepted as the model accepts it, but no
    # property an editor offers a person writing an input.
    schema["patternProperties"] = {f"^{STARTED_BY}$": properties.pop(STARTED_BY)}
    function_reference = _ecma_pattern(_TARGET.pattern)
    _not_null(properties["targets"])["items"]["pattern"] = function_reference
    selector = schema["$defs"]["TargetSelector"]
    selector["properties"]["exclude"]["items"]["pattern"] = function_reference
    # The model needs tags (not empty) and/or a name prefix: a selector that selects everything is refused.
    selector["anyOf"] = [
        {"required": ["tags"], "properties": {"tags": {"minProperties": 1}}},
        {"required": ["namePrefix"], "properties": {"namePrefix": {"type": "string"}}},
    ]
    _not_null(properties["alias"])["pattern"] = _ecma_pattern(_ALIAS.pattern)
    properties["memorySizes"] = _memory_sizes(properties["memorySizes"])
    properties["payload"] = _payload(properties["payload"])
    target_payload = schema["$defs"]["TargetPayload"]["properties"]
    target_payload["payload"] = _payload(target_payload["payload"])
    for prop in (properties["payloadS3"], target_payload["payloadS3"]):
        _not_null(prop)["pattern"] = _S3_URI_PATTERN
    # Exactly one of a function's inline payload and its S3 object.
    schema["$defs"]["TargetPayload"]["oneOf"] = [{"required": ["payload"]}, {"required": ["payloadS3"]}]
    # Cross-field rules the model checks: exactly one of targets and select (not null); an alias
    # (not null) is only moved when the change is applied.
    schema["oneOf"] = [
        {"required": ["targets"], "properties": {"targets": {"type": "array"}}},
        {"required": ["select"], "properties": {"select": {"type": "object"}}},
    ]
    schema["if"] = {"required": ["alias"], "properties": {"alias": {"type": "string"}}}
    schema["then"] = {"required": ["apply"], "properties": {"apply": {"const": True}}}

    schema.pop("$id", None)
    return _either_form(schema)


def _either_form(ours: dict[str, Any]) -> dict[str, Any]:
    """Ours or Power Tuning's input, told apart by lambdaARN as parse_request tells them apart."""
    definitions = ours.pop("$defs")
    ours.pop("title", None)
    definitions["TuningRequest"] = ours
    definitions["PowerTuningInput"] = _power_tuning_schema(definitions)
    return {
        "$schema": DRAFT_2020_12,
        "title": TITLE,
        "description": DESCRIPTION,
        "examples": copy.deepcopy(EXAMPLES),
        "$defs": definitions,
        "if": {"required": ["lambdaARN"]},
        "then": {"$ref": "#/$defs/PowerTuningInput"},
        "else": {"$ref": "#/$defs/TuningRequest"},
    }


def _power_tuning_schema(definitions: dict[str, Any]) -> dict[str, Any]:
    generated = PowerTuningInput.model_json_schema(by_alias=True, mode="validation")
    for name, definition in generated.pop("$defs", {}).items():
        if definitions.setdefault(name, definition) != definition:
            raise LookupError(f"autotuner/schema.py: $defs.{name} differs between the two input models")
    properties = generated["properties"]
    if set(properties) != set(POWER_TUNING_DESCRIPTIONS):
        raise LookupError(
            "autotuner/schema_descriptions.py: POWER_TUNING_DESCRIPTIONS must describe every Power Tuning field"
        )
    function = {"type": "string", "pattern": _ecma_pattern(_TARGET.pattern)}
    size = {"type": "integer", "minimum": MIN_MEMORY_MB, "maximum": MAX_MEMORY_MB}
    nullable = [{"type": "null"}]
    properties.update(
        {
            "lambdaARN": function,
            "num": {"anyOf": [{"type": "integer", "minimum": MIN_NUM, "maximum": MAX_NUM}, _DIGITS]},
            "powerValues": {
                "anyOf": [
                    {"type": "array", "items": {"anyOf": [size, _DIGITS]}},
                    {"const": "ALL"},
                    *nullable,
                ]
            },
            "payloadS3": {"anyOf": [{"type": "string", "pattern": _S3_URI_PATTERN}, *nullable]},
            "balancedWeight": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
            "discardTopBottom": {"type": "number", "minimum": 0, "maximum": 0.4, "default": 0.2},
            "autoOptimizeAlias": {"anyOf": [{"type": "string", "pattern": _ecma_pattern(_ALIAS.pattern)}, *nullable]},
            "preProcessorARN": {"anyOf": [function, *nullable]},
            "postProcessorARN": {"anyOf": [function, *nullable]},
            "sleepBetweenRunsMs": {
                "anyOf": [{"type": "integer", "minimum": 0, "maximum": MAX_SLEEP_BETWEEN_RUNS_MS}, _DIGITS, *nullable]
            },
        }
    )
    for name, prop in properties.items():
        prop.pop("title", None)
        prop["description"] = POWER_TUNING_DESCRIPTIONS[name]
    generated.pop("title", None)
    generated["description"] = "AWS Lambda Power Tuning's execution input, translated field by field."
    # What the translation refuses across fields: settings Power Tuning would silently ignore.
    generated["allOf"] = [
        {
            "if": {"required": ["autoOptimizeAlias"], "properties": {"autoOptimizeAlias": {"type": "string"}}},
            "then": {"required": ["autoOptimize"], "properties": {"autoOptimize": {"const": True}}},
        },
        {
            "not": {
                "required": ["parallelInvocation", "sleepBetweenRunsMs"],
                "properties": {
                    "parallelInvocation": {"const": True},
                    "sleepBetweenRunsMs": {"not": {"enum": [0, "0", None]}},
                },
            }
        },
        {
            "not": {
                "required": ["payload", "payloadS3"],
                "properties": {"payload": {"not": {"enum": [None, False, 0, ""]}}, "payloadS3": {"type": "string"}},
            }
        },
    ]
    return generated


def render_schema(schema: dict[str, Any] | None = None) -> str:
    """The schema as the committed file has it: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(schema or execution_input_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _describe_object(name: str, definition: dict[str, Any], model: type[BaseModel]) -> None:
    forbids_extra = model.model_config.get("extra") == "forbid"
    if forbids_extra:
        definition["additionalProperties"] = False
    else:
        definition.pop("additionalProperties", None)
    descriptions = DESCRIPTIONS[name]
    properties = definition["properties"]
    missing, stale = sorted(set(properties) - set(descriptions)), sorted(set(descriptions) - set(properties))
    if missing or stale:
        raise LookupError(
            f"autotuner/schema_descriptions.py: DESCRIPTIONS[{name!r}] lacks {missing} and has {stale}, "
            "which the model has not"
        )
    for alias, prop in properties.items():
        prop.pop("title", None)  # pydantic's "Memorysizes" etc.: the alias and description say more
        prop["description"] = descriptions[alias]


def _memory_sizes(generated: dict[str, Any]) -> dict[str, Any]:
    # The model's BeforeValidator expands a preset name to its list; pydantic shows the list only.
    sizes = dict(generated["items"])
    default = generated["default"]
    preset = next((name for name, values in MEMORY_PRESETS.items() if list(values) == default), None)
    return {
        "anyOf": [
            {"type": "array", "items": sizes, "minItems": 1, "maxItems": MAX_CANDIDATES, "uniqueItems": True},
            {"type": "string", "enum": list(MEMORY_PRESETS)},
        ],
        "default": preset or default,
        "description": generated["description"].format(
            min=MIN_MEMORY_MB, max=f"{MAX_MEMORY_MB:,}", presets=_presets_text()
        ),
    }


def _payload(generated: dict[str, Any]) -> dict[str, Any]:
    return {
        "anyOf": [
            {"type": ["object", "number", "boolean", "null"]},
            {"type": "string", "contentMediaType": "application/json"},
            {"type": "array", "items": {"$ref": "#/$defs/WeightedPayload"}, "minItems": 1},
        ],
        "description": generated["description"],
    }


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of pydantic's ``anyOf: [X, {"type": "null"}]`` for an optional field."""
    if "anyOf" not in prop:
        return prop
    (branch,) = [branch for branch in prop["anyOf"] if branch.get("type") != "null"]
    return branch


def _ecma_pattern(pattern: str) -> str:
    # Python's named groups, (?P<name>...), are not ECMA-262 (the console's and editors' regex).
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


def _presets_text() -> str:
    return "; ".join(f"{name} ({_sizes_text(sizes)})" for name, sizes in MEMORY_PRESETS.items())


def _sizes_text(sizes: tuple[int, ...]) -> str:
    steps = {later - earlier for earlier, later in pairwise(sizes)}
    if len(sizes) > 8 and len(steps) == 1:
        return f"every {steps.pop()} MB from {sizes[0]} to {sizes[-1]}"
    return ", ".join(str(size) for size in sizes)
