"""AWS Lambda Power Tuning's execution input, accepted as it is and translated field by field.

An input that names its function with ``lambdaARN`` is Power Tuning's. Each of its fields becomes
the field of ours with the same meaning, and each translated field carries a note saying where the
two tools differ (``TranslatedField``). A field, or a value, that cannot mean here what it means
there is refused with InvalidInputError naming the Power Tuning field and why; so is an input that
mixes the two forms. The notes travel with the request (``TuningRequest.power_tuning``) into the run
records and the run's output, which also names its result the way Power Tuning's does
(``summary.power_tuning_results``).

Power Tuning's behaviour is taken from its documentation (README, README-EXECUTE, README-ADVANCED)
and its functions (initializer, executor, analyzer, optimizer); docs/integration.md has the table.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import unquote

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError

from autotuner_core.documents.base import MAX_MEMORY_MB, MIN_MEMORY_MB, _describe
from autotuner_core.documents.request import (
    MAX_SLEEP_BETWEEN_RUNS_MS,
    MEMORY_PRESETS,
    Strategy,
    TranslatedField,
    TuningRequest,
)
from autotuner_core.policy.errors import InvalidInputError

STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
# Power Tuning's fields that ours does not have under the same name.
POWER_TUNING_ONLY = (
    "lambdaARN",
    "num",
    "powerValues",
    "autoOptimize",
    "autoOptimizeAlias",
    "dryRun",
    "preProcessorARN",
    "postProcessorARN",
    "includeOutputResults",
    "disablePayloadLogs",
)
# Ours that have no place in a Power Tuning input, and the Power Tuning field that says the same, if any.
OURS_ONLY = {
    "targets": "lambdaARN",
    "select": None,
    "memorySize": None,
    "memorySizes": "powerValues",
    "invocations": "num",
    "payloads": None,
    "preProcessor": "preProcessorARN",
    "postProcessor": "postProcessorARN",
    "apply": "autoOptimize",
    "alias": "autoOptimizeAlias",
    "refine": None,
    "minImprovement": None,
    "measureOnLive": None,
    "circuitBreaker": None,
    "powerTuning": None,
}
# Where one of our fields came from, for naming a problem the model finds by the field the user wrote.
_FROM = {ours: pt for ours, pt in OURS_ONLY.items() if pt}
# Power Tuning's ALL: every 64 MB from 128 to 3,008 MB (its initializer), our "fine" preset.
ALL_POWER_VALUES = tuple(range(128, 3009, 64))
# Power Tuning's deploy-time default (its template's PowerValues parameter).
POWER_TUNING_DEFAULT_VALUES = (128, 256, 512, 1024, 1536, 3008)
MAX_NUM = 1000  # TuningRequest.invocations' maximum
MIN_NUM = 5  # Power Tuning's minimum, and ours


def _digits(value: Any) -> Any:
    # Power Tuning reads its numbers with parseInt: digits in a string are that number.
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) <= 9 else value


_Whole = Annotated[int, Field(strict=True), BeforeValidator(_digits)]


class PowerTuningInput(BaseModel):
    """Power Tuning's execution input, its types as its documentation gives them (values are checked later)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)

    lambda_arn: str = Field(alias="lambdaARN", min_length=1)
    num: _Whole
    power_values: list[_Whole] | str | None = Field(default=None, alias="powerValues")
    payload: Any = None
    payload_s3: str | None = Field(default=None, alias="payloadS3")
    strategy: Strategy = Strategy.COST
    balanced_weight: float = Field(default=0.5, alias="balancedWeight", allow_inf_nan=False)
    auto_optimize: StrictBool = Field(default=False, alias="autoOptimize")
    auto_optimize_alias: str | None = Field(default=None, alias="autoOptimizeAlias")
    dry_run: StrictBool = Field(default=False, alias="dryRun")
    parallel_invocation: StrictBool = Field(default=False, alias="parallelInvocation")
    discard_top_bottom: float = Field(default=0.2, alias="discardTopBottom", allow_inf_nan=False)
    only_cold_starts: StrictBool = Field(default=False, alias="onlyColdStarts")
    pre_processor_arn: str | None = Field(default=None, alias="preProcessorARN")
    post_processor_arn: str | None = Field(default=None, alias="postProcessorARN")
    sleep_between_runs_ms: _Whole | None = Field(default=None, alias="sleepBetweenRunsMs")
    allowed_exceptions: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default=[], alias="allowedExceptions"
    )
    include_output_results: StrictBool = Field(default=False, alias="includeOutputResults")
    disable_payload_logs: StrictBool = Field(default=False, alias="disablePayloadLogs")
    started_by: str | None = Field(default=None, alias=STARTED_BY)


