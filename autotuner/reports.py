"""Reports people can look at: a text table, a chart and one self-contained HTML page per run.

Everything here reads the run's plain JSON (camelCase dicts, as ``autotuner local run --json``
prints them or a run record stores them), not the pydantic models, so a stored record renders
as well as a fresh run. matplotlib is imported only inside the functions that draw: the CLI
imports this module and should not pay for it.
"""

from __future__ import annotations

import io
import itertools
import math
import re
import textwrap
from pathlib import Path
from typing import Any

from autotuner import tables

# The readers, table cells and the page live in the shared layer, which the deployed SummarizeRun
# also renders with; the CLI adds matplotlib charts and the text table.
from autotuner_core.report.html import html_page, saving_line, spend_line
from autotuner_core.report.plain import (
    CHART_HEIGHT_PX,
    CHART_WIDTH_PX,
    CHOSEN_COLOR,
    COLUMNS,
    COST_COLOR,
    CURRENT_COLOR,
    DURATION_COLOR,
    EXCLUDED_COLOR,
    REPORT_TITLE,
    chosen_memory,
    config_marks,
    configurations_of,
    current_memory,
    exclusion_kind,
    function_name,
    headline,
    ms_text,
    report_outcomes,
    report_subtitle,
    short_reason,
    spaced_ticks,
    strategy_label,
    summary_line,
    usd_text,
)

__all__ = [
    "CHART_HEIGHT_PX",
    "CHART_WIDTH_PX",
    "function_name",
    "render_table",
    "saving_line",
    "spend_line",
    "summary_line",
    "write_chart_png",
    "write_html_report",
    "write_reports",
]

_CHART_DPI = 120
# The axes' width inside the figure, at least (the y labels take the rest), and the space a
# 5-digit x label at 10 pt needs between its centre and the next one's.
_AXES_WIDTH_PX = 0.86 * CHART_WIDTH_PX
_TICK_LABEL_GAP_PX = 58


# --- text ----------------------------------------------------------------------------------


def render_table(outcome: dict[str, Any]) -> str:
    """A table of one target's configurations, then its recommendation summary.

    Reads one entry of the run summary's ``outcomes`` (or a stored run record): memory size,
    trimmed mean and percentiles, cold-start share, errors, memory used, cost, and a note
    column marking the current and the chosen size or why a size was excluded.
    """
    title = f"{function_name(outcome)} — {headline(outcome)}"
    if strategy_label(outcome):
        title += f" — strategy {strategy_label(outcome)}"
    if outcome.get("simulated"):
        title += " (simulated)"
    configurations = configurations_of(outcome)
    if not configurations:
        return f"{title}\n{summary_line(outcome)}"

    chosen = chosen_memory(outcome)
    numbers = [column.header for column in COLUMNS]
    rows = [
        [column.cell(config) for column in COLUMNS] + [", ".join(config_marks(config, chosen, short=True))]
        for config in configurations
    ]
    lines = [title, *tables.render([*numbers, "note"], rows, right=numbers).splitlines()]
    shortened = [c for c in configurations if c.get("excluded") and short_reason(c["excluded"]) != c["excluded"]]
    lines += [f"  {c['memorySize']} MB excluded: {c['excluded']}" for c in shortened]
    lines.append(summary_line(outcome))
    if saving_line(outcome):
        lines.append(f"saving: {saving_line(outcome)}")
    return "\n".join(lines)


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
    if strategy_label(outcome):
        title += f" — {strategy_label(outcome)} strategy"
    if outcome.get("simulated"):
        title += " (simulated)"
    return title


