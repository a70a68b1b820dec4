"""The tuning benchmark's core on a tiny suite: one profile, one seed, both engines, cost strategy."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from autotuner_core.cost.prices import lambda_prices
from autotuner_core.decision import engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not an installed package
from benchmarks import tuning

PROFILE = "floor-700"  # needs 700 MB: the optimum lies between Power Tuning's 512 and 1,024 MB


def brute_force_costs(profile) -> dict[int, float]:
    """Cost per invocation at every size 128..3008 MB that fits, from the model's formulas, written out."""
    rates = lambda_prices("us-east-1", "arm64")
    floor = max(128, round(profile.base_memory_mb + profile.working_set_mb))
    costs = {}
    for memory in range(128, 3009):
        if memory < floor:
            continue
        vcpus = min(memory / 1769, 6)
        duration_ms = profile.cpu_ms / min(vcpus, profile.threads) + profile.io_ms
        costs[memory] = rates.gb_second_usd * memory / 1024 * math.ceil(duration_ms) / 1000 + rates.request_usd
    return costs


@pytest.fixture(scope="module")
def results():
    return tuning.run_suite([PROFILE], [1], ["cost"], workers=1)


def test_the_true_optimum_is_the_brute_force_one():
    costs = brute_force_costs(tuning.SUITE[PROFILE])
    values = tuning.objective("cost", tuning.SUITE[PROFILE])
    assert values.keys() == costs.keys()
    assert all(values[m] == pytest.approx(costs[m], rel=1e-12) for m in costs)
    best = min(costs, key=costs.get)
    assert best == 700  # I/O-heavy: the smallest size that fits is the cheapest
    assert tuning.optimum(values) == (best, pytest.approx(costs[best]))


def test_one_result_per_engine_with_decision_regret_and_usage(results):
    assert [(r["engine"], r["strategy"], r["profile"], r["seed"]) for r in results] == [
        ("ours", "cost", PROFILE, 1),
        ("baseline", "cost", PROFILE, 1),
    ]
    costs = brute_force_costs(tuning.SUITE[PROFILE])
    for result in results:
        assert result["status"] == "SUCCEEDED"
        assert result["optimumMb"] == 700
        chosen = result["chosenMb"]
        assert chosen in result["measuredMb"]
        # Regret is scored noise-free against the brute-force optimum
        assert result["regret"] == pytest.approx(costs[chosen] / costs[700] - 1, rel=1e-9)
        assert result["regret"] >= 0
        assert result["stateTransitions"] > 0 and result["seconds"] > 0
    ours, baseline = results
    # Both run engine v2 (the product searches adaptively, not a fixed grid): within its budget of 3 x invocations
    assert all(result["invocations"] <= 3 * 10 for result in results)
    assert ours["input"] == {"targets": ["floor-700-s1"], "strategy": "cost", "apply": False}
    # The baseline's sizes bound its search: Power Tuning's range, 128 to 3,008 MB
    assert all(128 <= size <= 3008 for size in baseline["measuredMb"])
    assert all(2 <= result["rounds"] <= engine.MAX_ROUNDS for result in results)
    # 512 MB runs out of memory; between the ladder's 512 and 1,024 MB the engine measures the
    # smallest size that holds what the function used (700 MB, plus 5 % headroom) and chooses it
    assert baseline["chosenMb"] == ours["chosenMb"] == 735
    assert baseline["regret"] == pytest.approx(costs[735] / costs[700] - 1)


def test_the_summary_and_goals_are_computed_from_the_runs(results):
    summary = tuning.summarize(results)
    overall = summary["cost"]["overall"]
    assert overall["ours"]["regretMedian"] == results[0]["regret"]
    assert overall["baseline"]["transitionsMax"] == results[1]["stateTransitions"]
    goals = tuning.goals(summary)
    assert len(goals) == 4 and all(isinstance(goal["met"], bool) for goal in goals)
    report = tuning.format_report(summary)
    assert PROFILE in report and "goal: median regret ≤ 2 %" in report
