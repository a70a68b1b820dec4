"""Constraints on what may be applied: which measured sizes the decision may not choose, and why.

The request's constraints (documents/request.py) bound the change, not the measuring:

- ``maxDurationIncreasePct``: a size whose duration estimate (the one the decision ranks on) is
  more than this many percent above the current size's is not chosen. Without a current duration
  (the current size was not measured, or failed) no other size can be checked, so none is chosen.
- ``maxP99DurationMs``: a size whose measured p99 Duration (nearest rank, as the table's) exceeds
  it is not chosen. Where production's p99 is known (:class:`Production`), it is projected to each
  size by the ratio of that size's duration estimate to the current size's, and checked too: a
  measuring payload rarely reaches production's tail.
- The memory floor: no size below the largest Max Memory Used known at the current size (the
  measured REPORT lines; production's, when known) plus ``memoryHeadroomPct``, nor below
  ``minMemorySize``.

The current size is never excluded: keeping it changes nothing, so it is the answer when no other
size meets the constraints. A current size that itself breaks one is named in the decision's
summary (:func:`current_notes`), not moved away from at any price.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from autotuner_core.documents.base import Document
from autotuner_core.documents.request import TuningRequest
from autotuner_core.documents.target import SizeObservation


class Production(Document):
    """What production does at the current size, from telemetry: the hook the constraints read.

    Nothing fills it yet (the telemetry reader is not built): :func:`autotuner_core.decision.statistics.decide`
    takes it as an optional argument, and without it only the measured figures are checked."""

    model_config = Document.model_config | {"frozen": True}

    p99_duration_ms: float | None = None
    max_memory_used_mb: int | None = None
    source: str = "telemetry"  # what the figures are, for the reasons: e.g. "CloudWatch, 14 days"


def p99(durations_ms: list[float]) -> float:
    """Nearest-rank p99, as the table's p99 column (decision/analysis.py)."""
    ordered = sorted(durations_ms)
    return ordered[max(1, math.ceil(0.99 * len(ordered))) - 1]


def memory_floor(
    request: TuningRequest,
    current_memory_mb: int,
    measured: Mapping[int, SizeObservation],
    production: Production | None = None,
) -> tuple[int, str] | None:
    """The smallest size that may be chosen and a phrase saying where it comes from, or None."""
    floors: list[tuple[int, str]] = []
    own = measured.get(current_memory_mb)
    used = []
    if own is not None and own.max_memory_used_mb is not None:
        used.append((own.max_memory_used_mb, f"measured at the current {current_memory_mb:,} MB"))
    if production is not None and production.max_memory_used_mb is not None:
        used.append((production.max_memory_used_mb, f"in production ({production.source})"))
    if used:
        value, where = max(used)
        # Rounded first: 300 x 1.05 is 315.00000000000006 in floating point, and the floor is 315.
        floor = math.ceil(round(value * (1 + request.memory_headroom_pct / 100), 6))
        floors.append(
            (floor, f"max memory used {value:,} MB {where} + memoryHeadroomPct {request.memory_headroom_pct:g} %")
        )
    if request.min_memory_size is not None:
        floors.append((request.min_memory_size, "minMemorySize"))
    return max(floors) if floors else None


def violations(
    request: TuningRequest,
    current_memory_mb: int,
    measured: Mapping[int, SizeObservation],
    durations_ms: Mapping[int, float],
    production: Production | None = None,
) -> dict[int, str]:
    """Why each size in ``durations_ms`` (the ranked sizes' duration estimates) may not be chosen.

    The current size is never listed. Each reason starts with the constraint's field, then the
    numbers; a size that breaks several has them all, joined by "; "."""
    current = durations_ms.get(current_memory_mb)
    floor = memory_floor(request, current_memory_mb, measured, production)
    limit = request.max_p99_duration_ms
    reasons: dict[int, str] = {}
    for size, duration in sorted(durations_ms.items()):
        if size == current_memory_mb:
            continue
        found = []
        if floor is not None and size < floor[0]:
            field = "minMemorySize" if floor[1] == "minMemorySize" else "memory floor"
            found.append(f"{field}: below {floor[0]:,} MB" + ("" if field == "minMemorySize" else f" ({floor[1]})"))
        increase = request.max_duration_increase_pct
        if increase is not None:
            if current is None:
                found.append(
                    f"maxDurationIncreasePct: no duration at the current {current_memory_mb:,} MB to compare with"
                )
            elif (duration / current - 1) * 100 > increase:
                found.append(
                    f"maxDurationIncreasePct: {(duration / current - 1) * 100:+.0f} % over +{increase:g} % "
                    f"({duration:,.0f} ms against {current:,.0f} ms at the current {current_memory_mb:,} MB)"
                )
        if limit is not None:
            measured_p99 = p99(measured[size].durations_ms)
            if measured_p99 > limit:
                found.append(
                    f"maxP99DurationMs: p99 {measured_p99:,.0f} ms over {limit:,.0f} ms "
                    f"(measured, {len(measured[size].durations_ms)} invocations)"
                )
            if production is not None and production.p99_duration_ms is not None and current is not None:
                projected = production.p99_duration_ms * duration / current
                if projected > limit:
                    found.append(
                        f"maxP99DurationMs: projected production p99 {projected:,.0f} ms over {limit:,.0f} ms "
                        f"(production p99 {production.p99_duration_ms:,.0f} ms at the current "
                        f"{current_memory_mb:,} MB, {production.source}, x {duration / current:.2f})"
                    )
        if found:
            reasons[size] = "; ".join(found)
    return reasons


def current_notes(
    request: TuningRequest,
    current_memory_mb: int,
    measured: Mapping[int, SizeObservation],
    production: Production | None = None,
) -> list[str]:
    """Constraints the current size itself breaks: said in the summary, since it is kept regardless."""
    notes = []
    own = measured.get(current_memory_mb)
    limit = request.max_p99_duration_ms
    if limit is not None and own is not None and own.durations_ms and p99(own.durations_ms) > limit:
        notes.append(f"its measured p99 {p99(own.durations_ms):,.0f} ms is over maxP99DurationMs {limit:,.0f} ms")
    if limit is not None and production is not None and (production.p99_duration_ms or 0) > limit:
        notes.append(
            f"its production p99 {production.p99_duration_ms:,.0f} ms is over maxP99DurationMs {limit:,.0f} ms"
        )
    floor = memory_floor(request, current_memory_mb, measured, production)
    if floor is not None and current_memory_mb < floor[0]:
        notes.append(f"it is below the memory floor of {floor[0]:,} MB ({floor[1]})")
    return notes


def summary_note(blocked: Mapping[int, str], better: list[int], notes: list[str], current_memory_mb: int) -> str:
    """What the decision's summary adds: the sizes that rank better than the one chosen but break a
    constraint (by constraint), and what the current size itself breaks; "" when nothing."""
    parts = []
    if better:
        fields: dict[str, list[int]] = {}
        for size in sorted(better):
            for reason in blocked[size].split("; "):
                fields.setdefault(reason.split(":", 1)[0], []).append(size)
        if len(fields) == 1:
            named = next(iter(fields))
        else:
            named = ", ".join(f"{field} ({_sizes(sizes)})" for field, sizes in fields.items())
        verb = "ranks better but breaks" if len(better) == 1 else "rank better but break"
        parts.append(f"{_sizes(sorted(better))} {verb} {named}")
    if notes:
        parts.append(f"the current {current_memory_mb:,} MB itself: " + " and ".join(notes))
    return "; ".join(parts)


def _sizes(sizes: list[int]) -> str:
    return ", ".join(f"{size:,} MB" for size in sizes)
