"""The run report's plain-JSON readers and text cells, shared by the page, svg.py and the CLI.

Everything here reads the run's plain JSON (camelCase dicts, as a run summary or a run record
stores them), not the pydantic models, so a stored record renders as well as a fresh run. The CLI
(autotuner/reports.py, with matplotlib charts and the text table) and the deployed SummarizeRun
(store.py, with the SVG charts of svg.py) both read runs through it; html.py builds the page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from autotuner_core.aws.arns import unqualified

CHART_WIDTH_PX = 1080
CHART_HEIGHT_PX = 780

DURATION_COLOR = "#1f6fb4"
COST_COLOR = "#d9822b"
CHOSEN_COLOR = "#2e7d32"
CURRENT_COLOR = "#3c4650"
EXCLUDED_COLOR = "#c62828"

_FAILED = re.compile(r"^(\d+) of (\d+) invocations failed: (.+)$")
# A constraint's reason (decision/constraints.py): "FIELD: FIGURES (DETAIL)", several joined by "; ".
_CONSTRAINT = re.compile(r"^(maxDurationIncreasePct|maxP99DurationMs|memory floor|minMemorySize): ([^(;]+?)(?: \(|;|$)")

# --- plain-JSON accessors ------------------------------------------------------------------


def function_name(outcome: dict[str, Any]) -> str:
    """The function's name (with its qualifier, if any) from an outcome's or record's target."""
    target = str(outcome.get("target") or outcome.get("functionName") or "unknown function")
    parts = target.split(":")
    if "function" in parts[:-1]:
        at = parts.index("function")
        return ":".join(parts[at + 1 :])
    return target


