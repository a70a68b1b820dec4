"""The words of the execution input's JSON Schema: each field's description, and the examples.

autotuner/schema.py builds the schema from the input models and fails when a field here is
missing or one is described that the models no longer have.
"""

from __future__ import annotations

from typing import Any

from autotuner_core.documents.request import TargetPayload, TuningRequest
from autotuner_core.power_tuning_fields import MAX_NUM, MIN_NUM

# The models carry no field descriptions; these follow README's "Execution input" table.
DESCRIPTIONS: dict[str, dict[str, str]] = {
    "#": {
        # Fields the model describes itself (pydantic Field descriptions); an entry below wins.
        **{
            field.alias or name: field.description
            for name, field in TuningRequest.model_fields.items()
            if field.description
        },
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
        "mode": (
            "measure (default): invoke each target at candidate sizes. telemetry: recommend from production "
            "REPORT lines and CloudWatch metrics alone, invoking and changing nothing (docs/telemetry.md); it takes "
            "no measurement or change field. auto: reserved, refused until it is available."
        ),
        "lookbackDays": "Telemetry mode: the days of production telemetry read, 1-90 (default 14).",
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
POWER_TUNING_DESCRIPTIONS = {
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
