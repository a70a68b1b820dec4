"""The run report's pure-HTML half: plain-JSON accessors, table cells and one self-contained page.

Shared by the CLI (autotuner/reports.py adds matplotlib PNG charts and the text table) and by the
deployed SummarizeRun (store.py, with the SVG charts of svg.py), so it imports nothing beyond the standard
library. Everything here reads the run's plain JSON (camelCase dicts, as a run summary or a run
record stores them), not the pydantic models, so a stored record renders as well as a fresh run.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from autotuner_core.aws.arns import unqualified
from autotuner_core.cost import prices, savings

CHART_WIDTH_PX = 1080
CHART_HEIGHT_PX = 780

DURATION_COLOR = "#1f6fb4"
COST_COLOR = "#d9822b"
CHOSEN_COLOR = "#2e7d32"
CURRENT_COLOR = "#3c4650"
EXCLUDED_COLOR = "#c62828"

_FAILED = re.compile(r"^(\d+) of (\d+) invocations failed: (.+)$")


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


# --- HTML ----------------------------------------------------------------------------------

_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f5f6f8;color:#1d2125;
 font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:32px 24px 48px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:20px;margin:0;overflow-wrap:anywhere}
.subtitle{color:#5b6470;margin:0 0 24px}
.card{background:#fff;border:1px solid #e1e4e8;border-radius:10px;padding:20px 24px;margin:0 0 24px}
.heading{display:flex;flex-wrap:wrap;align-items:center;gap:6px 12px;margin-bottom:8px}
.meta{color:#5b6470}
.badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;
 letter-spacing:.03em;background:#eceff1;color:#37474f}
.badge.APPLIED{background:#e3f2e5;color:#1b5e20}.badge.RECOMMENDED{background:#e3edf9;color:#0d47a1}
.badge.FAILED{background:#fdecea;color:#b71c1c}
.summary{font-size:16px;margin:4px 0 8px}
.saving{font-weight:600;color:#1b5e20;margin:0 0 8px}.saving.cost{color:#b71c1c}
.money{font-size:17px;font-weight:600;margin:-12px 0 24px}
.error{background:#fdecea;color:#8e1414;border-radius:6px;padding:8px 12px;margin:8px 0;overflow-wrap:anywhere}
img.chart{display:block;width:100%;height:auto;margin:12px 0 16px;border-radius:6px}
figure.chart{margin:12px 0 16px}figure.chart svg{display:block;width:100%;height:auto}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
th,td{padding:5px 8px;border-bottom:1px solid #eceef1;text-align:right;white-space:nowrap}
th{font-weight:600;color:#5b6470;border-bottom:2px solid #d5d9de;vertical-align:bottom}
th.text,td.text{text-align:left;white-space:normal}
tr.current td{background:#f1f3f5}
tr.chosen td{background:#e8f5e9;font-weight:600}
tr.excluded td{color:#9aa0a6}
tr.excluded td.text{color:#b71c1c}
.overview td.text a{color:inherit}
footer{color:#8a929b;font-size:12px}
"""


def escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _html_table(outcome: dict[str, Any]) -> str:
    chosen = chosen_memory(outcome)
    head = "".join(f"<th>{escape(column.header)}</th>" for column in COLUMNS) + '<th class="text">note</th>'
    rows = []
    for config in configurations_of(outcome):
        classes = []
        if config.get("current"):
            classes.append("current")
        if config["memorySize"] == chosen and not config.get("excluded"):
            classes.append("chosen")
        if config.get("excluded"):
            classes.append("excluded")
        cells = "".join(f"<td>{escape(column.cell(config))}</td>" for column in COLUMNS)
        note = escape(", ".join(config_marks(config, chosen, short=False)))
        row_class = f' class="{" ".join(classes)}"' if classes else ""
        rows.append(f'<tr{row_class}>{cells}<td class="text">{note}</td></tr>')
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def spend_line(outcome: dict[str, Any]) -> str | None:
    """What tuning this target spent, each figure beside the run budget's upper bound for it, or None.

    The spend is the target's own document (its measured configurations and ``spend``); the bound
    is its entry in ``runCost.estimated.targets`` (``estimate`` here, set by :func:`write_reports`).
    """
    configs = configurations_of(outcome)
    spend = outcome.get("spend") or {}
    estimate = outcome.get("estimate") or {}
    if not configs and not estimate:
        return None
    invocations = sum(int(config.get("invocations") or 0) for config in configs)
    gb_seconds = sum(
        prices.gb_seconds(config["memorySize"], float(config.get("billedTotalMs") or 0)) for config in configs
    )

    def bound(value: Any, unit: str = "") -> str:
        return f" (up to {value}{unit})" if value is not None else ""

    basis = f", bounded by {estimate['basis']}" if estimate.get("basis") else ""
    parts = [
        f"{invocations} target invocations{bound(estimate.get('targetInvocations'))}",
        f"{gb_seconds:.2f} target GB-s"
        + (f" (up to {float(estimate['targetGbSeconds']):.2f}{basis})" if estimate else ""),
    ]
    if spend:
        parts.append(f"{float(spend.get('tunerGbSeconds') or 0):.2f} tuner GB-s{bound(estimate.get('tunerGbSeconds'))}")
        parts.append(
            f"{spend.get('controlPlaneCalls', 0)} control-plane calls{bound(estimate.get('controlPlaneCalls'))}"
        )
    if estimate.get("versionsCreated") is not None:
        parts.append(f"up to {estimate['versionsCreated']} versions")
    return "tuning spent " + ", ".join(parts)