def configurations_of(outcome: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(outcome.get("configurations") or [], key=lambda c: c["memorySize"])


def _memory(outcome: dict[str, Any], when: str) -> int | None:
    """memoryBefore/memoryAfter of an outcome, or before/after.MemorySize of a run record."""
    value = outcome.get(f"memory{when.capitalize()}")
    if value is None:
        value = (outcome.get(when) or {}).get("MemorySize")
    return value


def current_memory(outcome: dict[str, Any]) -> int | None:
    recommendation = outcome.get("recommendation") or {}
    if recommendation.get("currentMemorySize") is not None:
        memory: int = recommendation["currentMemorySize"]
        return memory
    current = [c["memorySize"] for c in outcome.get("configurations") or [] if c.get("current")]
    return current[0] if current else _memory(outcome, "before")


def chosen_memory(outcome: dict[str, Any]) -> int | None:
    return (outcome.get("recommendation") or {}).get("memorySize")


def strategy_label(outcome: dict[str, Any]) -> str | None:
    """The recommendation's strategy, or a stored record's requested one unless a fixed size was asked for."""
    chosen_by = outcome.get("recommendation") or {}
    if not chosen_by and "memorySize" not in (outcome.get("requested") or {}):
        chosen_by = outcome.get("requested") or {}
    strategy = chosen_by.get("strategy")
    if strategy == "balanced" and chosen_by.get("balancedWeight") is not None:
        return f"balanced (weight {chosen_by['balancedWeight']:g})"
    return strategy


def headline(outcome: dict[str, Any]) -> str:
    """``APPLIED, 512 → 1769 MB`` — what happened to the target."""
    before, after = _memory(outcome, "before"), _memory(outcome, "after")
    state = str(outcome.get("outcome") or "no outcome")
    if before is not None and after is not None and before != after:
        return f"{state}, {before} → {after} MB"
    if before is not None:
        return f"{state}, {before} MB"
    return state


def summary_line(outcome: dict[str, Any]) -> str:
    """The recommendation's summary; for an outcome without one, what happened instead."""
    recommendation = outcome.get("recommendation") or {}
    lines = []
    if recommendation.get("summary"):
        lines.append(f"recommendation: {recommendation['summary']}")
    if outcome.get("errorType") or outcome.get("errorMessage"):
        error = ": ".join(str(part) for part in (outcome.get("errorType"), outcome.get("errorMessage")) if part)
        lines.append(f"{outcome.get('outcome') or 'FAILED'}: {error}")
    if not lines:
        if outcome.get("configurations"):
            lines.append(f"{headline(outcome)}: no recommendation")
        else:
            fixed = outcome.get("outcome") in {"APPLIED", "UNCHANGED", "RECOMMENDED"}
            lines.append(
                f"{headline(outcome)}: {'a fixed memory size, nothing measured' if fixed else 'nothing measured'}"
            )
    return "\n".join(lines)


# --- table cells ---------------------------------------------------------------------------


def ms_text(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def usd_text(value: float | None, significant: int = 3) -> str:
    """Dollars with ``significant`` figures and no exponent: $46.14, $0.0000461."""
    if value is None:
        return "-"
    if value == 0:
        return "$0"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    decimals = min(12, max(2, significant - 1 - math.floor(math.log10(abs(value)))))
    return f"${value:.{decimals}f}"


def _count_of(config: dict[str, Any], key: str) -> str:
    return f"{config.get(key) or 0}/{config['invocations']}" if config.get("invocations") else "-"


def _cold_share(config: dict[str, Any]) -> str:
    return f"{config.get('coldStartShare') or 0:.0%}" if config.get("invocations") else "-"


def _optional(value: Any) -> str:
    return "-" if value is None else str(value)


@dataclass(frozen=True)
class _Column:
    header: str
    cell: Callable[[dict[str, Any]], str]


COLUMNS = (
    _Column("memory MB", lambda c: str(c["memorySize"])),
    _Column("trimmed mean ms", lambda c: ms_text(c.get("meanMs"))),
    _Column("p50 ms", lambda c: ms_text(c.get("p50Ms"))),
    _Column("p90 ms", lambda c: ms_text(c.get("p90Ms"))),
    _Column("p99 ms", lambda c: ms_text(c.get("p99Ms"))),
    _Column("cold starts", _cold_share),
    _Column("errors", lambda c: _count_of(c, "errors")),
    _Column("max used MB", lambda c: _optional(c.get("maxMemoryUsedMb"))),
    _Column("$/invocation", lambda c: usd_text(c.get("costPerInvocationUsd"))),
    _Column("$/million", lambda c: usd_text(c.get("costPerMillionUsd"))),
)


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def short_reason(reason: str) -> str:
    """``3 of 10 invocations failed: Runtime.OutOfMemory`` → ``3/10 failed: Runtime.OutOfMemory``."""
    failed = _FAILED.match(reason)
    if failed:
        reason = f"{failed[1]}/{failed[2]} failed: {failed[3]}"
    elif reason.startswith("Lambda rejected it"):
        reason = "rejected by Lambda"
    elif constraint := _CONSTRAINT.match(reason):
        more = reason.count("; ")
        reason = f"{constraint[1]}: {constraint[2]}" + (f" (+{more} more)" if more else "")
    return _truncate(reason, 44)


def exclusion_kind(reason: str) -> str:
    """A few words for a chart legend: why sizes like this one were left out."""
    lowered = reason.lower()
    for needles, kind in (
        (("outofmemory", "out of memory"), "out of memory"),
        (("timedout", "timed out", "timeout"), "timed out"),
        (("lambda rejected",), "rejected by Lambda"),
        (("invocations failed",), "invocations failed"),
        (("invocations ran at",), "ran at another size"),
        (("no invocations",), "not measured"),
        (("maxdurationincreasepct",), "over maxDurationIncreasePct"),
        (("maxp99durationms",), "over maxP99DurationMs"),
        (("memory floor", "minmemorysize"), "below the memory floor"),
    ):
        if any(needle in lowered for needle in needles):
            return kind
    return _truncate(reason, 40)


def config_marks(config: dict[str, Any], chosen: int | None, *, short: bool) -> list[str]:
    marks = []
    if config.get("current"):
        marks.append("current")
    excluded = config.get("excluded")
    if config["memorySize"] == chosen and not excluded:
        marks.append("chosen")
    if excluded:
        marks.append(f"excluded: {short_reason(excluded) if short else excluded}")
    return marks


def _run_outcomes(run_output: dict[str, Any]) -> list[dict[str, Any]]:
    """The runner's result (``output.outcomes``, or ``records`` when the run failed) or a RunSummary."""
    summary: dict[str, Any] = run_output["output"] if isinstance(run_output.get("output"), dict) else run_output
    if summary.get("outcomes"):
        return list(summary["outcomes"])
    return list(run_output.get("records") or [])


def _timestamp(text: str) -> str:
    """``2026-11-26T18:34:00.188616+00:00`` → ``2026-11-26 18:34:00 UTC``; anything else as given."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return str(text)
    if moment.utcoffset() is not None:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


REPORT_TITLE = "Lambda Autotuner report"


def report_outcomes(run_output: dict[str, Any], *, simulated: bool = False) -> list[dict[str, Any]]:
    """The run's outcomes as the report shows them: each beside its share of the run budget's estimate.

    ``run_output`` is ``autotuner local run --json``'s result, a RunSummary, or
    ``{"records": [...]}``; ``simulated`` marks every outcome "(simulated)".
    """
    outcomes = [{**outcome, "simulated": True} if simulated else dict(outcome) for outcome in _run_outcomes(run_output)]
    # Each target beside its share of the run budget's estimate (made before the run), where there is one.
    output: dict[str, Any] = run_output["output"] if isinstance(run_output.get("output"), dict) else run_output
    estimates = {
        item["target"]: item for item in (((output.get("runCost") or {}).get("estimated") or {}).get("targets") or [])
    }
    for outcome in outcomes:
        # The estimate is per function: a qualified target (name:alias) is its function's.
        function = unqualified(str(outcome.get("target") or ""))
        if function in estimates:
            outcome["estimate"] = estimates[function]
    return outcomes


def report_subtitle(run_output: dict[str, Any], *, simulated: bool = False) -> str:
    """``execution run-1 · started 2026-11-26 18:34:00 UTC · SUCCEEDED``: the page's subtitle."""
    summary: dict[str, Any] = run_output["output"] if isinstance(run_output.get("output"), dict) else run_output
    execution = (summary.get("execution") or {}).get("arn") or run_output.get("executionArn") or ""
    records = run_output.get("records") or [{}]
    started = (summary.get("execution") or {}).get("startTime") or records[0].get("executionStartedAt")
    facts = [
        f"execution {execution.rsplit(':', 1)[-1]}" if execution else "",
        f"started {_timestamp(started)}" if started else "",
        str(summary.get("status") or run_output.get("status") or ""),
        "simulated account (embedded AWS)" if simulated else "",
    ]
    return " · ".join(fact for fact in facts if fact)


def spaced_ticks(
    sizes: list[int], first: list[int | None], *, low: float, high: float, width: float, min_gap: float
) -> list[int]:
    """The memory sizes to label on a log-2 axis, none closer than ``min_gap`` to the next.

    The axis runs from ``low`` to ``high`` MB over ``width`` (pixels, or any unit ``min_gap`` is
    in). Sizes in ``first`` (the chosen, then the current size) are labelled first, then the
    smallest and the largest, then powers of two, then the rest from the smallest up; a size that
    would crowd a label already placed is left unlabelled (the chart still marks it with a tick).
    """
    if not sizes or high <= low:
        return []
    per_octave = width / math.log2(high / low)
    ordered = sorted(set(sizes))
    powers = [size for size in ordered if size & (size - 1) == 0]
    candidates = [size for size in first if size in ordered] + [ordered[0], ordered[-1], *powers, *ordered]
    placed: list[int] = []
    for size in candidates:
        if size in placed:
            continue
        if all(abs(math.log2(size / other)) * per_octave >= min_gap for other in placed):
            placed.append(size)
    return sorted(placed)
