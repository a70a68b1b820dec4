"""Power Tuning's fields that say how each invocation is made, each translated into ours.

The payload (inline, weighted or in S3) and the invoking options: parallel invocation, the trimmed
mean, cold starts only, the processors, the sleep between runs and the allowed exceptions.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from autotuner_core.documents.request import MAX_SLEEP_BETWEEN_RUNS_MS
from autotuner_core.power_tuning_fields import MIN_NUM, Fields

if TYPE_CHECKING:
    from autotuner_core.power_tuning import PowerTuningInput


def _describe_payload(payload: Any) -> str:
    """What a payload is, without its content: payloads stay out of records and logs."""
    if isinstance(payload, list):
        return f"a weighted list of {len(payload)}"
    if isinstance(payload, str):
        return f"JSON text of {len(payload.encode())} bytes"
    if isinstance(payload, dict):
        return f"an object of {len(payload)} keys" if payload else "an empty object"
    return f"the JSON value {json.dumps(payload)}"


def _is_weighted(payload: Any) -> bool:
    # Power Tuning's test: a non-empty list whose every item has a truthy weight and a truthy payload.
    return (
        isinstance(payload, list)
        and bool(payload)
        and all(
            isinstance(item, dict) and _truthy(item.get("weight")) and _truthy(item.get("payload")) for item in payload
        )
    )


def _truthy(value: Any) -> bool:
    """JavaScript's truthiness of a JSON value: every object and array is true, empty text and 0 are false."""
    if isinstance(value, dict | list):
        return True
    return bool(value)


def _as_sent(payload: Any) -> tuple[Any, bool]:
    """The payload as Power Tuning sends it, in our terms, and whether text had to be quoted.

    Power Tuning sends JSON text as it is and turns anything else into JSON (text that is not JSON
    becomes a JSON string); ours sends a string as the JSON text it is, so such text is quoted here.
    """
    if isinstance(payload, str):
        try:
            json.loads(payload)
        except ValueError:
            return json.dumps(payload), True
    return payload, False


def translate_payload(raw: dict[str, Any], given: PowerTuningInput, fields: Fields, ours: dict[str, Any]) -> None:
    if given.payload_s3 is not None:
        if "payload" in raw and _truthy(raw["payload"]):
            fields.refuse(
                "payload",
                "Power Tuning ignores payload when payloadS3 is given; give one of the two (a setting that does "
                "nothing is refused here)",
            )
        uri = given.payload_s3
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        decoded = f"s3://{bucket}/{unquote(key)}" if uri.startswith("s3://") else uri
        ours["payloadS3"] = decoded
        note = (
            "read by the measuring function; its bucket must be in the deployment's PayloadBuckets, and the object "
            "must be JSON (Power Tuning sends other text as a JSON string)"
        )
        if decoded != uri:
            note += "; the key's %-escapes are decoded, as Power Tuning decodes them"
        fields.add("payloadS3", {"payloadS3": decoded}, note)
        return
    payload = raw.get("payload")
    if not _truthy(payload):
        # Power Tuning sends JSON null for a missing or falsy payload (0, false, "", null).
        ours["payload"] = "null"
        fields.add(
            "payload",
            {"payload": "null"},
            'Power Tuning sends JSON null when no payload (or a false one: null, 0, false, "") is given, and so '
            "does this translation (an input of ours without payload sends {})",
            given=None if "payload" not in raw else _describe_payload(payload),
        )
        return
    if isinstance(payload, list) and not _is_weighted(payload):
        ours["payload"] = [{"payload": payload, "weight": 1}]
        fields.add(
            "payload",
            {"payload": "one weighted item holding the list"},
            "a list that is not a weighted payload is the payload itself in Power Tuning; ours reads every list "
            "as weighted, so it is wrapped as one item",
            given=_describe_payload(payload),
        )
        return
    if isinstance(payload, list):
        items, quoted = [], False
        for item in payload:
            sent, was_quoted = _as_sent(item["payload"])
            quoted |= was_quoted
            items.append({"payload": sent, "weight": item["weight"]})
        weights = [item["weight"] for item in items]
        num = MIN_NUM if given.dry_run else int(given.num)
        if len(items) > num:
            why = f"{len(items)} weighted payloads need num of at least {len(items)}, as in Power Tuning"
            fields.refuse("payload", why + (f" (a dry run makes {MIN_NUM} invocations)" if given.dry_run else ""))
        if any(not isinstance(weight, int | float) or isinstance(weight, bool) or weight <= 0 for weight in weights):
            fields.refuse("payload", "every weight must be a number above 0")
        ours["payload"] = items
        note = (
            "weights are relative, as there; every measured size gets the same mix, in whole units of the split "
            "(Power Tuning gives each item floor(weight x num / total) of the num invocations)"
        )
        if quoted:
            note += "; text that is not JSON is sent as a JSON string, as Power Tuning sends it"
        fields.add(
            "payload",
            {"payload": f"a weighted list of {len(items)}"},
            note,
            given=f"{_describe_payload(payload)} (weights {', '.join(str(weight) for weight in weights)})",
        )
        return
    sent, quoted = _as_sent(payload)
    ours["payload"] = sent
    note = "sent to every invocation, as there"
    if quoted:
        note = "text that is not JSON is sent as a JSON string, as Power Tuning sends it"
    fields.add("payload", {"payload": _describe_payload(sent)}, note, given=_describe_payload(payload))


