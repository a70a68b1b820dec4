"""One target's chart as inline SVG: the deployed report's chart, drawn without matplotlib.

The same picture as the CLI's PNG (autotuner/reports.py): duration (trimmed mean, p90 lighter)
above cost per million invocations, memory on a log-2 axis, the current and the chosen size as
labelled lines, excluded sizes as red crosses. Standard library only: the Lambda layer has no
plotting package, and the page must render with no script, font or image from elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from autotuner_core.report.html import escape
from autotuner_core.report.plain import (
    CHOSEN_COLOR,
    COST_COLOR,
    CURRENT_COLOR,
    DURATION_COLOR,
    EXCLUDED_COLOR,
    chosen_memory,
    configurations_of,
    current_memory,
    exclusion_kind,
    function_name,
    ms_text,
    spaced_ticks,
    usd_text,
)

WIDTH, HEIGHT = 1080, 600
_LEFT, _RIGHT = 86, 1056  # the plot area's x extent
_DURATION_TOP, _DURATION_BOTTOM = 24, 300
_COST_TOP, _COST_BOTTOM = 330, 480
_TICK_LABEL_GAP = 46  # px between x labels' centres: "10240" at 13 px is about 40 px wide
_FONT = 'font-family="system-ui,-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif"'


def _nice_ticks(top: float, count: int = 5) -> list[float]:
    """0 and round steps (1, 2, 2.5 or 5 times a power of ten) up to ``top``."""
    if top <= 0:
        return [0.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [index * step for index in range(int(top / step + 1e-9) + 1)]


def _decimals(ticks: list[float]) -> int:
    """The fewest decimals that tell the ticks apart exactly: $0.05 and $0.10, not $0.050."""
    for decimals in range(9):
        if all(abs(round(tick, decimals) - tick) < 1e-9 * max(1.0, abs(tick)) for tick in ticks):
            return decimals
    return 9


def _points(pairs: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in pairs)


def svg_chart(outcome: dict[str, Any]) -> str:
    """The chart of one outcome's configurations as an ``<svg>`` element; ValueError without any."""
    configurations = configurations_of(outcome)
    if not configurations:
        raise ValueError(f"{function_name(outcome)}: no configurations to chart")
    measured = [c for c in configurations if not c.get("excluded") and c.get("meanMs") is not None]
    excluded = [c for c in configurations if c.get("excluded")]
    current, chosen = current_memory(outcome), chosen_memory(outcome)
    sizes = sorted({c["memorySize"] for c in configurations} | ({current} if current else set()))
    low, high = sizes[0] / 1.18, sizes[-1] * 1.18

    def x(size: float) -> float:
        return _LEFT + (_RIGHT - _LEFT) * math.log2(size / low) / math.log2(high / low)

    duration_ticks = _nice_ticks(max((c.get("p90Ms") or c["meanMs"] for c in measured), default=1.0) * 1.3)
    priced = [c for c in measured if c.get("costPerMillionUsd") is not None]
    cost_ticks = _nice_ticks(max((c["costPerMillionUsd"] for c in priced), default=1.0) * 1.08)

    def y_duration(value: float) -> float:
        return _DURATION_BOTTOM - (_DURATION_BOTTOM - _DURATION_TOP) * value / duration_ticks[-1]

    def y_cost(value: float) -> float:
        return _COST_BOTTOM - (_COST_BOTTOM - _COST_TOP) * value / cost_ticks[-1]

    name = function_name(outcome)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" {_FONT} font-size="13">',
        f"<title>{escape(f'Duration and cost per million invocations by memory size for {name}')}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
    ]
    # Axes: horizontal grid with labels, one panel above the other.
    d_decimals, c_decimals = _decimals(duration_ticks), _decimals(cost_ticks)
    axes: list[tuple[list[float], Callable[[float], float], Callable[[float], str]]] = [
        (duration_ticks, y_duration, lambda v: f"{v:,.{d_decimals}f}"),
        (cost_ticks, y_cost, lambda v: f"${v:,.{c_decimals}f}"),
    ]
    for ticks, scale, label in axes:
        for tick in ticks:
            y = scale(tick)
            out.append(f'<line x1="{_LEFT}" x2="{_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ea"/>')
            out.append(
                f'<text x="{_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" fill="#3c4043">{escape(label(tick))}</text>'
            )
    for top, bottom, title in (
        (_DURATION_TOP, _DURATION_BOTTOM, "duration (ms)"),
        (_COST_TOP, _COST_BOTTOM, "$ per 1M invocations"),
    ):
        middle = (top + bottom) / 2
        out.append(
            f'<text transform="translate(18 {middle:.1f}) rotate(-90)" text-anchor="middle" fill="#3c4043">'
            f"{escape(title)}</text>"
        )
        out.append(f'<line x1="{_LEFT}" x2="{_RIGHT}" y1="{bottom}" y2="{bottom}" stroke="#9aa0a6"/>')
    # X axis: every size gets a tick mark; labels only where they do not crowd each other.
    labelled = spaced_ticks(sizes, [chosen, current], low=low, high=high, width=_RIGHT - _LEFT, min_gap=_TICK_LABEL_GAP)
    excluded_sizes = {c["memorySize"] for c in excluded}
    for size in sizes:
        sx = x(size)
        for bottom in (_DURATION_BOTTOM, _COST_BOTTOM):
            out.append(f'<line x1="{sx:.1f}" x2="{sx:.1f}" y1="{bottom}" y2="{bottom + 5}" stroke="#9aa0a6"/>')
        if size in labelled:
            for top, bottom in ((_DURATION_TOP, _DURATION_BOTTOM), (_COST_TOP, _COST_BOTTOM)):
                out.append(
                    f'<line x1="{sx:.1f}" x2="{sx:.1f}" y1="{top}" y2="{bottom}" '
                    'stroke="#e3e6ea" stroke-opacity="0.6"/>'
                )
            colour = EXCLUDED_COLOR if size in excluded_sizes else "#3c4043"
            out.append(
                f'<text class="x-tick" x="{sx:.1f}" y="{_COST_BOTTOM + 20}" text-anchor="middle" fill="{colour}">'
                f"{size}</text>"
            )
    out.append(
        f'<text x="{(_LEFT + _RIGHT) / 2:.1f}" y="{_COST_BOTTOM + 44}" text-anchor="middle" fill="#3c4043">'
        "memory size (MB, log scale)</text>"
    )
    # Current and chosen: a line through both panels, rings around their points, a label on top.
    by_size = {c["memorySize"]: c for c in measured}
    marks = []  # (size, text, colour, dash)
    if current is not None and current == chosen:
        marks.append((current, f"current = chosen {current} MB", CHOSEN_COLOR, ""))
    else:
        if current is not None:
            marks.append((current, f"current {current} MB", CURRENT_COLOR, ' stroke-dasharray="4 4"'))
        if chosen is not None:
            marks.append((chosen, f"chosen {chosen} MB", CHOSEN_COLOR, ""))
    sides = []
    for index, (size, *_) in enumerate(marks):
        # A label sits on the side away from the other mark, unless that runs off the chart.
        where = (x(size) - _LEFT) / (_RIGHT - _LEFT)
        other = marks[1 - index][0] if len(marks) == 2 else None
        sides.append("left" if where > 0.78 or (where > 0.22 and other is not None and other > size) else "right")
    for index, (size, text, colour, dash) in enumerate(marks):
        sx = x(size)
        for top, bottom in ((_DURATION_TOP, _DURATION_BOTTOM), (_COST_TOP, _COST_BOTTOM)):
            out.append(
                f'<line x1="{sx:.1f}" x2="{sx:.1f}" y1="{top}" y2="{bottom}" '
                f'stroke="{colour}" stroke-width="1.6"{dash}/>'
            )
        config = by_size.get(size)
        detail = "excluded" if size in excluded_sizes else "not measured"
        if config is not None:
            detail = f"{ms_text(config['meanMs'])} ms · {usd_text(config.get('costPerMillionUsd'))}/1M"
        left = sides[index] == "left"
        stacked = index == 1 and sides[0] == sides[1]  # both on one side: the second goes lower
        lx, anchor = (sx - 7, "end") if left else (sx + 7, "start")
        ly = _DURATION_TOP + (58 if stacked else 16)
        out.append(
            f'<rect class="mark-backdrop" x="{lx - 2 if not left else lx - 168:.1f}" y="{ly - 14}" width="170" '
            f'height="38" fill="#fff" fill-opacity="0.85"/>'
        )
        out.append(
            f'<text x="{lx:.1f}" y="{ly}" text-anchor="{anchor}" fill="{colour}" font-weight="bold" '
            f'class="mark">{escape(text)}<tspan x="{lx:.1f}" dy="17">{escape(detail)}</tspan></text>'
        )
    # The data: a p90 band and line above the trimmed mean; cost below.
    if measured:
        means = [(x(c["memorySize"]), y_duration(c["meanMs"])) for c in measured]
        p90s = [(x(c["memorySize"]), y_duration(c.get("p90Ms") or c["meanMs"])) for c in measured]
        out.append(f'<polygon points="{_points(means + p90s[::-1])}" fill="{DURATION_COLOR}" fill-opacity="0.10"/>')
        out.append(
            f'<polyline points="{_points(p90s)}" fill="none" stroke="{DURATION_COLOR}" stroke-opacity="0.45" '
            'stroke-width="1.2" stroke-dasharray="5 4"/>'
        )
        out.append(f'<polyline points="{_points(means)}" fill="none" stroke="{DURATION_COLOR}" stroke-width="2"/>')
        out += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{DURATION_COLOR}"/>' for px, py in means]
    costs = [(x(c["memorySize"]), y_cost(c["costPerMillionUsd"])) for c in priced]
    if costs:
        out.append(f'<polyline points="{_points(costs)}" fill="none" stroke="{COST_COLOR}" stroke-width="2"/>')
        out += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{COST_COLOR}"/>' for px, py in costs]
    for size, _, colour, _ in marks:
        config = by_size.get(size)
        if config is None:
            continue
        rings = [(y_duration(config["meanMs"]))]
        if config.get("costPerMillionUsd") is not None:
            rings.append(y_cost(config["costPerMillionUsd"]))
        out += [
            f'<circle cx="{x(size):.1f}" cy="{ry:.1f}" r="8" fill="none" stroke="{colour}" stroke-width="2.2"/>'
            for ry in rings
        ]
    # Excluded sizes: a red cross at the bottom of both panels, one legend entry per reason.
    kinds: dict[str, list[int]] = {}
    for config in excluded:
        kinds.setdefault(exclusion_kind(config["excluded"]), []).append(config["memorySize"])
    for kind_sizes in kinds.values():
        for size in kind_sizes:
            for bottom in (_DURATION_BOTTOM, _COST_BOTTOM):
                out.append(_cross(x(size), bottom - 10))
    legend = [
        (f'<line x1="0" x2="22" y1="0" y2="0" stroke="{DURATION_COLOR}" stroke-width="2"/>', "trimmed mean duration"),
        (
            f'<line x1="0" x2="22" y1="0" y2="0" stroke="{DURATION_COLOR}" stroke-opacity="0.45" '
            'stroke-dasharray="5 4"/>',
            "p90 duration",
        ),
        (f'<line x1="0" x2="22" y1="0" y2="0" stroke="{COST_COLOR}" stroke-width="2"/>', "$ per 1M invocations"),
        *[
            (f'<line x1="0" x2="22" y1="0" y2="0" stroke="{colour}" stroke-width="1.6"{dash}/>', text)
            for _, text, colour, dash in marks
        ],
        *[(_cross(11, 0), f"excluded: {kind}") for kind in kinds],
    ]
    columns = 4
    for index, (swatch, text) in enumerate(legend):
        lx = _LEFT + (index % columns) * 240
        ly = _COST_BOTTOM + 76 + (index // columns) * 22
        out.append(
            f'<g transform="translate({lx} {ly})">{swatch}<text x="30" y="4" fill="#1d2125">{escape(text)}</text></g>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _cross(cx: float, cy: float) -> str:
    return (
        f'<path d="M{cx - 6:.1f},{cy - 6:.1f}L{cx + 6:.1f},{cy + 6:.1f}M{cx - 6:.1f},{cy + 6:.1f}'
        f'L{cx + 6:.1f},{cy - 6:.1f}" stroke="{EXCLUDED_COLOR}" stroke-width="2.6" class="excluded-mark"/>'
    )
