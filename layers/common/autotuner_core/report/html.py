"""The run report's HTML page: one self-contained page, each target's summary, chart and table.

It renders the plain-JSON readers and cells of plain.py; the charts come from its callers
(svg.py's SVGs in the deployed SummarizeRun, the CLI's PNGs).
"""

from __future__ import annotations

import base64
import html
from typing import Any

from autotuner_core.cost import prices, savings
from autotuner_core.report.plain import (
    CHART_HEIGHT_PX,
    CHART_WIDTH_PX,
    COLUMNS,
    chosen_memory,
    config_marks,
    configurations_of,
    function_name,
    headline,
    strategy_label,
    summary_line,
)

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
