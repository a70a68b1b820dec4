"""Reports people can look at: a text table, a chart and one self-contained HTML page per run.

Everything here reads the run's plain JSON (camelCase dicts, as ``autotuner local run --json``
prints them or a run record stores them), not the pydantic models, so a stored record renders
as well as a fresh run. matplotlib is imported only inside the functions that draw: the CLI
imports this module and should not pay for it.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import math
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autotuner_core import savings

CHART_WIDTH_PX = 1080
CHART_HEIGHT_PX = 780
_CHART_DPI = 120

_DURATION_COLOR = "#1f6fb4"
_COST_COLOR = "#d9822b"
_CHOSEN_COLOR = "#2e7d32"
_CURRENT_COLOR = "#3c4650"
_EXCLUDED_COLOR = "#c62828"

_FAILED = re.compile(r"^(\d+) of (\d+) invocations failed: (.+)$")
_MANY_TICKS = 12  # above this many sizes, label round sizes instead of every one
_ROUND_SIZES = (128, 256, 512, 1024, 2048, 4096, 8192, 10240)


# --- plain-JSON accessors ------------------------------------------------------------------


def function_name(outcome: dict[str, Any]) -> str:
    """The function's name (with its qualifier, if any) from an outcome's or record's target."""
    target = str(outcome.get("target") or outcome.get("functionName") or "unknown function")
    parts = target.split(":")
    if "function" in parts[:-1]:
        at = parts.index("function")
        return ":".join(parts[at + 1 :])
    return target