def saving_line(outcome: dict[str, Any]) -> str | None:
    """What the decision saves (a month at the function's traffic, else per million invocations), or None.

    None for an outcome without a measured decision (a failure, a fixed size).
    """
    priced = savings.savings_of(outcome)
    if priced is None:
        return None
    return savings.savings_text(priced, str(outcome.get("outcome") or ""))


def _badge(outcome: dict[str, Any]) -> str:
    state = str(outcome.get("outcome") or "UNKNOWN")
    known = state if state in {"APPLIED", "RECOMMENDED", "UNCHANGED", "FAILED", "SKIPPED"} else "other"
    return f'<span class="badge {known}">{escape(state)}</span>'


def _target_section(index: int, outcome: dict[str, Any], png: bytes | str | None) -> str:
    """One target's card; its chart is PNG bytes (embedded as a data URI) or inline SVG markup."""
    name = function_name(outcome)
    meta = [headline(outcome).partition(", ")[2]]
    if strategy_label(outcome):
        meta.append(f"strategy {strategy_label(outcome)}")
    if outcome.get("simulated"):
        meta.append("simulated")
    parts = [
        f'<section class="card" id="target-{index}">',
        f'<div class="heading"><h2>{escape(name)}</h2>{_badge(outcome)}'
        f'<span class="meta">{escape(" · ".join(m for m in meta if m))}</span></div>',
    ]
    recommendation = outcome.get("recommendation") or {}
    if recommendation.get("summary"):
        parts.append(f'<p class="summary">{escape(recommendation["summary"])}</p>')
    if saving_line(outcome):
        # A size that costs more (chosen for speed) is said in red, not in the saving's green.
        costs = float((savings.savings_of(outcome) or {}).get("perMillionUsd") or 0) < 0
        parts.append(f'<p class="saving{" cost" if costs else ""}">{escape(saving_line(outcome))}</p>')
    if outcome.get("errorType") or outcome.get("errorMessage"):
        error = ": ".join(str(part) for part in (outcome.get("errorType"), outcome.get("errorMessage")) if part)
        parts.append(f'<p class="error">{escape(error)}</p>')
    if not recommendation.get("summary") and not outcome.get("errorType"):
        parts.append(f'<p class="summary">{escape(summary_line(outcome))}</p>')
    if isinstance(png, str):
        parts.append(f'<figure class="chart">{png}</figure>')
    elif png is not None:
        data = base64.b64encode(png).decode("ascii")
        alt = f"Duration and cost per million invocations by memory size for {name}"
        parts.append(
            f'<img class="chart" width="{CHART_WIDTH_PX}" height="{CHART_HEIGHT_PX}" alt="{escape(alt)}" '
            f'src="data:image/png;base64,{data}">'
        )
    if outcome.get("configurations"):
        parts.append(_html_table(outcome))
    spent = spend_line(outcome)
    if spent:
        parts.append(f'<p class="meta spend">{escape(spent)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _overview_cell(outcome: dict[str, Any]) -> str:
    """The overview's last column: the saving, or the error's type; each card below has the full sentence."""
    if outcome.get("errorType"):
        return str(outcome["errorType"])
    return saving_line(outcome) or summary_line(outcome).partition(": ")[2]


def _overview(outcomes: list[dict[str, Any]]) -> str:
    rows = []
    for index, outcome in enumerate(outcomes, start=1):
        line = _overview_cell(outcome)
        rows.append(
            f'<tr><td class="text"><a href="#target-{index}">{escape(function_name(outcome))}</a></td>'
            f'<td class="text">{_badge(outcome)}</td><td>{escape(headline(outcome).partition(", ")[2] or "-")}</td>'
            f'<td class="text">{escape(line)}</td></tr>'
        )
    head = (
        '<tr><th class="text">function</th><th class="text">outcome</th><th>memory</th>'
        '<th class="text">saving, or error</th>'
    )
    return f'<section class="card overview"><div class="scroll"><table><thead>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></section>'  # noqa: E501


def html_page(outcomes: list[dict[str, Any]], charts: dict[int, bytes | str], title: str, subtitle: str) -> str:
    body = [f"<h1>{escape(title)}</h1>"]
    if subtitle:
        body.append(f'<p class="subtitle">{escape(subtitle)}</p>')
    rows = savings.priced(outcomes, function_name)
    if rows or any(outcome.get("outcome") in savings.DECIDED for outcome in outcomes):
        money = savings.money_summary(rows)
        body.append(f'<p class="money">{escape(money[:1].upper() + money[1:])}.</p>')
    if len(outcomes) > 1:
        body.append(_overview(outcomes))
    body += [_target_section(index, outcome, charts.get(index)) for index, outcome in enumerate(outcomes, start=1)]
    if not outcomes:
        body.append('<section class="card"><p class="summary">No targets in this run.</p></section>')
    body.append(
        "<footer>Durations are trimmed means of Lambda's Duration (p50/p90/p99 over every invocation); "
        "cost is compute plus request price per invocation. Generated by Lambda Autotuner.</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


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
