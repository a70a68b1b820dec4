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
# follows the model's `extra`, and every property must have a description below.
_OBJECTS: dict[str, type[BaseModel]] = {
    "#": TuningRequest,
    "CircuitBreakerOverride": CircuitBreakerOverride,
    "TargetPayload": TargetPayload,
    "TargetSelector": TargetSelector,
    "WeightedPayload": WeightedPayload,
}

# The models carry no field descriptions; these follow README's "Execution input" table.
_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "#": {
        "targets": (
            "The functions to tune: a function name, partial ARN (123456789012:function:name) or ARN, optionally "
            "qualified (:live, :7, :$LATEST); same account and region as the tuner; no duplicates. The "
            "configuration changed is the function's ($LATEST), as published versions are immutable. Give "
            "either targets or select."
        ),
        "select": (
            "A fleet sweep instead of a list: every function of the tuner's account and region with all these "
            "tags and/or this name prefix, minus exclusions; the tuner's own functions are never selected. Give "
            "either targets or select."
        ),
        "memorySizes": (
            "The search range in MB: a list of integers from {min} to {max}, or a preset name: {presets}. "
            "The engine measures sizes between the smallest and the largest (a ladder of common sizes clipped "
            "to the range, both ends included); the target's current size is a candidate too."
        ),
        "invocations": (
            "Sets the engine's budget: at most 3 x invocations in all (half of Power Tuning's 6 sizes x num). "
            "A size gets 2 at first, more where the decision is close."
        ),
        "payload": (
            "What each invocation receives: any JSON value; a string is sent as the JSON text it is (it must "
            'parse as JSON); a list is weighted, [{"payload": …, "weight": n}] with weights > 0 (relative) and '
            "at most `invocations` items. A size measured fewer times than there are items does not receive every "
            "item. To send a JSON array itself, wrap it as one weighted item; to send JSON null, give the text "
            '"null". Run-wide: a function with its own payload (payloads, the autotuner:payload tag) gets that '
            "instead. Not given: one named target receives {} (as in Power Tuning); in a sweep (select, or several "
            'targets) a function without a payload of its own is not invoked and is recorded SKIPPED. "payload": {} '
            "sends {} to every function."
        ),
        "payloadS3": (
            "Instead of payload: an s3://BUCKET/KEY object holding the run-wide payload (JSON, sent as it is; at "
            "most 6,291,456 bytes, Lambda's synchronous invoke limit), read by the measuring function and never "
            "passed through the execution's state. The bucket must be one the deployment's PayloadBuckets "
            "parameter names; the object is checked (HeadObject) before anything is created."
        ),
        "payloads": (
            "Per-function payloads for a sweep or a list of targets: {FUNCTION: {payload: …} or {payloadS3: "
            '"s3://…"}}, FUNCTION a name, partial ARN or ARN as in targets. A function\'s entry wins over its '
            "autotuner:payload tag (an s3:// URI) and over the run-wide payload. Every entry must name a target "
            "of the run (for select: once the functions are selected), or the run fails with InvalidInputError."
        ),
        "preProcessor": (
            "A function (name or ARN, listed in the deployment's PayloadProcessorArns) invoked before each "
            "measured invocation, as in Power Tuning: it receives the payload, and its output (unless empty or "
            "null) is sent instead. Not measured; a failure ends the target with ProcessorFailedError."
        ),
        "postProcessor": (
            "A function (name or ARN, listed in PayloadProcessorArns) invoked after each measured invocation with "
            "the function's output, as in Power Tuning. Not measured; a failure ends the target with "
            "ProcessorFailedError."
        ),
        "sleepBetweenRunsMs": (
            "Milliseconds to wait after each invocation (0-10,000), for functions that must not be called back "
            "to back; refused with parallelInvocation."
        ),
        "parallelInvocation": "Invoke each size's invocations concurrently (faster; more cold starts).",
        "strategy": "cost: the cheapest per invocation; speed: the fastest (trimmed mean); balanced: a weighted mix.",
        "balancedWeight": "For the balanced strategy: 0 is speed, 1 is cost.",
        "discardTopBottom": (
            "Share of the fastest and of the slowest invocations left out of the table's mean (the decision's "
            "estimates leave spikes out instead)."
        ),
        "onlyColdStarts": (
            "Every invocation on a fresh execution environment (one version per invocation); each size is "
            "then measured in one round only."
        ),
        "allowedExceptions": ("Function error types that count as normal results; any other error excludes the size."),
        "refine": "Accepted and ignored: the engine always searches adaptively (kept so existing inputs stay valid).",
        "minImprovement": (
            "The smallest projected improvement worth a change, as a fraction (0.05 = 5 %) of the strategy's "
            "measure (cost, duration, or both weighted); below it the current size is kept and nothing is updated."
        ),
        "measureOnLive": (
            "Measure a $LATEST that serves live traffic in place when the deployment allows no shadow copy "
            "(ShadowRoleArns): production then runs at the candidate sizes, never below the function's max "
            "memory used x headroom. Default false: such a target fails with LiveTrafficError."
        ),
        "memorySize": "Skip measurement and apply this memory size (MB) as given.",
        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": (
            "Set by a parent state machine that starts this execution (nested, .sync): the parent's execution "
            "ARN, kept to link the two executions and otherwise unused."
        ),
        "circuitBreaker": "Override the circuit breaker's settings for this execution (default: the template's).",
        "apply": (
            "false recommends only: nothing changes except the temporary measurement versions, which are gone "
            "at the end; true applies the chosen memory size."
        ),
        "alias": (
            "With apply: publish a version with the new configuration and point this alias at it (created if "
            "absent). Needs apply: true."
        ),
    },
    "CircuitBreakerOverride": {
        "failureThreshold": "Consecutive failed runs that open a target's circuit (template: CircuitFailureThreshold).",
        "cooldownSeconds": "How long a circuit stays open before one probe run (template: CircuitCooldownMinutes).",
    },
    "TargetSelector": {
        "tags": "Select functions carrying all these tags (key: value); at most 10.",
        "namePrefix": "Select functions whose name starts with this prefix.",
        "exclude": "Functions never to select: names, partial ARNs or ARNs, as in targets.",
    },
    # The model's own Field descriptions.
    "TargetPayload": {
        field.alias or name: field.description or "" for name, field in TargetPayload.model_fields.items()
    },
    "WeightedPayload": {
        "payload": "What the invocation receives (a string is sent as the JSON text it is).",
        "weight": "Relative share of the invocations that receive this payload (> 0).",
    },
}