def _configurations(outcome: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(outcome.get("configurations") or [], key=lambda c: c["memorySize"])


def _memory(outcome: dict[str, Any], when: str) -> int | None:
    """memoryBefore/memoryAfter of an outcome, or before/after.MemorySize of a run record."""
    value = outcome.get(f"memory{when.capitalize()}")
    if value is None:
        value = (outcome.get(when) or {}).get("MemorySize")
    return value


def _current_memory(outcome: dict[str, Any]) -> int | None:
    recommendation = outcome.get("recommendation") or {}
    if recommendation.get("currentMemorySize") is not None:
        return recommendation["currentMemorySize"]
    current = [c["memorySize"] for c in outcome.get("configurations") or [] if c.get("current")]
    return current[0] if current else _memory(outcome, "before")


def _chosen_memory(outcome: dict[str, Any]) -> int | None:
    return (outcome.get("recommendation") or {}).get("memorySize")


def _strategy(outcome: dict[str, Any]) -> str | None:
    """The recommendation's strategy, or a stored record's requested one unless a fixed size was asked for."""
    chosen_by = outcome.get("recommendation") or {}
    if not chosen_by and "memorySize" not in (outcome.get("requested") or {}):
        chosen_by = outcome.get("requested") or {}
    strategy = chosen_by.get("strategy")
    if strategy == "balanced" and chosen_by.get("balancedWeight") is not None:
        return f"balanced (weight {chosen_by['balancedWeight']:g})"
    return strategy


def _headline(outcome: dict[str, Any]) -> str:
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
            lines.append(f"{_headline(outcome)}: no recommendation")
        else:
            fixed = outcome.get("outcome") in {"APPLIED", "UNCHANGED", "RECOMMENDED"}
            lines.append(
                f"{_headline(outcome)}: {'a fixed memory size, nothing measured' if fixed else 'nothing measured'}"
            )
    return "\n".join(lines)


# --- table cells ---------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _usd(value: float | None, significant: int = 3) -> str:
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


_COLUMNS = (
    _Column("memory MB", lambda c: str(c["memorySize"])),
    _Column("trimmed mean ms", lambda c: _ms(c.get("meanMs"))),
    _Column("p50 ms", lambda c: _ms(c.get("p50Ms"))),
    _Column("p90 ms", lambda c: _ms(c.get("p90Ms"))),
    _Column("p99 ms", lambda c: _ms(c.get("p99Ms"))),
    _Column("cold starts", _cold_share),
    _Column("errors", lambda c: _count_of(c, "errors")),
    _Column("max used MB", lambda c: _optional(c.get("maxMemoryUsedMb"))),
    _Column("$/invocation", lambda c: _usd(c.get("costPerInvocationUsd"))),
    _Column("$/million", lambda c: _usd(c.get("costPerMillionUsd"))),
)


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _short_reason(reason: str) -> str:
    """``3 of 10 invocations failed: Runtime.OutOfMemory`` → ``3/10 failed: Runtime.OutOfMemory``."""
    failed = _FAILED.match(reason)
    if failed:
        reason = f"{failed[1]}/{failed[2]} failed: {failed[3]}"
    elif reason.startswith("Lambda rejected it"):
        reason = "rejected by Lambda"
    return _truncate(reason, 44)


def _exclusion_kind(reason: str) -> str:
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


def _marks(config: dict[str, Any], chosen: int | None, *, short: bool) -> list[str]:
    marks = []
    if config.get("current"):
        marks.append("current")
    excluded = config.get("excluded")
    if config["memorySize"] == chosen and not excluded:
        marks.append("chosen")
    if excluded:
        marks.append(f"excluded: {_short_reason(excluded) if short else excluded}")
    return marks


# --- text ----------------------------------------------------------------------------------


def render_table(outcome: dict[str, Any]) -> str:
    """A fixed-width table of one target's configurations, then its recommendation summary.

    Reads one entry of the run summary's ``outcomes`` (or a stored run record): memory size,
    trimmed mean and percentiles, cold-start share, errors, memory used, cost, and a note
    column marking the current and the chosen size or why a size was excluded.
    """
    title = f"{function_name(outcome)} — {_headline(outcome)}"
    if _strategy(outcome):
        title += f" — strategy {_strategy(outcome)}"
    if outcome.get("simulated"):
        title += " (simulated)"
    configurations = _configurations(outcome)
    if not configurations:
        return f"{title}\n{summary_line(outcome)}"

    chosen = _chosen_memory(outcome)
    header = [column.header for column in _COLUMNS] + ["note"]
    rows = [
        [column.cell(config) for column in _COLUMNS] + [", ".join(_marks(config, chosen, short=True))]
        for config in configurations
    ]
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        numeric = "  ".join(cell.rjust(width) for cell, width in zip(cells[:-1], widths, strict=False))
        return f"{numeric}  {cells[-1]}".rstrip()

    lines = [title, line(header), line(["-" * width for width in widths])]
    lines += [line(row) for row in rows]
    shortened = [c for c in configurations if c.get("excluded") and _short_reason(c["excluded"]) != c["excluded"]]
    lines += [f"  {c['memorySize']} MB excluded: {c['excluded']}" for c in shortened]
    lines.append(summary_line(outcome))
    if saving_line(outcome):
        lines.append(f"saving: {saving_line(outcome)}")
    return "\n".join(lines)


def saving_line(outcome: dict[str, Any]) -> str | None:
    """What the decision saves (a month at the function's traffic, else per million invocations), or None.

    None for an outcome without a measured decision (a failure, a fixed size).
    """
    priced = savings.savings_of(outcome)
    if priced is None:
        return None
    return savings.savings_text(priced, str(outcome.get("outcome") or ""))


# --- chart ---------------------------------------------------------------------------------


def _tick_decimals(axes: Any) -> int:
    """The fewest decimals that tell this axis's y ticks apart exactly: $0.05 and $0.10, not $0.050 and $0.1."""
    low, high = axes.get_ylim()
    ticks = [tick for tick in axes.get_yticks() if low <= tick <= high]
    for decimals in range(9):
        if all(abs(round(tick, decimals) - tick) < 1e-9 * max(1.0, abs(tick)) for tick in ticks):
            return decimals
    return 9


def _chart_title(outcome: dict[str, Any]) -> str:
    title = function_name(outcome)
    if _strategy(outcome):
        title += f" — {_strategy(outcome)} strategy"
    if outcome.get("simulated"):
        title += " (simulated)"
    return title


def _chart_png(outcome: dict[str, Any], subtitle: str | None) -> bytes:
    """Render the chart to PNG bytes with a private Agg canvas: no pyplot, no global backend."""
    configurations = _configurations(outcome)
    if not configurations:
        raise ValueError(f"{function_name(outcome)}: no configurations to chart")

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, NullLocator
    from matplotlib.transforms import blended_transform_factory

    measured = [c for c in configurations if not c.get("excluded") and c.get("meanMs") is not None]
    excluded = [c for c in configurations if c.get("excluded")]
    current, chosen = _current_memory(outcome), _chosen_memory(outcome)
    if subtitle is None:
        subtitle = (outcome.get("recommendation") or {}).get("summary") or summary_line(outcome)
    style: dict[str, Any] = {
        "text.parse_math": False,  # "$0.12 … $46" must not turn into mathtext
        "font.size": 10,
        "axes.titlesize": 10,
        "axes.labelsize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#9aa0a6",
        "xtick.color": "#3c4043",
        "ytick.color": "#3c4043",
        "grid.color": "#e3e6ea",
        "grid.linewidth": 0.8,
    }
    with matplotlib.rc_context(style):
        figure = Figure(figsize=(CHART_WIDTH_PX / _CHART_DPI, CHART_HEIGHT_PX / _CHART_DPI), dpi=_CHART_DPI)
        FigureCanvasAgg(figure)
        figure.set_layout_engine("constrained", h_pad=0.06, hspace=0.04)
        duration_axes, cost_axes = figure.subplots(2, 1, sharex=True, height_ratios=[3, 2])
        sizes = [c["memorySize"] for c in measured]
        means = [c["meanMs"] for c in measured]
        p90s = [c.get("p90Ms") or c["meanMs"] for c in measured]
        priced = [c for c in measured if c.get("costPerMillionUsd") is not None]
        line = {"marker": "o", "markersize": 5, "linewidth": 2}
        duration_axes.fill_between(sizes, means, p90s, color=_DURATION_COLOR, alpha=0.10, linewidth=0)
        duration_axes.plot(sizes, p90s, linestyle="--", linewidth=1.2, color=_DURATION_COLOR, alpha=0.45)
        duration_axes.plot(sizes, means, color=_DURATION_COLOR, **line)
        cost_axes.plot(
            [c["memorySize"] for c in priced], [c["costPerMillionUsd"] for c in priced], color=_COST_COLOR, **line
        )

        all_sizes = sorted({c["memorySize"] for c in configurations} | ({current} if current else set()))
        for axes in (duration_axes, cost_axes):
            axes.set_xscale("log", base=2)
            axes.set_ylim(bottom=0)
            axes.grid(axis="y")
            axes.grid(axis="x", which="major", alpha=0.6)
        # Headroom above the durations for the current/chosen labels.
        duration_axes.set_ylim(top=duration_axes.get_ylim()[1] * 1.3)
        cost_axes.set_ylim(top=cost_axes.get_ylim()[1] * 1.08)
        lowest, highest = all_sizes[0], all_sizes[-1]
        cost_axes.set_xlim(lowest / 1.18, highest * 1.18)
        ticks = all_sizes if len(all_sizes) <= _MANY_TICKS else [s for s in _ROUND_SIZES if lowest <= s <= highest]
        cost_axes.set_xticks(ticks, labels=[str(tick) for tick in ticks])
        cost_axes.xaxis.set_minor_locator(NullLocator())
        if any(b / a < 1.3 for a, b in itertools.pairwise(ticks)):
            cost_axes.tick_params(axis="x", labelrotation=35)
        excluded_sizes = {c["memorySize"] for c in excluded}
        for tick, label in zip(ticks, cost_axes.get_xticklabels(), strict=True):
            if tick in excluded_sizes:
                label.set_color(_EXCLUDED_COLOR)
        cost_axes.set_xlabel("memory size (MB, log scale)")
        duration_axes.set_ylabel("duration (ms)")
        cost_axes.set_ylabel("$ per 1M invocations")
        duration_decimals, cost_decimals = _tick_decimals(duration_axes), _tick_decimals(cost_axes)
        duration_axes.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:,.{duration_decimals}f}"))
        cost_axes.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"${y:,.{cost_decimals}f}"))

        legend: list[Any] = [
            Line2D([], [], color=_DURATION_COLOR, label="trimmed mean duration", **line),
            Line2D([], [], color=_DURATION_COLOR, alpha=0.45, linestyle="--", label="p90 duration"),
            Line2D([], [], color=_COST_COLOR, label="$ per 1M invocations", **line),
        ]
        legend += _mark_current_and_chosen(configurations, current, chosen, duration_axes, cost_axes)

        # Excluded sizes: a red cross at the bottom of both panels, one legend entry per reason.
        kinds: dict[str, list[int]] = {}
        for config in excluded:
            kinds.setdefault(_exclusion_kind(config["excluded"]), []).append(config["memorySize"])
        for kind, kind_sizes, marker in zip(kinds, kinds.values(), itertools.cycle("x+1*"), strict=False):
            cross = {"linestyle": "none", "marker": marker, "markeredgewidth": 2.6, "color": _EXCLUDED_COLOR}
            for axes in (duration_axes, cost_axes):
                bottom = blended_transform_factory(axes.transData, axes.transAxes)
                axes.plot(
                    kind_sizes,
                    [0.035] * len(kind_sizes),
                    markersize=11,
                    clip_on=False,
                    zorder=5,
                    transform=bottom,
                    **cross,
                )
            legend.append(Line2D([], [], markersize=9, label=f"excluded: {kind}", **cross))

        figure.suptitle(_chart_title(outcome), fontsize=14, fontweight="bold", x=0.01, ha="left")
        if subtitle:
            # As many characters a line as the axes' width holds at this font (about 0.55 em a character).
            per_line = int(figure.get_figwidth() * 0.86 * 72 / (style["font.size"] * 0.55))
            duration_axes.set_title(textwrap.fill(subtitle, per_line), loc="left", color="#4a5560", pad=8)
        figure.legend(handles=legend, loc="outside lower center", ncol=min(len(legend), 4), frameon=False, fontsize=9.5)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def _mark_current_and_chosen(
    configurations: list[dict[str, Any]], current: int | None, chosen: int | None, duration_axes: Any, cost_axes: Any
) -> list[Any]:
    """Vertical lines, rings around the points and labels at the top; legend handles back."""
    from matplotlib.lines import Line2D
    from matplotlib.transforms import blended_transform_factory

    by_size = {c["memorySize"]: c for c in configurations if not c.get("excluded") and c.get("meanMs") is not None}
    excluded = {c["memorySize"] for c in configurations if c.get("excluded")}
    marks = []  # (size, text, colour, line style, ring marker)
    if current is not None and current == chosen:
        marks.append((current, f"current = chosen {current} MB", _CHOSEN_COLOR, "-", "o"))
    else:
        if current is not None:
            marks.append((current, f"current {current} MB", _CURRENT_COLOR, (0, (2, 2)), "s"))
        if chosen is not None:
            marks.append((chosen, f"chosen {chosen} MB", _CHOSEN_COLOR, "-", "o"))
    low, high = (math.log(limit) for limit in duration_axes.get_xlim())
    sides = []
    for index, (size, *_) in enumerate(marks):
        # A label sits on the side away from the other mark, unless that runs off the chart.
        where = (math.log(size) - low) / (high - low)
        other = marks[1 - index][0] if len(marks) == 2 else None
        sides.append("left" if where > 0.78 or (where > 0.22 and other is not None and other > size) else "right")
    handles = []
    for index, (size, text, colour, line_style, ring) in enumerate(marks):
        for axes in (duration_axes, cost_axes):
            axes.axvline(
                size, color=colour, linestyle=line_style, linewidth=1.6, alpha=0.85, zorder=1.8
            )  # above the grid, below the data
        config = by_size.get(size)
        ring_style = {"marker": ring, "markersize": 13, "markerfacecolor": "none", "markeredgewidth": 2.2}
        for axes, key in ((duration_axes, "meanMs"), (cost_axes, "costPerMillionUsd")):
            if config is not None and config.get(key) is not None:
                axes.plot([size], [config[key]], markeredgecolor=colour, zorder=6, **ring_style)
        detail = "excluded" if size in excluded else "not measured"
        if config is not None:
            detail = f"{_ms(config['meanMs'])} ms · {_usd(config.get('costPerMillionUsd'))}/1M"
        left = sides[index] == "left"
        stacked = index == 1 and sides[0] == sides[1]  # both on one side: the second goes lower
        duration_axes.annotate(
            f"{text}\n{detail}",
            xy=(size, 0.78 if stacked else 0.985),
            xytext=(-7 if left else 7, 0),
            xycoords=blended_transform_factory(duration_axes.transData, duration_axes.transAxes),
            textcoords="offset points",
            ha="right" if left else "left",
            va="top",
            color=colour,
            fontsize=9.5,
            fontweight="bold",
            zorder=7,
            bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "none", "alpha": 0.9},
        )
        handles.append(
            Line2D(
                [], [], color=colour, linestyle=line_style, linewidth=1.6, label=text, **{**ring_style, "markersize": 9}
            )
        )
    return handles


