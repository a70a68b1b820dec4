"""The real-curve benchmark and its baseline, Power Tuning's own analysis, on a small subset (seconds)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from autotuner.embedded.curves import Curve, CurvePoints, load_curves

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not an installed package
from benchmarks import power_tuning, realcurves
from benchmarks.__main__ import main as benchmarks_main

# Coarse curves: four over 128-3008 MB, one over 128-2048 MB and one over 512-3072 MB.
SUBSET = ("s001", "s010", "s032", "s068", "s100", "s025")
HELD = ("s000", "s011")  # held out: sha256 of the id starts with a multiple of 4


@pytest.fixture
def subset_file(tmp_path: Path) -> Path:
    records = [r for r in json.loads(realcurves.DEFAULT_CURVES_PATH.read_text()) if r["id"] in SUBSET]
    path = tmp_path / "subset.json"
    path.write_text(json.dumps(records))
    return path


def test_the_json_entry_point_runs_both_engines_and_ends_with_one_json_line(
    subset_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given six real curves in the data file's format
    # When the benchmark runs through python -m benchmarks with its own arguments
    status = benchmarks_main(["realcurves", "--curves", str(subset_file), "--json", "--seeds", "2"])
    out = capsys.readouterr().out.splitlines()
    # Then its last line is the JSON object the issue specifies, for both engines
    assert status == 0
    result = json.loads(out[-1])
    assert result["curves"] == len(SUBSET)
    assert result["costTruth"] == "billed"
    for engine in ("ours", "powerTuning"):
        assert set(result[engine]) == {"medianRegretPct", "p95RegretPct", "invocations", "targetGbSeconds"}
        assert result[engine]["medianRegretPct"] >= 0
        assert result[engine]["p95RegretPct"] >= result[engine]["medianRegretPct"]
    # Power Tuning: 10 invocations at each default size on offer: all 6 on four curves, 5 on s010's
    # 128-2048 MB, 4 on s025's 512-3072 MB
    assert result["powerTuning"]["invocations"] == pytest.approx((4 * 60 + 50 + 40) / 6)
    assert result["ours"]["invocations"] <= 30
    # and the text tables and the goals came before it
    text = "\n".join(out)
    assert "cost p50/p90/p95 %" in text
    assert "Power Tuning at our budget (num 5, 30)" in text
    assert "goals:" in text
    assert "our median cost regret <= 1 %" in text
    # and what the minImprovement rule costs is shown beside what is scored (the decision)
    assert "ours (default, 30), best measured size before the minImprovement rule: cost p50/p90/p95" in text
    # and the same decisions against the old mean-duration truth, for comparison, with each engine's p95
    old = next(line for line in out if line.startswith("the same cost decisions against the old mean-duration truth"))
    assert "ours (30) " in old and "Power Tuning (60) " in old
    # and, for each engine, how often it changed the current size for less than minImprovement, and how
    # often it kept a size the optimum beats by more: 6 curves x 2 seeds at the default budgets
    for label in ("ours (default)", "Power Tuning (default)"):
        line = next(line for line in out if line.startswith(f"{label}, cost, against the current size: changed it in"))
        changed, runs, small, missed = (int(word) for word in line.replace(",", " ").split() if word.isdigit())
        assert runs == 12 and small <= changed <= runs and missed <= runs - changed


def test_a_bad_curves_file_is_refused_naming_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{"id": "x", "memoryMb": [512, 256], "meanDurationMs": [1, 2]}]))
    assert benchmarks_main(["realcurves", "--curves", str(path), "--json"]) == 2
    assert "memoryMb: sizes must be in ascending order" in capsys.readouterr().err


def test_regret_is_measured_against_the_optimum_over_the_whole_range() -> None:
    # Given a curve measured at 128 and 1024 MB only, linear in log-memory in between
    curve = Curve(CurvePoints(memory_mb=[128, 1024], mean_duration_ms=[1000.0, 100.0]))
    truth = realcurves.Truth.of(curve)
    # When the regret of 128 MB is computed
    costs = [m * truth.billed[m - 128] for m in truth.sizes]
    best = min(costs)
    # Then it is against the cheapest size anywhere in 128-1024 MB (1 MB steps), not the measured two
    assert truth.regret_pct(128, "cost") == pytest.approx((costs[0] / best - 1) * 100)
    assert truth.regret_pct(128, "cost", truth.mean_duration_costs()) == pytest.approx(
        (128 * 1000 / min(truth.mean_duration_costs()) - 1) * 100
    )
    assert truth.regret_pct(1024, "speed") == 0
    assert truth.regret_pct(128, "speed") == pytest.approx(900)


def test_the_held_out_set_is_fixed_by_a_hash_of_the_id() -> None:
    ids = [r.id for r in load_curves()]
    held = [i for i in ids if realcurves.held_out(i)]
    assert 0.15 < len(held) / len(ids) < 0.35
    assert held == [i for i in ids if realcurves.held_out(i)]
    assert realcurves.held_out("s000")


def test_the_tuning_curves_are_judged_on_their_own_and_only_they_are_listed_run_by_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two tuning curves and two held-out ones
    records = [r for r in json.loads(realcurves.DEFAULT_CURVES_PATH.read_text()) if r["id"] in SUBSET[:2] + HELD]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(records))

    # When the benchmark runs with --worst
    assert benchmarks_main(["realcurves", "--curves", str(path), "--seeds", "1", "--worst", "5"]) == 0
    out = capsys.readouterr().out
    # Then the tuning curves get their own table and goals beside all four and the held-out two
    assert "-- tuning: 2 curves --" in out and "-- held out: 2 curves --" in out
    assert "our median cost regret <= 1 % (tuning):" in out
    assert "our median cost regret <= 1 % (held out):" in out
    # and the worst runs listed are of tuning curves only
    listed = [line for line in out.splitlines() if line.startswith("  ") and " seed " in line]
    assert listed and all(line.split()[2] in SUBSET[:2] for line in listed)

    # When it runs with --tuning-only
    assert benchmarks_main(["realcurves", "--curves", str(path), "--seeds", "1", "--tuning-only"]) == 0
    out = capsys.readouterr().out
    # Then no held-out curve is measured or named, and the goals say which curves they judge
    assert not any(curve in out for curve in HELD)
    assert "held out (" not in out
    assert "our median cost regret <= 1 % (tuning):" in out


def test_fine_grained_runs_are_told_apart_from_coarse_ones() -> None:
    records = {r.id: r for r in load_curves()}
    assert realcurves.fine_grained(records["s094"])  # 128-512 MB in 24 MB steps
    assert not realcurves.fine_grained(records["s001"])  # 128, 256, 512, ... 3008


# -- Power Tuning's analysis ------------------------------------------------------------------------


def test_power_tuning_trims_twenty_percent_from_each_end_by_default() -> None:
    values = [100.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 0.0]
    # 10 values: trunc(10 * 0.2) = 2 dropped from each end (0, 1 and 8, 100)
    assert power_tuning.trimmed_mean(values, 0.2) == pytest.approx(4.5)
    # fewer than 5 values: nothing to drop
    assert power_tuning.trimmed_mean([1.0, 2.0, 9.0], 0.2) == pytest.approx(4.0)


def test_power_tuning_prices_ceiled_milliseconds_without_the_request_charge() -> None:
    assert power_tuning.price(1024, 100.2, "x86_64") == pytest.approx(101 * 2.1e-9 * 8)
    assert power_tuning.price(128, 10.0, "arm64") == pytest.approx(10 * 1.7e-9)


def _stats(value: int, price: float, duration: float) -> power_tuning.PowerStats:
    return power_tuning.PowerStats(value=value, average_price=price, average_duration=duration, total_cost=0.0)


def test_power_tuning_strategies_and_their_tie_breaks() -> None:
    stats = [_stats(128, 2.0, 100.0), _stats(256, 2.0, 60.0), _stats(512, 3.0, 60.0), _stats(1024, 8.0, 20.0)]
    # cost: the cheapest; equal prices go to the faster
    assert power_tuning.analyze(stats, "cost").power == 256
    # speed: the fastest; (not tied here)
    assert power_tuning.analyze(stats, "speed").power == 1024
    # equal durations go to the cheaper
    assert power_tuning.analyze(stats[:3], "speed").power == 256
    # balanced 0.5: 0.5 * price / 8 + 0.5 * duration / 100 -> 256 (0.425) beats 1024 (0.6)
    assert power_tuning.analyze(stats, "balanced").power == 256
    assert power_tuning.analyze(stats, "balanced", balanced_weight=0).power == 1024
    # its own cost: 6 + 3 per size state transitions
    assert power_tuning.analyze(stats, "cost").state_transitions == 6 + 3 * 4


def test_power_tuning_spends_num_invocations_per_power_value() -> None:
    calls: list[int] = []

    def invoke(memory: int) -> tuple[float, float, float]:
        calls.append(memory)
        return 1000.0 / memory * 128, float(int(1000.0 / memory * 128) + 1), 0.0

    result = power_tuning.tune(invoke)
    assert len(calls) == 60
    assert sorted(set(calls)) == list(power_tuning.POWER_VALUES)
    # duration x memory is the same everywhere; the 1 ms rounding makes the smallest size the cheapest
    assert result.power == 128


def test_changes_are_counted_against_the_current_size_and_the_min_improvement() -> None:
    # Given a curve whose cost at 256 MB is 3 % below 128 MB's and at 512 MB 20 % below
    curve = Curve(CurvePoints(memory_mb=[128, 256, 512], mean_duration_ms=[1000.0, 485.0, 200.0]))
    truth = realcurves.Truth.of(curve)
    scores = truth.scores("cost")
    figures = realcurves.Figures({"cost": []}, [])
    # When one run moves to 256 MB, one to 512 MB and one keeps the current 128 MB
    for memory in (256, 512, 128):
        figures.count(memory, 128, truth, scores)
    # Then two changes, one of them for a saving under 5 %, and one kept size that the optimum beats by 5 % or more
    assert (figures.changes, figures.small_changes, figures.missed) == (2, 1, 1)


# -- The minImprovement rule's floor ----------------------------------------------------------------


def _floor_regrets(curve: Curve, num: int = 10, replays: int = 60) -> list[float]:
    truth = realcurves.Truth.of(curve)
    scores = truth.scores("cost")
    return [realcurves.rule_floor_regret(curve, truth, scores, seed, num) for seed in range(replays)]


def test_the_rule_floor_changes_for_a_saving_well_above_min_improvement() -> None:
    # Given a curve whose 256 MB costs 40 % less than the current 128 MB
    curve = Curve(CurvePoints(memory_mb=[128, 256, 512], mean_duration_ms=[1000.0, 300.0, 290.0]))
    # Then an engine told the optimum moves to it every time: the rule costs nothing there
    assert max(_floor_regrets(curve)) == 0


def test_the_rule_floor_is_zero_where_the_current_size_is_the_optimum() -> None:
    curve = Curve(CurvePoints(memory_mb=[128, 1024], mean_duration_ms=[100.0, 90.0]))
    assert _floor_regrets(curve, replays=5) == [0.0] * 5


def test_the_rule_floor_keeps_a_saving_near_min_improvement_about_half_the_time() -> None:
    # Given a curve whose 256 MB bills about 5.5 % less than the current 128 MB: just above the
    # default minImprovement of 5 %
    curve = Curve(CurvePoints(memory_mb=[128, 256], mean_duration_ms=[1000.0, 472.0]))
    truth = realcurves.Truth.of(curve)
    kept_regret = truth.regret_pct(128, "cost")
    assert 5.3 < kept_regret < 6.3
    # When an engine told the optimum measures it and the current size with the whole budget
    regrets = _floor_regrets(curve)
    # Then it still keeps the current size in a large share of the replays, scored as the saving
    # it left, and moves to the optimum in the others
    kept = [r for r in regrets if r > 0]
    assert all(r == pytest.approx(kept_regret) for r in kept)
    assert 0.2 < len(kept) / len(regrets) < 0.8
    # and twice the budget does not settle it: the saving is too close to the threshold
    assert 0.2 < sum(r > 0 for r in _floor_regrets(curve, num=20)) / len(regrets) < 0.8


def _figures(regret: float, floor: float) -> realcurves.Figures:
    run = realcurves.Run(
        memory=128,
        invocations=30,
        target_gb_seconds=1.0,
        tuner_gb_seconds=1.0,
        control_calls=10,
        transitions=20,
        dollars=0.0,
    )
    return realcurves.Figures({"cost": [regret] * 20}, [run] * 20, floor_regrets=[floor] * 20)


def test_a_p95_goal_says_when_its_limit_lies_below_the_rules_floor() -> None:
    # Given our p95 of 6 % where the rule's floor is 5.5 %, and Power Tuning's p95 of 4 % (8 % at num 5)
    ours, theirs, theirs_at_30 = _figures(6.0, 5.5), _figures(4.0, 0.0), _figures(8.0, 0.0)
    verdicts = {g.text: g for g in realcurves.goals((ours, theirs), (ours, theirs_at_30), label="held out")}
    # Then the p95 goals fail and each names the floor; the two whose limit lies below it say so
    mine = verdicts["our p95 cost regret <= Power Tuning's (held out)"]
    assert not mine.holds
    assert mine.detail == "6.00 % vs 4.00 %; the minImprovement rule's floor 5.50 % (the limit is below the floor)"
    at_60 = verdicts["at Power Tuning's budget (60): our p95 <= half of its p95 (held out)"]
    assert at_60.detail.endswith("floor 5.50 % (the limit is below the floor)")
    # and where the floor lies below the limit, the goal names the floor and nothing more
    ours_low_floor = _figures(6.0, 3.0)
    verdicts = {g.text: g for g in realcurves.goals((ours_low_floor, theirs), (ours_low_floor, theirs_at_30))}
    assert (
        verdicts["our p95 cost regret <= Power Tuning's"].detail
        == "6.00 % vs 4.00 %; the minImprovement rule's floor 3.00 %"
    )


def test_min_improvement_can_be_set_for_a_check_and_a_bad_value_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given s144, held out, whose 256 MB bills 5.4 % less than its current 128 MB
    records = [r for r in json.loads(realcurves.DEFAULT_CURVES_PATH.read_text()) if r["id"] == "s144"]
    path = tmp_path / "s144.json"
    path.write_text(json.dumps(records))
    # When the benchmark runs with minImprovement 0
    assert benchmarks_main(["realcurves", "--curves", str(path), "--seeds", "3", "--min-improvement", "0"]) == 0
    out = capsys.readouterr().out
    # Then it says the value is not the default, and the rule's floor is 0: nothing is kept for the rule
    assert "ours with minImprovement 0, not the request's default 0.05" in out
    assert "the minImprovement rule's floor at 30 (" in out
    floor_line = next(line for line in out.splitlines() if line.startswith("the minImprovement rule's floor at 30"))
    assert floor_line.endswith("0.00 / 0.00 / 0.00 %")
    # When it runs with the default, the floor keeps the current size in some replays (5.67 %)
    assert benchmarks_main(["realcurves", "--curves", str(path), "--seeds", "3"]) == 0
    floor_line = next(
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("the minImprovement rule's floor at 30")
    )
    assert floor_line.endswith("/ 5.67 %")
    # And a value outside 0-1 is refused, naming it
    with pytest.raises(SystemExit) as exit_:
        benchmarks_main(["realcurves", "--curves", str(path), "--min-improvement", "1.5"])
    assert exit_.value.code == 2
    assert "minImprovement must be a number from 0 to 1, got '1.5'" in capsys.readouterr().err
