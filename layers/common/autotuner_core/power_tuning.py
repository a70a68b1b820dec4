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
Each field's translator is in power_tuning_fields.py (what to tune) or power_tuning_payload.py
(how each invocation is made).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError

from autotuner_core.documents.base import _describe
from autotuner_core.documents.request import Strategy, TranslatedField, TuningRequest
from autotuner_core.policy.errors import InvalidInputError
from autotuner_core.power_tuning_fields import (
    Fields,
    translate_apply,
    translate_function,
    translate_num,
    translate_output_only,
    translate_power_values,
    translate_strategy,
)
from autotuner_core.power_tuning_payload import translate_invoking, translate_payload

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
    fields = Fields(raw)
    ours: dict[str, Any] = {}
    translate_function(given, fields, ours)
    translate_num(given, fields, ours)
    translate_power_values(raw, given, fields, ours)
    translate_payload(raw, given, fields, ours)
    translate_strategy(raw, given, fields, ours)
    translate_apply(raw, given, fields, ours)
    translate_invoking(raw, given, fields, ours)
    translate_output_only(raw, fields)
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