def write_chart_png(outcome: dict[str, Any], path: Path, *, subtitle: str | None = None) -> Path:
    """Chart one target: duration (trimmed mean, p90 lighter) above cost per million invocations.

    Memory size is on a log-2 axis. The current and the chosen size are lines labelled with
    their duration and cost; excluded sizes are red crosses at the bottom, named by reason in
    the legend. The title names the function and strategy, "(simulated)" when the outcome has
    ``"simulated": true``; ``subtitle`` defaults to the recommendation summary ("" for none).
    Raises ValueError for an outcome without configurations.
    """
    path = Path(path)
    png = _chart_png(outcome, subtitle)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path


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


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _html_table(outcome: dict[str, Any]) -> str:
    chosen = _chosen_memory(outcome)
    head = "".join(f"<th>{_e(column.header)}</th>" for column in _COLUMNS) + '<th class="text">note</th>'
    rows = []
    for config in _configurations(outcome):
        classes = []
        if config.get("current"):
            classes.append("current")
        if config["memorySize"] == chosen and not config.get("excluded"):
            classes.append("chosen")
        if config.get("excluded"):
            classes.append("excluded")
        cells = "".join(f"<td>{_e(column.cell(config))}</td>" for column in _COLUMNS)
        note = _e(", ".join(_marks(config, chosen, short=False)))
        row_class = f' class="{" ".join(classes)}"' if classes else ""
        rows.append(f'<tr{row_class}>{cells}<td class="text">{note}</td></tr>')
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def spend_line(outcome: dict[str, Any]) -> str | None:
    """What tuning this target spent, each figure beside the run budget's upper bound for it, or None.

    The spend is the target's own document (its measured configurations and ``spend``); the bound
    is its entry in ``runCost.estimated.targets`` (``estimate`` here, set by :func:`write_reports`).
    """
    configs = _configurations(outcome)
    spend = outcome.get("spend") or {}
    estimate = outcome.get("estimate") or {}
    if not configs and not estimate:
        return None
    invocations = sum(int(config.get("invocations") or 0) for config in configs)
    gb_seconds = sum(config["memorySize"] / 1024 * float(config.get("billedTotalMs") or 0) / 1000 for config in configs)

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


