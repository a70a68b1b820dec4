"""Constraints on what may be applied: a size that breaks one is not chosen, and its row says why.

The decision (decision/statistics.py ``decide``) with ``maxDurationIncreasePct``, ``maxP99DurationMs``,
the memory floor (``memoryHeadroomPct``, ``minMemorySize``) and production's figures
(decision/constraints.py ``Production``), and the input checks that refuse constraints no size can meet.
"""

from __future__ import annotations

from typing import Any

import pytest

from autotuner_core.cost.prices import lambda_prices
from autotuner_core.decision.analysis import recommendation_from
from autotuner_core.decision.constraints import Production
from autotuner_core.decision.statistics import Decision, decide
from autotuner_core.documents.request import parse_request
from autotuner_core.documents.target import SizeObservation
from autotuner_core.policy.errors import InvalidConfigurationError, InvalidInputError
from autotuner_core.report.plain import exclusion_kind, short_reason
from tests.unit.engine_runs import request

X86 = lambda_prices("us-east-1", "x86_64")

# A memory-bound curve like the demo's pdf-renderer (current 2,048 MB): 512 MB is the cheapest
# per invocation, and 3.2 x slower than the current size; 1,536 MB is 1.13 x slower.
PDF = {512: 2000.0, 1024: 1000.0, 1536: 714.0, 2048: 631.0}


def observed(
    curve: dict[int, float], *, used: int | None = None, tail: dict[int, float] | None = None
) -> list[SizeObservation]:
    """Ten invocations a size at its curve's duration (+/- 1 %), the last one ``tail[size]`` if given."""
    items = []
    for size, duration in sorted(curve.items()):
        durations = [duration * (1 + (k % 3 - 1) / 100) for k in range(10)]
        if tail and size in tail:
            durations[-1] = tail[size]
        items.append(
            SizeObservation(
                memory_size=size,
                durations_ms=durations,
                billed_durations_ms=[float(int(d) + 1) for d in durations],
                max_memory_used_mb=used,
            )
        )
    return items


def rows(decision: Decision) -> dict[int, str | None]:
    return {row.memory_size: row.excluded for row in decision.sizes}


def test_without_constraints_the_cost_strategy_picks_the_much_slower_size() -> None:
    # Given the pdf-renderer's curve at 2,048 MB, and no constraint (the memory floor knows no usage)
    decision = decide(request(), 2048, observed(PDF))
    # Then cost picks 512 MB, about 3.2 x slower than now
    assert decision.memory_size == 512
    assert decision.speed_change_pct == pytest.approx(217, abs=5)
    assert all(reason is None for reason in rows(decision).values())


def test_max_duration_increase_excludes_the_slower_sizes_and_each_row_names_the_numbers() -> None:
    # Given the same measurements and maxDurationIncreasePct 50 (at most 1.5 x the current duration)
    decision = decide(request(maxDurationIncreasePct=50), 2048, observed(PDF))
    # Then the cheapest size within it wins: 1,536 MB (1.13 x), not 512 or 1,024 MB
    assert decision.memory_size == 1536 and not decision.keep_current
    reasons = rows(decision)
    assert reasons[1536] is None and reasons[2048] is None
    # And each excluded row names the constraint, the increase, the limit and the two durations: the
    # engine's estimates, which the rows show
    estimates = {row.memory_size: row.duration_ms or 0.0 for row in decision.sizes}
    for size in (512, 1024):
        increase = (estimates[size] / estimates[2048] - 1) * 100
        assert reasons[size] == (
            f"maxDurationIncreasePct: {increase:+.0f} % over +50 % ({estimates[size]:,.0f} ms against "
            f"{estimates[2048]:,.0f} ms at the current 2,048 MB)"
        )
    assert estimates[512] / estimates[2048] == pytest.approx(3.17, abs=0.05)
    # And the row keeps its estimates: the table still shows what the size measured
    row = next(row for row in decision.sizes if row.memory_size == 512)
    assert row.duration_ms == pytest.approx(2000, rel=0.02)
    # And the summary says which better-ranked sizes the constraint kept out
    assert decision.summary.endswith("512 MB, 1,024 MB rank better but break maxDurationIncreasePct")
    # And the recommendation puts that after its figures
    recommendation = recommendation_from(decision, balanced_weight=0.5, prices=X86)
    assert recommendation.memory_size == 1536
    assert recommendation.summary.endswith(
        "per million invocations; 512 MB, 1,024 MB rank better but break maxDurationIncreasePct"
    )