class Translation(BaseModel):
    """A Power Tuning input as our request, and what became of each of its fields."""

    model_config = ConfigDict(frozen=True)

    request: TuningRequest
    fields: list[TranslatedField]


def is_power_tuning_input(raw: Any) -> bool:
    """Whether ``raw`` is written in Power Tuning's form.

    ``lambdaARN`` names the function only in Power Tuning's input; an input with other fields of
    Power Tuning's and neither of our ``targets`` and ``select`` is one that forgot it.
    """
    if not isinstance(raw, dict):
        return False
    if "lambdaARN" in raw:
        return True
    return any(field in raw for field in POWER_TUNING_ONLY) and "targets" not in raw and "select" not in raw


def mixed_fields(raw: Any) -> list[str]:
    """Problems of an input in our form that carries fields of Power Tuning's (one per field)."""
    if not isinstance(raw, dict):
        return []
    ours = {pt: name for name, pt in _FROM.items()}
    return [
        f"{field}: a field of Power Tuning's input in an input of ours (it has targets or select); "
        + (f"ours is {ours[field]}" if field in ours else _only_there(field))
        + ", or write the whole input in Power Tuning's form (lambdaARN, num, ...)"
        for field in POWER_TUNING_ONLY
        if field in raw
    ]


def _only_there(field: str) -> str:
    return {
        "dryRun": "a run recommends without changing anything unless apply is true",
        "includeOutputResults": "the output always has every size's table",
        "disablePayloadLogs": "payloads are never written to the tuner's logs",
    }[field]