def _badge(outcome: dict[str, Any]) -> str:
    state = str(outcome.get("outcome") or "UNKNOWN")
    known = state if state in {"APPLIED", "RECOMMENDED", "UNCHANGED", "FAILED", "SKIPPED"} else "other"
    return f'<span class="badge {known}">{_e(state)}</span>'


def _target_section(index: int, outcome: dict[str, Any], png: bytes | None) -> str:
    name = function_name(outcome)
    meta = [_headline(outcome).partition(", ")[2]]
    if _strategy(outcome):
        meta.append(f"strategy {_strategy(outcome)}")
    if outcome.get("simulated"):
        meta.append("simulated")
    parts = [
        f'<section class="card" id="target-{index}">',
        f'<div class="heading"><h2>{_e(name)}</h2>{_badge(outcome)}'
        f'<span class="meta">{_e(" · ".join(m for m in meta if m))}</span></div>',
    ]
    recommendation = outcome.get("recommendation") or {}
    if recommendation.get("summary"):
        parts.append(f'<p class="summary">{_e(recommendation["summary"])}</p>')
    if saving_line(outcome):
        # A size that costs more (chosen for speed) is said in red, not in the saving's green.
        costs = float((savings.savings_of(outcome) or {}).get("perMillionUsd") or 0) < 0
        parts.append(f'<p class="saving{" cost" if costs else ""}">{_e(saving_line(outcome))}</p>')
    if outcome.get("errorType") or outcome.get("errorMessage"):
        error = ": ".join(str(part) for part in (outcome.get("errorType"), outcome.get("errorMessage")) if part)
        parts.append(f'<p class="error">{_e(error)}</p>')
    if not recommendation.get("summary") and not outcome.get("errorType"):
        parts.append(f'<p class="summary">{_e(summary_line(outcome))}</p>')
    if png is not None:
        data = base64.b64encode(png).decode("ascii")
        alt = f"Duration and cost per million invocations by memory size for {name}"
        parts.append(
            f'<img class="chart" width="{CHART_WIDTH_PX}" height="{CHART_HEIGHT_PX}" alt="{_e(alt)}" '
            f'src="data:image/png;base64,{data}">'
        )
    if outcome.get("configurations"):
        parts.append(_html_table(outcome))
    spent = spend_line(outcome)
    if spent:
        parts.append(f'<p class="meta spend">{_e(spent)}</p>')
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
            f'<tr><td class="text"><a href="#target-{index}">{_e(function_name(outcome))}</a></td>'
            f'<td class="text">{_badge(outcome)}</td><td>{_e(_headline(outcome).partition(", ")[2] or "-")}</td>'
            f'<td class="text">{_e(line)}</td></tr>'
        )
    head = (
        '<tr><th class="text">function</th><th class="text">outcome</th><th>memory</th>'
        '<th class="text">saving, or error</th>'
    )
    return f'<section class="card overview"><div class="scroll"><table><thead>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></section>'  # noqa: E501