def translate_invoking(raw: dict[str, Any], given: PowerTuningInput, fields: Fields, ours: dict[str, Any]) -> None:
    if "parallelInvocation" in raw:
        ours["parallelInvocation"] = given.parallel_invocation
        fields.add(
            "parallelInvocation",
            {"parallelInvocation": given.parallel_invocation},
            "at most 16 invocations at a time (Power Tuning starts all num at once)"
            if given.parallel_invocation
            else "one invocation after the other, as there",
        )
    discard = given.discard_top_bottom
    if "discardTopBottom" in raw and not 0 <= discard <= 0.4:
        fields.refuse(
            "discardTopBottom",
            f"{discard:g} is outside 0-0.4 (Power Tuning would silently use {min(max(discard, 0), 0.4):g}); it is the "
            "fraction left out at each end, 0.2 = the fastest and the slowest 20 %",
        )
    trimmed = (
        "the fraction of the fastest and of the slowest invocations left out of each size's mean, floor(n x "
        "fraction) at each end as in Power Tuning; it trims the table (results.cost, results.duration, stats), "
        "while the decision uses the engine's estimates, which leave spikes out themselves"
    )
    if given.only_cold_starts:
        # Power Tuning's executor discards nothing when every invocation is a cold start.
        ours["discardTopBottom"] = 0
        fields.add(
            "discardTopBottom",
            {"discardTopBottom": 0},
            "0 with onlyColdStarts, as Power Tuning sets it: every invocation counts",
            given=raw.get("discardTopBottom"),
        )
    elif "discardTopBottom" in raw:
        ours["discardTopBottom"] = discard
        fields.add("discardTopBottom", {"discardTopBottom": discard}, trimmed)
    if "onlyColdStarts" in raw:
        ours["onlyColdStarts"] = given.only_cold_starts
        fields.add(
            "onlyColdStarts",
            {"onlyColdStarts": given.only_cold_starts},
            "one version per invocation per size, as there; each size is measured in one round"
            if given.only_cold_starts
            else "warm and cold invocations, as there",
        )
    for field, key, arn in (
        ("preProcessorARN", "preProcessor", given.pre_processor_arn),
        ("postProcessorARN", "postProcessor", given.post_processor_arn),
    ):
        if arn is not None:
            ours[key] = arn
            fields.add(
                field,
                {key: arn},
                "invoked around each measured invocation as there, not measured; it must be listed in the "
                "deployment's PayloadProcessorArns, in the tuner's account and region",
            )
    if given.sleep_between_runs_ms is not None:
        sleep = int(given.sleep_between_runs_ms)
        if sleep > MAX_SLEEP_BETWEEN_RUNS_MS:
            fields.refuse(
                "sleepBetweenRunsMs",
                f"{sleep} ms is over {MAX_SLEEP_BETWEEN_RUNS_MS:,} ms, the most here (a measuring function runs at "
                "most 900 s; Power Tuning has no limit of its own)",
            )
        if sleep and given.parallel_invocation:
            fields.refuse(
                "sleepBetweenRunsMs",
                "Power Tuning ignores it with parallelInvocation true; leave one of them out (a setting that does "
                "nothing is refused here)",
            )
        ours["sleepBetweenRunsMs"] = sleep
        fields.add(
            "sleepBetweenRunsMs",
            {"sleepBetweenRunsMs": sleep},
            "the wait after each invocation, before the post-processor, as there; at most 10,000 ms here",
        )
    if "allowedExceptions" in raw:
        ours["allowedExceptions"] = list(given.allowed_exceptions)
        fields.add(
            "allowedExceptions",
            {"allowedExceptions": list(given.allowed_exceptions)},
            "these error types count as normal results, as there; any other error excludes that size and the others "
            "are compared (Power Tuning fails the run)",
        )
