"""Power Tuning's fields that say what to tune and what to change, each translated into ours.

The target, ``num``, ``powerValues``, the strategy, ``dryRun`` and ``autoOptimize``, and the flags
that only shape Power Tuning's output. Each adds its row to :class:`Fields`, or a refusal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autotuner_core.documents.base import MAX_MEMORY_MB, MIN_MEMORY_MB
from autotuner_core.documents.request import MEMORY_PRESETS, POWER_TUNING_SIZES_MB, TranslatedField

if TYPE_CHECKING:
    from autotuner_core.power_tuning import PowerTuningInput

MAX_NUM = 1000  # TuningRequest.invocations' maximum
MIN_NUM = 5  # Power Tuning's minimum, and ours


class Fields:
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


def translate_function(given: PowerTuningInput, fields: Fields, ours: dict[str, Any]) -> None:
    ours["targets"] = [given.lambda_arn]
    fields.add(
        "lambdaARN",
        {"targets": [given.lambda_arn]},
        "the one target; a name, partial ARN or ARN in the tuner's own account and region (Power Tuning also "
        "tunes functions of other regions)",
    )


def translate_num(given: PowerTuningInput, fields: Fields, ours: dict[str, Any]) -> None:
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


def translate_power_values(raw: dict[str, Any], given: PowerTuningInput, fields: Fields, ours: dict[str, Any]) -> None:
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
        defaults = ", ".join(str(size) for size in POWER_TUNING_SIZES_MB)
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


def translate_strategy(raw: dict[str, Any], given: PowerTuningInput, fields: Fields, ours: dict[str, Any]) -> None:
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


def translate_apply(raw: dict[str, Any], given: PowerTuningInput, fields: Fields, ours: dict[str, Any]) -> None:
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


def translate_output_only(raw: dict[str, Any], fields: Fields) -> None:
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