def _chart_png(outcome: dict[str, Any], subtitle: str | None) -> bytes:
    """Render the chart to PNG bytes with a private Agg canvas: no pyplot, no global backend."""
    configurations = configurations_of(outcome)
    if not configurations:
        raise ValueError(f"{function_name(outcome)}: no configurations to chart")

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, NullFormatter
    from matplotlib.transforms import blended_transform_factory

    measured = [c for c in configurations if not c.get("excluded") and c.get("meanMs") is not None]
    excluded = [c for c in configurations if c.get("excluded")]
    current, chosen = current_memory(outcome), chosen_memory(outcome)
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
        duration_axes.fill_between(sizes, means, p90s, color=DURATION_COLOR, alpha=0.10, linewidth=0)
        duration_axes.plot(sizes, p90s, linestyle="--", linewidth=1.2, color=DURATION_COLOR, alpha=0.45)
        duration_axes.plot(sizes, means, color=DURATION_COLOR, **line)
        cost_axes.plot(
            [c["memorySize"] for c in priced], [c["costPerMillionUsd"] for c in priced], color=COST_COLOR, **line
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
        # Labels never crowd each other (1536, 1664, 1769 … would): every size keeps a tick mark,
        # the labels are thinned, the chosen and the current size labelled first.
        ticks = spaced_ticks(
            all_sizes,
            [chosen, current],
            low=lowest / 1.18,
            high=highest * 1.18,
            width=_AXES_WIDTH_PX,
            min_gap=_TICK_LABEL_GAP_PX,
        )
        cost_axes.set_xticks(ticks, labels=[str(tick) for tick in ticks])
        cost_axes.set_xticks([size for size in all_sizes if size not in ticks], minor=True)
        cost_axes.xaxis.set_minor_formatter(NullFormatter())
        excluded_sizes = {c["memorySize"] for c in excluded}
        for tick, label in zip(ticks, cost_axes.get_xticklabels(), strict=True):
            if tick in excluded_sizes:
                label.set_color(EXCLUDED_COLOR)
        cost_axes.set_xlabel("memory size (MB, log scale)")
        duration_axes.set_ylabel("duration (ms)")
        cost_axes.set_ylabel("$ per 1M invocations")
        duration_decimals, cost_decimals = _tick_decimals(duration_axes), _tick_decimals(cost_axes)
        duration_axes.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:,.{duration_decimals}f}"))
        cost_axes.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"${y:,.{cost_decimals}f}"))

        legend: list[Any] = [
            Line2D([], [], color=DURATION_COLOR, label="trimmed mean duration", **line),
            Line2D([], [], color=DURATION_COLOR, alpha=0.45, linestyle="--", label="p90 duration"),
            Line2D([], [], color=COST_COLOR, label="$ per 1M invocations", **line),
        ]
        legend += _mark_current_and_chosen(configurations, current, chosen, duration_axes, cost_axes)

        # Excluded sizes: a red cross at the bottom of both panels, one legend entry per reason.
        kinds: dict[str, list[int]] = {}
        for config in excluded:
            kinds.setdefault(exclusion_kind(config["excluded"]), []).append(config["memorySize"])
        for kind, kind_sizes, marker in zip(kinds, kinds.values(), itertools.cycle("x+1*"), strict=False):
            cross = {"linestyle": "none", "marker": marker, "markeredgewidth": 2.6, "color": EXCLUDED_COLOR}
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
        marks.append((current, f"current = chosen {current} MB", CHOSEN_COLOR, "-", "o"))
    else:
        if current is not None:
            marks.append((current, f"current {current} MB", CURRENT_COLOR, (0, (2, 2)), "s"))
        if chosen is not None:
            marks.append((chosen, f"chosen {chosen} MB", CHOSEN_COLOR, "-", "o"))
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
            detail = f"{ms_text(config['meanMs'])} ms · {usd_text(config.get('costPerMillionUsd'))}/1M"
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


def write_html_report(outcomes: list[dict[str, Any]], path: Path, *, title: str, subtitle: str = "") -> Path:
    """One self-contained HTML file: per target a heading, the summary, the chart, the table.

    No external CSS, scripts or fonts; charts are embedded as base64 PNG data URIs and every
    value from the run is HTML-escaped. Targets without configurations show their outcome
    and error, no chart.
    """
    # The card prints the recommendation above its chart: the chart in the page has no subtitle.
    charts = {
        index: _chart_png(outcome, "") for index, outcome in enumerate(outcomes, start=1) if configurations_of(outcome)
    }
    return _write_text(Path(path), html_page(outcomes, charts, title, subtitle))


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- a whole run ---------------------------------------------------------------------------


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
    outcomes = report_outcomes(run_output, simulated=simulated)
    written: list[Path] = []
    charts: dict[int, bytes | str] = {}
    taken: set[str] = set()
    for index, outcome in enumerate(outcomes, start=1):
        if configurations_of(outcome):
            # The PNG alone says what was decided; in the page the card above the chart says it.
            path = out_dir / f"{_file_stem(function_name(outcome), taken)}.png"
            path.write_bytes(_chart_png(outcome, None))
            written.append(path)
            charts[index] = _chart_png(outcome, "")
    page = html_page(outcomes, charts, REPORT_TITLE, report_subtitle(run_output, simulated=simulated))
    written.append(_write_text(out_dir / "report.html", page))
    return written