# Power Tuning's fields (power_tuning.py): what each is there, and what it becomes here.
_POWER_TUNING_DESCRIPTIONS = {
    "lambdaARN": "Power Tuning: the function to tune. Here: targets, one function in the tuner's account and region.",
    "num": (
        f"Power Tuning: invocations at each size (at least {MIN_NUM}). Here: invocations, the engine's budget of "
        f"3 x num over all sizes (at most {MAX_NUM}); digits in a string are read as a number."
    ),
    "powerValues": (
        'Power Tuning: the sizes to measure, or "ALL" (every 64 MB from 128 to 3,008). Here: memorySizes, a search '
        "range; not given or empty: the standard preset."
    ),
    "payload": (
        "Power Tuning: what each invocation receives; a list of {payload, weight} items is weighted, any other list "
        "is the payload itself; text that is not JSON is sent as a JSON string; none (or a false value) sends null."
    ),
    "payloadS3": "An s3://BUCKET/KEY object holding the payload, its bucket in PayloadBuckets; not with payload.",
    "strategy": "cost, speed or balanced, as in Power Tuning.",
    "balancedWeight": "For balanced: 0 is speed, 1 is cost (0-1; Power Tuning would clamp, this tuner refuses).",
    "autoOptimize": "Apply the chosen size (here: unless it is less than minImprovement, 5 %, better). Ours: apply.",
    "autoOptimizeAlias": "With autoOptimize: point this alias at a version with the new size. Ours: alias.",
    "dryRun": "Power Tuning: one invocation per size, no analysis. Here: the smallest real run, nothing applied.",
    "parallelInvocation": "Invoke each size's invocations concurrently (here at most 16 at a time).",
    "discardTopBottom": "Fraction of the fastest and of the slowest invocations left out of each size's mean (0-0.4).",
    "onlyColdStarts": "Every invocation on a fresh execution environment (one version per invocation per size).",
    "preProcessorARN": "Invoked before each measured invocation; listed in PayloadProcessorArns. Ours: preProcessor.",
    "postProcessorARN": "Invoked after each measured invocation; listed in PayloadProcessorArns. Ours: postProcessor.",
    "sleepBetweenRunsMs": "Milliseconds to wait after each invocation (0-10,000); not with parallelInvocation.",
    "allowedExceptions": "Function error types that count as normal results; another error excludes that size.",
    "includeOutputResults": "Accepted: the output here always has results.stats and every size's table.",
    "disablePayloadLogs": "Accepted: the tuner never writes payloads to its logs, error messages or records.",
    "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": "Set by a parent state machine: its execution ARN, kept as a link.",
}
_DIGITS = {"type": "string", "pattern": r"^\d{1,9}$"}

# models._s3_uri's pattern in ECMA-262 (no \Z; [\s\S] for a key's any character).
_S3_URI_PATTERN = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[\s\S]{1,1024}$"
_ORDER_PAYLOAD = {"httpMethod": "GET", "path": "/orders/o-1001", "headers": {"accept": "application/json"}}
EXAMPLES: list[dict[str, Any]] = [
    {"targets": ["orders-api"], "memorySizes": "standard", "invocations": 10, "payload": _ORDER_PAYLOAD},
    {
        "targets": ["orders-api"],
        "memorySizes": [512, 1024, 1769, 3008],
        "strategy": "balanced",
        "balancedWeight": 0.7,
        "payload": _ORDER_PAYLOAD,
        "apply": True,
        "alias": "live",
    },
]


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
        raise LookupError(f"autotuner/schema.py: add the models of {unknown} to _OBJECTS and describe their fields")
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
    if set(properties) != set(_POWER_TUNING_DESCRIPTIONS):
        raise LookupError("autotuner/schema.py: _POWER_TUNING_DESCRIPTIONS must describe every Power Tuning field")
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
        prop["description"] = _POWER_TUNING_DESCRIPTIONS[name]
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
    descriptions = _DESCRIPTIONS[name]
    properties = definition["properties"]
    missing, stale = sorted(set(properties) - set(descriptions)), sorted(set(descriptions) - set(properties))
    if missing or stale:
        raise LookupError(
            f"autotuner/schema.py: _DESCRIPTIONS[{name!r}] lacks {missing} and has {stale}, which the model has not"
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