def test_when_no_other_size_meets_the_constraints_the_current_size_is_kept_and_the_summary_says_why() -> None:
    # Given maxDurationIncreasePct 5: every cheaper size is more than 5 % slower than 2,048 MB
    decision = decide(request(maxDurationIncreasePct=5), 2048, observed(PDF))
    # Then the current size is kept
    assert (decision.memory_size, decision.keep_current, decision.best_memory_size) == (2048, True, 2048)
    assert decision.summary.startswith(
        "cost: keep the current 2048 MB: every size that ranks better breaks a constraint"
    )
    assert "512 MB, 1,024 MB, 1,536 MB rank better but break maxDurationIncreasePct" in decision.summary
    assert all(rows(decision)[size] for size in (512, 1024, 1536))
    # And the recommendation changes nothing
    recommendation = recommendation_from(decision, balanced_weight=0.5, prices=X86)
    assert (recommendation.memory_size, recommendation.kept_current) == (2048, False)
    assert (recommendation.projected_change_pct, recommendation.projected_change_per_million_usd) == (0, 0)


def test_zero_allows_no_slower_size_at_all() -> None:
    # Given a current size that is not the fastest, and maxDurationIncreasePct 0
    decision = decide(request(maxDurationIncreasePct=0, strategy="cost"), 1024, observed(PDF))
    # Then only sizes at most as slow as 1,024 MB may be chosen: 512 MB is out, the faster ones are not
    reasons = rows(decision)
    assert reasons[512] and reasons[1536] is None and reasons[2048] is None
    assert decision.memory_size == 1024


def test_max_p99_excludes_a_size_with_a_slow_tail_that_its_mean_hides() -> None:
    # Given 1,536 MB with one invocation of 3,000 ms in ten, and maxP99DurationMs 1,200
    measured = observed(PDF, tail={1536: 3000.0})
    decision = decide(request(maxP99DurationMs=1200), 2048, measured)
    reasons = rows(decision)
    # Then 512 MB (p99 ~2,020 ms) and 1,536 MB (p99 3,000 ms) are out; 1,024 MB (p99 ~1,010 ms) is allowed
    assert reasons[1536] == "maxP99DurationMs: p99 3,000 ms over 1,200 ms (measured, 10 invocations)"
    assert reasons[512] is not None and reasons[512].startswith("maxP99DurationMs: p99 2,020 ms over 1,200 ms")
    assert reasons[1024] is None
    assert decision.memory_size == 1024


def test_production_p99_is_projected_to_each_size_and_checked_too() -> None:
    # Given production's p99 at the current 2,048 MB is 900 ms (from telemetry), maxP99DurationMs 1,200
    production = Production(p99_duration_ms=900.0, source="CloudWatch, 14 days")
    decision = decide(request(maxP99DurationMs=1200), 2048, observed(PDF), production=production)
    reasons = rows(decision)
    # Then 1,024 MB, whose measured p99 (~1,010 ms) passes, is out: 900 ms x 1.59 projects to ~1,433 ms
    assert reasons[1024] is not None
    assert reasons[1024].startswith("maxP99DurationMs: projected production p99 1,4")
    assert "production p99 900 ms at the current 2,048 MB, CloudWatch, 14 days, x 1.59" in reasons[1024]
    # And 1,536 MB (900 x 1.13 = ~1,018 ms) is chosen
    assert reasons[1536] is None and decision.memory_size == 1536


def test_the_memory_floor_comes_from_max_memory_used_at_the_current_size_with_its_headroom() -> None:
    # Given a function that used 600 MB at its current 2,048 MB, and 1,024 MB ran without errors
    measured = observed(PDF, used=600)
    # When the default headroom (5 %) applies: the floor is 630 MB
    decision = decide(request(), 2048, measured)
    reasons = rows(decision)
    # Then 512 MB is not chosen (it ran, but below what production needs with headroom)
    assert reasons[512] == (
        "memory floor: below 630 MB (max memory used 600 MB measured at the current 2,048 MB + memoryHeadroomPct 5 %)"
    )
    assert decision.memory_size == 1024
    # And a larger headroom raises the floor: 600 x 1.75 = 1,050 MB puts 1,024 MB out too
    assert rows(decide(request(memoryHeadroomPct=75), 2048, measured))[1024] is not None


def test_production_max_memory_used_raises_the_floor_when_it_is_larger() -> None:
    # Given 400 MB measured at the current size, and 1,000 MB seen in production
    production = Production(max_memory_used_mb=1000, source="CloudWatch, 14 days")
    decision = decide(request(), 2048, observed(PDF, used=400), production=production)
    # Then the floor is 1,050 MB: production's figure, with the headroom
    assert rows(decision)[1024] == (
        "memory floor: below 1,050 MB (max memory used 1,000 MB in production (CloudWatch, 14 days) "
        "+ memoryHeadroomPct 5 %)"
    )
    assert decision.memory_size == 1536