def _html_page(outcomes: list[dict[str, Any]], charts: dict[int, bytes], title: str, subtitle: str) -> str:
    body = [f"<h1>{_e(title)}</h1>"]
    if subtitle:
        body.append(f'<p class="subtitle">{_e(subtitle)}</p>')
    rows = savings.priced(outcomes, function_name)
    if rows or any(outcome.get("outcome") in savings.DECIDED for outcome in outcomes):
        money = savings.money_summary(rows)
        body.append(f'<p class="money">{_e(money[:1].upper() + money[1:])}.</p>')
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
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


def write_html_report(outcomes: list[dict[str, Any]], path: Path, *, title: str, subtitle: str = "") -> Path:
    """One self-contained HTML file: per target a heading, the summary, the chart, the table.

    No external CSS, scripts or fonts; charts are embedded as base64 PNG data URIs and every
    value from the run is HTML-escaped. Targets without configurations show their outcome
    and error, no chart.
    """
    # The card prints the recommendation above its chart: the chart in the page has no subtitle.
    charts = {
        index: _chart_png(outcome, "") for index, outcome in enumerate(outcomes, start=1) if _configurations(outcome)
    }
    return _write_text(Path(path), _html_page(outcomes, charts, title, subtitle))


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- a whole run ---------------------------------------------------------------------------


