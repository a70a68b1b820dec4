"""The real-curve benchmark is fair, and its baseline is Power Tuning's own analysis (a small subset, seconds)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.curves import Curve, CurvePoints, CurveRecord, load_curves

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not an installed package
from benchmarks import _realcurves_runs as fair
from benchmarks import _realcurves_stats as fair_stats
from benchmarks import realcurves
from benchmarks.__main__ import main as benchmarks_main

ROOT = Path(__file__).resolve().parents[1]
# Coarse curves: s001 over 128-3008 MB, s010 over 128-2048 MB, s025 over 512-3072 MB; s000 is held out.
SUBSET = ("s001", "s010", "s025", "s000")
CONTRACT_KEYS = {"meanRegretPct", "p95RegretPct", "invocations", "targetGbSeconds", "tuningUsd"}


def _records(*ids: str) -> list[CurveRecord]:
    return [r for r in load_curves() if r.id in ids]


def _write(tmp_path: Path, data: object, name: str = "curves.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def subset_file(tmp_path: Path) -> Path:
    return _write(tmp_path, [r for r in json.loads(realcurves.DEFAULT_CURVES_PATH.read_text()) if r["id"] in SUBSET])


def test_the_json_line_is_the_contract_and_the_tables_say_what_was_run(
    subset_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given four real curves, one of them held out
    # When the benchmark runs through python -m benchmarks, one seed, the cost strategy only
    status = benchmarks_main(
        ["realcurves", "--curves", str(subset_file), "--seeds", "1", "--strategies", "cost", "--json"]
    )
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    # Then its last line is exactly the contract's object
    result = json.loads(out[-1])
    assert set(result) == {"curves", "seeds", "ours", "powerTuning", "powerTuningEqualBudget", "churn"}
    assert (result["curves"], result["seeds"]) == (4, 1)
    for engine in ("ours", "powerTuning", "powerTuningEqualBudget"):
        assert set(result[engine]) == CONTRACT_KEYS
        assert 0 <= result[engine]["meanRegretPct"] <= result[engine]["p95RegretPct"] + 1e-9
    # 4 curves x 1 seed x 4 current sizes, both engines under the rule
    for engine in ("ours", "powerTuning"):
        churn = result["churn"][engine]
        assert set(churn) == {"needless", "misses", "runs"} and churn["runs"] == 16
        assert churn["needless"] + churn["misses"] <= churn["runs"]
    # Power Tuning at num 10 spends 10 per size offered; at the equal budget a smaller num
    offered = [
        len(fair.power_values(Curve(r), current))
        for r in _records(*SUBSET)
        for current in fair.current_sizes(r, 0).values()
    ]
    assert result["powerTuning"]["invocations"] == pytest.approx(10 * sum(offered) / len(offered), abs=0.01)
    assert result["powerTuningEqualBudget"]["invocations"] < result["powerTuning"]["invocations"]
    assert result["ours"]["invocations"] <= 30
    text = "\n".join(out)
    # and the labels give the mean invocations that were run, not a nominal budget
    assert f"Power Tuning, num 10: {result['powerTuning']['invocations']:.1f} invocations" in text
    assert f"our engine, invocations 10, rule off: {result['ours']['invocations']:.1f} invocations" in text
    # and every set has its intervals, its runs by current size, its churn, its cost and its per-curve verdicts
    for name in ("all 4 curves", "tuning: 3 curves", "held out: 1 curves"):
        assert f"-- {name} --" in text
    assert "cost mean % [95 % CI]" in text and "cost p95 % [95 % CI]" in text
    for kind in fair.CURRENT_KINDS:
        assert any(line.startswith(kind) for line in out)
    assert "needless" in text and "regret above the rule" in text
    assert text.count("per curve, mean cost regret, ours vs powerTuning ") == 3
    goals = [line for line in out if line.startswith(("  [holds] ", "  [FAILS] "))]
    assert len(goals) == 7 * 3  # seven goals on each of the three sets
    # and the goals' summary goes to stderr, failing first; the exit status is 1 when one fails
    failing = [line for line in goals if line.startswith("  [FAILS] ")]
    assert status == (1 if failing else 0)
    summary = captured.err.splitlines()
    assert summary[0].startswith(f"goals: {len(failing)} of 21 goals failing" if failing else "goals: all 21 goals met")
    assert [line.split()[0] for line in summary[3:]] == ["NOT"] * len(failing) + ["met"] * (21 - len(failing))
    assert "at an equal budget: our mean <= 0.75 x Power Tuning's (held out)" in text


def test_both_engines_are_offered_the_same_range_and_the_current_size() -> None:
    # Given s025, measured from 512 to 3072 MB, whose current size is 2048 MB
    record = _records("s025")[0]
    curve = Curve(record)
    # Then Power Tuning gets its defaults inside the range, both ends and the current size
    assert fair.power_values(curve, 2048) == [512, 1024, 1536, 2048, 3008, 3072]
    # and ours gets the same range as its memorySizes, the current size being its own baseline
    assert fair.request_for(curve, "cost", 10, 0.0).memory_sizes == [512, 3072]
    draws = fair.Draws(curve, 0)
    run = fair.run_ours(record, curve, draws, 2048)
    assert run.decision is not None
    measured = [row.memory_size for row in run.decision.sizes]
    assert all(512 <= m <= 3072 for m in measured) and 2048 in measured
    theirs = fair.run_power_tuning(record, curve, draws, 2048)
    assert theirs.measured_prices is not None and sorted(theirs.measured_prices) == fair.power_values(curve, 2048)


def test_the_current_sizes_are_four_each_a_quarter_of_the_runs() -> None:
    record = _records("s010")[0]
    sizes = fair.current_sizes(record, 3)
    assert list(sizes) == list(fair.CURRENT_KINDS)
    assert (sizes["smallest"], sizes["nearest 1024"], sizes["largest"]) == (128, 1024, 2048)
    assert sizes["random"] in record.memory_mb and fair.current_sizes(record, 3) == sizes
    # the random one is drawn per seed: over twenty seeds it is not always the same size
    assert len({fair.current_sizes(record, seed)["random"] for seed in range(20)}) > 1
    rows = fair_stats.evaluate([record], 2, strategies=("cost",))
    ours = fair_stats.select(rows, "ours")
    assert len(ours) == 8 and all(sum(r.kind == kind for r in ours) == 2 for kind in fair.CURRENT_KINDS)


def test_the_noise_is_paired_a_function_of_curve_seed_size_and_index() -> None:
    # Given two engines' replays of the same (curve, seed), drawing in different orders
    curve = Curve(_records("s001")[0])
    first, second = fair.Draws(curve, 7), fair.Draws(curve, 7)
    forward = [(m, i, first.duration(m, i)) for m in (128, 512, 3008) for i in range(5)]
    backward = [(m, i, second.duration(m, i)) for m in (3008, 512, 128) for i in reversed(range(5))]
    # Then the i-th invocation at a size has the same Duration in both
    assert sorted(forward) == sorted(backward)
    # and another seed draws other values
    assert fair.Draws(curve, 8).duration(128, 0) != first.duration(128, 0)
    # and the draws do not depend on Python's salted hash: another process with another hash seed agrees
    code = (
        "import sys; sys.path.insert(0, '.'); from benchmarks import _realcurves_runs as fair; "
        "from emulator.curves import Curve, load_curves; "
        "c = Curve(next(r for r in load_curves() if r.id == 's001')); "
        "print(repr(fair.Draws(c, 7).duration(512, 3)))"
    )
    for hash_seed in ("1", "2"):
        value = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert float(value) == first.duration(512, 3)


def test_both_engines_see_the_same_durations_where_they_measure_the_same_size() -> None:
    record = _records("s001")[0]
    curve = Curve(record)
    draws = fair.Draws(curve, 0)
    ours, theirs = (
        fair.Replay(record, draws),
        fair.Replay(record, fair.Draws(curve, 0)),
    )
    # ours measures 512 MB in two rounds (two versions), Power Tuning ten times in one
    mine = ours.batch(512, 2) + ours.batch(512, 3)
    its = theirs.batch(512, 10)
    assert [d for d, _, _ in mine] == [d for d, _, _ in its[:5]]


def test_the_first_invocation_of_every_new_version_is_a_cold_start_with_billed_init(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a record with its own Init Duration and one without
    with_init = CurveRecord(
        id="own", memory_mb=[128, 256, 512], mean_duration_ms=[10.0, 6.0, 5.0], init_duration_ms=400
    )
    plain = CurveRecord(id="plain", memory_mb=[128, 256, 512], mean_duration_ms=[10.0, 6.0, 5.0])
    for record, init in ((with_init, 400.0), (plain, fair.DEFAULT_INIT_MS)):
        replay = fair.Replay(record, fair.Draws(Curve(record), 0))
        results = replay.batch(128, 3)
        # Then the first is cold: its Init Duration (the record's, or the default, at 128 MB) is billed
        (duration, billed, cold_init), *warm = results
        assert cold_init == pytest.approx(init, abs=0.01)
        assert billed == math.ceil(duration + cold_init)
        assert all(i == 0 and b == max(1, math.ceil(d)) for d, b, i in warm)
        # and a second version of the same size starts cold again
        assert replay.batch(128, 2)[0][2] > 0 and replay.cold_starts == 2
    # and more memory speeds up the Init's CPU share (up to one vCPU), as the simulated function does
    assert fair.init_ms(plain, 1769) == pytest.approx(fair.DEFAULT_INIT_MS * (0.7 + 0.3 * 128 / 1769))
    # and both engines pay them: Power Tuning once per size, ours once per size of each round
    record = _records("s010")[0]
    curve = Curve(record)
    theirs = fair.run_power_tuning(record, curve, fair.Draws(curve, 0), 128)
    assert theirs.cold_starts == len(fair.power_values(curve, 128))
    planned: list[int] = []
    next_round = fair.engine.next_round

    def counting(*args: object, **kwargs: object) -> list:
        items = next_round(*args, **kwargs)
        planned.extend(item.memory_size for item in items)
        return items

    monkeypatch.setattr(fair.engine, "next_round", counting)
    ours = fair.run_ours(record, curve, fair.Draws(curve, 0), 128)
    assert ours.cold_starts == len(planned) > len(set(planned))  # a size measured in two rounds starts cold twice


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (
            {"id": "short", "memoryMb": [128, 256], "meanDurationMs": [2.0, 1.0]},
            "[1] (short): memoryMb: 2 sizes, at least 3 needed",
        ),
        ({"id": "unsorted", "memoryMb": [512, 256, 1024], "meanDurationMs": [1, 2, 3]}, "[1] (unsorted): memoryMb"),
        (
            {"id": "twice", "memoryMb": [256, 256, 1024], "meanDurationMs": [1, 2, 3]},
            "[1] (twice): memoryMb: duplicate",
        ),
        ({"id": "zero", "memoryMb": [128, 256, 1024], "meanDurationMs": [1, 0, 3]}, "[1] (zero): meanDurationMs"),
        (
            {"id": "negative", "memoryMb": [128, 256, 1024], "meanDurationMs": [1, -2, 3]},
            "[1] (negative): meanDurationMs",
        ),
    ],
)
def test_a_bad_curve_is_refused_naming_its_id_and_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], record: dict, field: str
) -> None:
    good = {"id": "good", "memoryMb": [128, 512, 2048], "meanDurationMs": [9.0, 3.0, 2.0]}
    path = _write(tmp_path, [good, record])
    with pytest.raises(SystemExit) as exit_:
        benchmarks_main(["realcurves", "--curves", str(path), "--json"])
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert field in captured.err and captured.out == ""


@pytest.mark.parametrize("seeds", ["0", "-3", "two"])
def test_seeds_below_one_are_refused(subset_file: Path, capsys: pytest.CaptureFixture[str], seeds: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        benchmarks_main(["realcurves", "--curves", str(subset_file), "--seeds", seeds])
    assert exit_.value.code == 2
    assert f"--seeds must be a whole number of at least 1, got '{seeds}'" in capsys.readouterr().err


def test_churn_is_scored_against_the_true_saving_and_the_rule() -> None:
    # Given a curve whose 256 MB bills about 3 % less than 128 MB and whose 512 MB about 20 % less
    curve = Curve(CurvePoints(memory_mb=[128, 256, 512], mean_duration_ms=[1000.0, 485.0, 200.0]))
    truth = realcurves.Truth.of(curve)
    cost = truth.scores("cost")
    run = fair.Run(
        memory=0,
        invocations=0,
        cold_starts=0,
        target_gb_seconds=0,
        tuner_gb_seconds=0,
        control_calls=0,
        transitions=0,
        dollars=0,
    )

    def ruled(chosen: int, current: int) -> fair_stats.Outcome:
        return fair_stats._ruled("x", "c", 0, "smallest", run, chosen, current, truth, cost, 0.05)

    # Then a move to 256 MB is needless, a move to 512 MB is not, and keeping 128 MB misses
    assert ruled(256, 128).needless and not ruled(256, 128).miss
    assert not ruled(512, 128).needless and ruled(512, 128).regret == 0
    assert ruled(128, 128).miss and ruled(128, 128).above_rule == pytest.approx(ruled(128, 128).regret)
    # and from 512 MB, the optimum, keeping is neither and its regret above the rule is 0
    assert not ruled(512, 512).miss and ruled(512, 512).above_rule == 0
    # and where the best true saving is below the rule, the rule's target is the current size: a move
    # to the 3 % cheaper size is needless and scored against the current size (here below it)
    near = Curve(CurvePoints(memory_mb=[128, 256, 512], mean_duration_ms=[1000.0, 485.0, 480.0]))
    near_truth = realcurves.Truth.of(near)
    near_cost = near_truth.scores("cost")
    moved = fair_stats._ruled("x", "c", 0, "smallest", run, 256, 128, near_truth, near_cost, 0.05)
    assert moved.needless and moved.above_rule == pytest.approx((near_cost[128] / near_cost[0] - 1) * 100)
    assert -5 < moved.above_rule < 0
    kept = fair_stats._ruled("x", "c", 0, "smallest", run, 128, 128, near_truth, near_cost, 0.05)
    assert not kept.miss and kept.above_rule == 0 and kept.regret > 0


def test_power_tuning_under_the_rule_keeps_the_current_size_unless_its_own_saving_reaches_it() -> None:
    run = fair.Run(
        memory=512,
        invocations=20,
        cold_starts=2,
        target_gb_seconds=0,
        tuner_gb_seconds=0,
        control_calls=0,
        transitions=0,
        dollars=0,
        measured_prices={128: 1.0, 512: 0.96},
    )
    assert fair.power_tuning_keeps(run, 128, 0.05) == 128
    assert fair.power_tuning_keeps(run, 128, 0.04) == 512
    assert fair.power_tuning_keeps(run, 128, 0.0) == 512


def test_the_bootstrap_interval_resamples_curves_and_contains_the_point() -> None:
    import numpy as np

    same = np.ones((5, 8))
    assert fair_stats.bootstrap(fair_stats.mean, same) == (1.0, 1.0, 1.0)
    spread = np.arange(40, dtype=float).reshape(5, 8)
    point, low, high = fair_stats.bootstrap(fair_stats.p95, spread)
    assert low < point <= high
    # paired: the same curves resampled for both, so identical engines differ by exactly 0
    assert fair_stats.bootstrap(lambda a, b: fair_stats.mean(a) - fair_stats.mean(b), spread, spread) == (0, 0, 0)


def test_regret_is_measured_against_the_optimum_over_the_whole_range() -> None:
    # Given a curve measured at 128 and 1024 MB only, linear in log-memory in between
    curve = Curve(CurvePoints(memory_mb=[128, 1024], mean_duration_ms=[1000.0, 100.0]))
    truth = realcurves.Truth.of(curve)
    costs = [m * truth.billed[m - 128] for m in truth.sizes]
    # Then the regret of 128 MB is against the cheapest size anywhere in 128-1024 MB (1 MB steps)
    assert truth.regret_pct(128, "cost") == pytest.approx((costs[0] / min(costs) - 1) * 100)
    assert truth.regret_pct(1024, "speed") == 0
    assert truth.regret_pct(128, "speed") == pytest.approx(900)


def test_the_held_out_set_is_fixed_by_a_hash_of_the_id_and_tuning_only_leaves_it_out(
    subset_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = [r.id for r in load_curves()]
    held = [i for i in ids if realcurves.held_out(i)]
    assert 0.15 < len(held) / len(ids) < 0.35 and realcurves.held_out("s000") and not realcurves.held_out("s001")
    arguments = ["--curves", str(subset_file), "--seeds", "1", "--strategies", "cost", "--tuning-only", "--worst", "3"]
    status = benchmarks_main(["realcurves", *arguments])
    out = capsys.readouterr().out
    assert status == (1 if "  [FAILS] " in out else 0)  # three curves, one seed: a goal may fail, and says so
    assert "s000" not in out and "-- all 3 curves --" in out
    listed = [line for line in out.splitlines() if line.startswith("  ") and " seed " in line]
    assert len(listed) == 3


def test_fine_grained_runs_are_told_apart_from_coarse_ones() -> None:
    records = {r.id: r for r in load_curves()}
    assert realcurves.fine_grained(records["s094"])  # 128-512 MB in 24 MB steps
    assert not realcurves.fine_grained(records["s001"])  # 128, 256, 512, ... 3008
    kept, _ = realcurves.usable(list(records.values()))
    assert len(kept) == 55