def translate(raw: dict[str, Any]) -> Translation:
    """Our request for a Power Tuning input, with a note per field; InvalidInputError names any refusal."""
    problems = [
        f"{field}: a field of ours in a Power Tuning input (it has lambdaARN); "
        + (f"Power Tuning's is {OURS_ONLY[field]}" if OURS_ONLY[field] else "Power Tuning's input has no such field")
        + "; write the input in one form"
        for field in raw
        if field in OURS_ONLY
    ]
    rest = {key: value for key, value in raw.items() if key not in OURS_ONLY}
    given: PowerTuningInput | None = None
    try:
        given = PowerTuningInput.model_validate(rest)
    except ValidationError as error:
        problems += [_power_tuning_problem(problem) for problem in error.errors()]
    if problems or given is None:
        raise _refused(problems)
    fields = _Fields(raw)
    ours: dict[str, Any] = {}
    _function(given, fields, ours)
    _num(given, fields, ours)
    _power_values(raw, given, fields, ours)
    _payload(raw, given, fields, ours)
    _strategy(raw, given, fields, ours)
    _apply(raw, given, fields, ours)
    _invoking(raw, given, fields, ours)
    _output_only(raw, fields)
    if given.started_by is not None:
        ours["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] = given.started_by
    if fields.problems:
        raise _refused(fields.problems)
    ours["powerTuning"] = [row.dump() for row in fields.rows]
    try:
        request = TuningRequest.model_validate(ours)
    except ValidationError as error:
        raise _refused([_our_problem(problem) for problem in error.errors()]) from None
    return Translation(request=request, fields=fields.rows)


def translation_text(raw: Any) -> str | None:
    """The translation of a Power Tuning input as lines to print; None for any other input or a refused one."""
    if not is_power_tuning_input(raw):
        return None
    try:
        rows = translate(raw).fields
    except InvalidInputError:
        return None  # the run itself refuses it, naming the field
    return render_rows([row.dump() for row in rows])


def render_rows(rows: list[dict[str, Any]]) -> str:
    """Translated fields as text: one line per field, its note below."""
    lines = ["Power Tuning input, translated field by field:"]
    for row in rows:
        ours = ", ".join(f"{key} {json.dumps(value)}" for key, value in row.get("ours", {}).items()) or "(no field)"
        given = json.dumps(row["given"]) if "given" in row else "(not given)"
        lines.append(f"  {row['field']} {given} → {ours}")
        lines.append(f"      {row['note']}")
    return "\n".join(lines)


def results_text(results: dict[str, Any] | None) -> str | None:
    """The run's ``results`` (Power Tuning's names) in one line; None when the run has none."""
    if not results:
        return None
    machine = results["stateMachine"]
    return (
        f"Power Tuning results: power {results['power']} MB, cost ${results['cost']:.10f} per invocation, "
        f"duration {results['duration']:.1f} ms; stateMachine executionCost ${machine['executionCost']:.6f}, "
        f"lambdaCost ${machine['lambdaCost']:.6f}; stats for {len(results['stats'])} sizes"
    )


class _Fields:
    """The rows of a translation being built, and the refusals found on the way."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.rows: list[TranslatedField] = []
        self.problems: list[str] = []

    def add(self, field: str, ours: dict[str, Any], note: str, *, given: Any = ...) -> None:
        if given is ...:
            given = self.raw.get(field)
        shown = {"given": given} if field in self.raw or given is not None else {}
        self.rows.append(TranslatedField.model_validate({"field": field, **shown, "ours": ours, "note": note}))

    def refuse(self, field: str, why: str) -> None:
        self.problems.append(f"{field}: {why}")


def _function(given: PowerTuningInput, fields: _Fields, ours: dict[str, Any]) -> None:
    ours["targets"] = [given.lambda_arn]
    fields.add(
        "lambdaARN",
        {"targets": [given.lambda_arn]},
        "the one target; a name, partial ARN or ARN in the tuner's own account and region (Power Tuning also "
        "tunes functions of other regions)",
    )


def _num(given: PowerTuningInput, fields: _Fields, ours: dict[str, Any]) -> None:
    num = int(given.num)
    if num < MIN_NUM:
        fields.refuse("num", f"{num} is below {MIN_NUM}, the minimum here as in Power Tuning")
    elif num > MAX_NUM:
        fields.refuse(
            "num",
            f"{num} is over {MAX_NUM}, the most here: the engine's budget is 3 x num invocations over all sizes "
            "(Power Tuning invokes num times at each size)",
        )
    if given.dry_run:
        fields.add("num", {}, "not used with dryRun, which sets the invocations (below)")
        return
    ours["invocations"] = num
    text = " (a number in a string, read as Power Tuning's parseInt does)" if isinstance(fields.raw["num"], str) else ""
    fields.add(
        "num",
        {"invocations": num},
        "the engine's budget: at most 3 x num invocations over all sizes, spent where the decision is close "
        f"(Power Tuning invokes num times at each size){text}",
    )


def _power_values(raw: dict[str, Any], given: PowerTuningInput, fields: _Fields, ours: dict[str, Any]) -> None:
    ladder = (
        "a search range here: the engine measures a ladder of sizes from the smallest to the largest, and the "
        "function's current size where the budget allows, not necessarily each one listed (Power Tuning measures each)"
    )
    values = given.power_values
    if isinstance(values, str):
        if values != "ALL":
            fields.refuse(
                "powerValues",
                f'{values!r:.40} is not "ALL", the only text Power Tuning accepts; give a list of sizes in MB',
            )
            return
        ours["memorySizes"] = "fine"
        fields.add(
            "powerValues", {"memorySizes": "fine"}, f"ALL is every 64 MB from 128 to 3,008 MB, as there; {ladder}"
        )
        return
    if not values:
        # Power Tuning then uses its deployment's PowerValues; this deployment's default is ours.
        standard = list(MEMORY_PRESETS["standard"])
        defaults = ", ".join(str(size) for size in POWER_TUNING_DEFAULT_VALUES)
        fields.add(
            "powerValues",
            {"memorySizes": "standard"},
            f"not given or empty: Power Tuning uses its deployment's PowerValues (by default {defaults}); here the "
            f"standard preset ({', '.join(str(size) for size in standard)}), {ladder}",
            given=raw.get("powerValues"),
        )
        return
    sizes: list[int] = []
    for index, value in enumerate(values):
        size = int(value)
        if not MIN_MEMORY_MB <= size <= MAX_MEMORY_MB:
            fields.refuse(
                f"powerValues[{index}]",
                f"{size} MB is outside Lambda's memory sizes, {MIN_MEMORY_MB} to {MAX_MEMORY_MB:,} MB (Power Tuning "
                "would fail when it sets it)",
            )
        elif size not in sizes:
            sizes.append(size)
    notes = []
    if any(isinstance(value, str) for value in raw["powerValues"]):
        notes.append("sizes given as text are read as numbers, as Power Tuning does")
    if len(sizes) < len(values) and not fields.problems:
        notes.append("a size listed twice is measured as one")
    ours["memorySizes"] = sizes
    fields.add("powerValues", {"memorySizes": sorted(sizes)}, "; ".join([ladder, *notes]))


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


def _payload(raw: dict[str, Any], given: PowerTuningInput, fields: _Fields, ours: dict[str, Any]) -> None:
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


def _strategy(raw: dict[str, Any], given: PowerTuningInput, fields: _Fields, ours: dict[str, Any]) -> None:
    if "strategy" in raw:
        ours["strategy"] = given.strategy.value
        fields.add(
            "strategy",
            {"strategy": given.strategy.value},
            "the same three strategies; ours keeps the current size unless the best one is at least minImprovement "
            "(5 %) better, and decides on the engine's estimates with a 90 % interval",
        )
    if "balancedWeight" in raw:
        weight = given.balanced_weight
        if not 0 <= weight <= 1:
            fields.refuse(
                "balancedWeight",
                f"{weight:g} is outside 0-1 (Power Tuning would silently use {min(max(weight, 0), 1):g}); 0 is speed, "
                "1 is cost",
            )
        ours["balancedWeight"] = weight
        fields.add(
            "balancedWeight",
            {"balancedWeight": weight},
            "the same score: weight x cost / largest cost + (1 - weight) x duration / largest duration",
        )


def _apply(raw: dict[str, Any], given: PowerTuningInput, fields: _Fields, ours: dict[str, Any]) -> None:
    if given.auto_optimize_alias is not None and not given.auto_optimize:
        fields.refuse(
            "autoOptimizeAlias",
            "Power Tuning ignores it unless autoOptimize is true; set autoOptimize: true or leave it out (a setting "
            "that does nothing is refused here)",
        )
    if given.dry_run:
        ours.update(invocations=MIN_NUM, apply=False)
        fields.add(
            "dryRun",
            {"invocations": MIN_NUM, "apply": False},
            f"Power Tuning invokes each size once and skips the analysis and any change; here every permission is "
            f"checked before anything is invoked in every run, and a dry run is the smallest real run: {MIN_NUM} "
            "invocations' budget (num is not used), a recommendation, nothing applied",
        )
        for field in ("autoOptimize", "autoOptimizeAlias"):
            if field in raw:
                fields.add(field, {}, "not used with dryRun, as in Power Tuning: nothing is changed")
        return
    if "dryRun" in raw:
        fields.add("dryRun", {}, "false: a normal run")
    if "autoOptimize" in raw:
        ours["apply"] = given.auto_optimize
        fields.add(
            "autoOptimize",
            {"apply": given.auto_optimize},
            "true applies the chosen size to $LATEST, verified, unless it is less than minImprovement (5 %) better "
            "than the current one (Power Tuning always applies the best); false recommends only"
            if given.auto_optimize
            else "false recommends only: nothing of the function changes",
        )
    if given.auto_optimize_alias is not None and given.auto_optimize:
        ours["alias"] = given.auto_optimize_alias
        fields.add(
            "autoOptimizeAlias",
            {"alias": given.auto_optimize_alias},
            "as there: $LATEST gets the new size, a version is published and this alias (created if absent) points "
            "at it",
        )


def _invoking(raw: dict[str, Any], given: PowerTuningInput, fields: _Fields, ours: dict[str, Any]) -> None:
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


def _output_only(raw: dict[str, Any], fields: _Fields) -> None:
    if "includeOutputResults" in raw:
        fields.add(
            "includeOutputResults",
            {},
            "results.stats and each size's table (outcomes[].configurations) are always in the output here",
        )
    if "disablePayloadLogs" in raw:
        fields.add(
            "disablePayloadLogs",
            {},
            "the tuner never writes payloads to its logs, error messages or run records; an inline payload is part "
            "of the execution's input and state, as in Power Tuning",
        )


def _power_tuning_problem(problem: Any) -> str:
    text = _describe(problem)
    if problem["type"] == "extra_forbidden":
        field = problem["loc"][0]
        return f"{field}: not a field of Power Tuning's input (nor of ours)"
    if problem["loc"] and problem["loc"][0] in ("num", "sleepBetweenRunsMs", "powerValues"):
        return text + " (a whole number, or its digits in a string)"
    return text


def _our_problem(problem: Any) -> str:
    """A problem our model found, named by the Power Tuning field it came from."""
    loc = list(problem["loc"])
    if loc and loc[0] in _FROM:
        loc[0] = _FROM[loc[0]]
        if loc[0] == "lambdaARN" and len(loc) > 1 and loc[1] == 0:
            del loc[1]
    return _describe({**problem, "loc": tuple(loc)})


def _refused(problems: list[str]) -> InvalidInputError:
    count = len(problems)
    return InvalidInputError(
        f"invalid Power Tuning input ({count} problem{'s' if count > 1 else ''}): " + "; ".join(problems), problems
    )