def test_a_stated_min_memory_size_is_a_floor_too() -> None:
    decision = decide(request(minMemorySize=1024), 2048, observed(PDF))
    assert rows(decision)[512] == "minMemorySize: below 1,024 MB"
    assert decision.memory_size == 1024


def test_a_size_that_breaks_several_constraints_lists_them_all() -> None:
    decision = decide(request(maxDurationIncreasePct=50, minMemorySize=1024), 2048, observed(PDF))
    reason = rows(decision)[512]
    assert reason is not None
    assert reason.startswith("minMemorySize: below 1,024 MB; maxDurationIncreasePct: +218 %")
    assert decision.summary.endswith(
        "512 MB, 1,024 MB rank better but break minMemorySize (512 MB), maxDurationIncreasePct (512 MB, 1,024 MB)"
    )


def test_a_current_size_that_breaks_a_constraint_is_kept_rather_than_moved_at_any_price() -> None:
    # Given a current 512 MB whose p99 (~2,020 ms) is over maxP99DurationMs 1,200, under the cost strategy
    decision = decide(request(maxP99DurationMs=1200), 512, observed(PDF))
    # Then the faster sizes cost more, so the current size is kept, and the summary says it breaks the limit
    assert decision.memory_size == 512
    assert decision.constraints_note == (
        "; the current 512 MB itself: its measured p99 2,020 ms is over maxP99DurationMs 1,200 ms"
    )


def test_without_a_current_duration_no_other_size_can_be_checked_and_the_target_fails_saying_why() -> None:
    # Given a current size that was not measured, and maxDurationIncreasePct 50
    with pytest.raises(InvalidConfigurationError) as raised:
        decide(request(maxDurationIncreasePct=50), 3008, observed(PDF))
    # Then nothing can be chosen, and the error names the constraint for each size
    message = str(raised.value)
    assert message.startswith("no measured size meets the constraints: 512 MB: maxDurationIncreasePct: no duration")
    assert "at the current 3,008 MB to compare with" in message


def test_the_table_shortens_a_constraint_reason_to_its_field_and_figures() -> None:
    reason = "maxDurationIncreasePct: +217 % over +50 % (2,000 ms against 631 ms at the current 2,048 MB)"
    assert short_reason(reason) == "maxDurationIncreasePct: +217 % over +50 %"
    assert short_reason("minMemorySize: below 1,024 MB; maxP99DurationMs: p99 3,000 ms over 1,200 ms (x)") == (
        "minMemorySize: below 1,024 MB (+1 more)"
    )
    assert exclusion_kind(reason) == "over maxDurationIncreasePct"
    assert exclusion_kind("memory floor: below 630 MB (…)") == "below the memory floor"


# --------------------------------------------------------------------------------------------
# Constraints no size can meet are refused at input time, naming the field
# --------------------------------------------------------------------------------------------


def _refusal(**fields: Any) -> str:
    with pytest.raises(InvalidInputError) as raised:
        parse_request({"targets": ["orders-api"], **fields})
    return str(raised.value)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"maxP99DurationMs": 0.5}, "maxP99DurationMs: Input should be greater than or equal to 1"),
        ({"maxP99DurationMs": 1_000_000}, "maxP99DurationMs: Input should be less than or equal to 900000"),
        ({"maxDurationIncreasePct": -1}, "maxDurationIncreasePct: Input should be greater than or equal to 0"),
        ({"memoryHeadroomPct": -5}, "memoryHeadroomPct: Input should be greater than or equal to 0"),
        ({"memoryHeadroomPct": 150}, "memoryHeadroomPct: Input should be less than or equal to 100"),
        ({"minMemorySize": 64}, "minMemorySize: Input should be greater than or equal to 128"),
        (
            {"memorySizes": [128, 256, 512], "minMemorySize": 1024},
            "minMemorySize: every size of memorySizes (up to 512 MB) is below 1024 MB, so no size can be chosen",
        ),
        (
            {"memorySize": 512, "minMemorySize": 1024},
            "minMemorySize: the fixed memorySize 512 MB is below it (1024 MB)",
        ),
        (
            {"memorySize": 512, "maxDurationIncreasePct": 20},
            "maxDurationIncreasePct: a fixed memorySize measures nothing to check it against",
        ),
    ],
)
def test_impossible_or_meaningless_constraints_are_refused_naming_the_field(fields: dict[str, Any], named: str) -> None:
    assert named in _refusal(**fields)


def test_constraints_default_to_none_but_the_memory_headroom() -> None:
    tuning = parse_request({"targets": ["orders-api"]})
    assert (tuning.max_duration_increase_pct, tuning.max_p99_duration_ms, tuning.min_memory_size) == (None, None, None)
    assert tuning.memory_headroom_pct == 5