def _run_outcomes(run_output: dict[str, Any]) -> list[dict[str, Any]]:
    """The runner's result (``output.outcomes``, or ``records`` when the run failed) or a RunSummary."""
    summary = run_output.get("output") if isinstance(run_output.get("output"), dict) else run_output
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


def _file_stem(name: str, taken: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "function"
    unique, number = stem, 2
    while unique in taken or unique == "report":
        unique, number = f"{stem}-{number}", number + 1
    taken.add(unique)
    return unique


def write_reports(run_output: dict[str, Any], out_dir: Path, *, simulated: bool = False) -> list[Path]:
    """Write ``<function-name>.png`` per measured target and one ``report.html``; return the paths.

    ``run_output`` is ``autotuner local run --json``'s result or a RunSummary. Outcomes without
    configurations (fixed-size runs, failures) appear in the HTML with their outcome or error.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes = [{**outcome, "simulated": True} if simulated else dict(outcome) for outcome in _run_outcomes(run_output)]
    # Each target beside its share of the run budget's estimate (made before the run), where there is one.
    output = run_output.get("output") if isinstance(run_output.get("output"), dict) else run_output
    estimates = {
        item["target"]: item for item in (((output.get("runCost") or {}).get("estimated") or {}).get("targets") or [])
    }
    for outcome in outcomes:
        # The estimate is per function: a qualified target (name:alias) is its function's.
        function = ":".join(str(outcome.get("target") or "").split(":")[:7])
        if function in estimates:
            outcome["estimate"] = estimates[function]
    written: list[Path] = []
    charts: dict[int, bytes] = {}
    taken: set[str] = set()
    for index, outcome in enumerate(outcomes, start=1):
        if _configurations(outcome):
            # The PNG alone says what was decided; in the page the card above the chart says it.
            path = out_dir / f"{_file_stem(function_name(outcome), taken)}.png"
            path.write_bytes(_chart_png(outcome, None))
            written.append(path)
            charts[index] = _chart_png(outcome, "")
    summary = run_output.get("output") if isinstance(run_output.get("output"), dict) else run_output
    execution = (summary.get("execution") or {}).get("arn") or run_output.get("executionArn") or ""
    records = run_output.get("records") or [{}]
    started = (summary.get("execution") or {}).get("startTime") or records[0].get("executionStartedAt")
    facts = [
        f"execution {execution.rsplit(':', 1)[-1]}" if execution else "",
        f"started {_timestamp(started)}" if started else "",
        str(summary.get("status") or run_output.get("status") or ""),
        "simulated account (embedded AWS)" if simulated else "",
    ]
    page = _html_page(outcomes, charts, "Lambda Autotuner report", " · ".join(fact for fact in facts if fact))
    written.append(_write_text(out_dir / "report.html", page))
    return written
