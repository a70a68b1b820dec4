"""``python -m benchmarks`` ends with every goal judged, failing first, and fails when one fails or cannot run.

The runner is exercised with small benchmarks defined here (the real ones take minutes); the docs'
tables are checked for the generated format: a date, the command and the results file they came from.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not an installed package
from benchmarks import _docs, _goals, sweep
from benchmarks.__main__ import available, run_all
from benchmarks._goals import COULD_NOT_RUN, MET, NOT_MET, Result, judge


def met_benchmark(quick: bool) -> Result:
    return Result(goals=[judge("answers in time", "0.2 s", "≤ 1 s", True)], tables={"main": "a  b\n-  -\n1  2"})


def failing_benchmark(quick: bool) -> Result:
    return Result(goals=[judge("zero lost", "3 lost", "0", False, "3 records lost")])


def raising_benchmark(quick: bool) -> Result:
    raise RuntimeError("the embedded AWS refused to start")


def exiting_benchmark(quick: bool) -> Result:
    raise SystemExit(2)


def silent_benchmark(quick: bool) -> Result:
    return Result(goals=[])


def summary_rows(out: str) -> list[str]:
    """The summary's rows: the lines after the 'goals:' verdict and the table's header and rule."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("goals: "))
    return lines[start + 3 :]


def test_the_run_ends_with_every_goal_failing_first_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    benchmarks = {"fast": met_benchmark, "crashes": raising_benchmark, "losses": failing_benchmark}
    goals, status = run_all(benchmarks, quick=True, command="python -m benchmarks --quick", results=tmp_path)
    out = capsys.readouterr().out
    assert status == 1
    # A benchmark that raises is a goal that could not run, with the error as its reason; the next one still ran
    assert [(goal.benchmark, goal.status) for goal in goals] == [
        ("fast", MET),
        ("crashes", COULD_NOT_RUN),
        ("losses", NOT_MET),
    ]
    assert "RuntimeError: the embedded AWS refused to start" in goals[1].reason
    # The summary is the run's last lines: could not run, then not met, then met
    assert out.splitlines()[-6].startswith("goals: 2 of 3 goals failing (1 could not run, 1 NOT met, 1 met)")
    rows = summary_rows(out)
    assert [row.split()[0:2] for row in rows] == [["could", "not"], ["NOT", "met"], ["met", "fast"]]
    assert "crashes" in rows[0] and "RuntimeError: the embedded AWS refused to start" in rows[0]
    assert "losses" in rows[1] and "3 records lost" in rows[1]
    # Every benchmark wrote its results file, the crashed one included
    crashed = json.loads((tmp_path / "crashes.json").read_text())
    assert (
        crashed["goals"][0]["status"] == COULD_NOT_RUN and crashed["command"] == "python -m benchmarks --quick crashes"
    )
    assert json.loads((tmp_path / "fast.json").read_text())["tables"] == {"main": "a  b\n-  -\n1  2"}


def test_an_exit_or_no_goal_at_all_is_a_goal_that_could_not_run(tmp_path: Path) -> None:
    goals, status = run_all(
        {"exits": exiting_benchmark, "silent": silent_benchmark, "fast": met_benchmark},
        quick=False,
        command="python -m benchmarks",
        results=tmp_path,
    )
    assert status == 1
    assert [(goal.benchmark, goal.status) for goal in goals] == [
        ("exits", COULD_NOT_RUN),
        ("silent", COULD_NOT_RUN),
        ("fast", MET),
    ]
    assert goals[0].reason == "SystemExit: 2" and goals[1].reason == "it returned no goal"


def test_only_when_every_goal_is_met_the_run_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, status = run_all({"fast": met_benchmark}, quick=False, command="python -m benchmarks", results=tmp_path)
    assert status == 0
    assert "goals: all 1 goals met (0 could not run, 0 NOT met, 1 met)" in capsys.readouterr().out
    assert _goals.exit_code([]) == 1  # nothing judged is not a pass


def test_a_sweep_the_budget_refuses_is_a_goal_not_met_with_the_refusal_as_its_reason() -> None:
    # A row as sweep() returns it for the 1,000-function sweep at the defaults, refused before any change
    row = {
        "targets": 1000,
        "status": "FAILED",
        "reason": sweep.failure_reason(
            "InvalidInputError",
            json.dumps(
                {
                    "errorMessage": "invocations: the run may invoke its targets 30000 times, over "
                    "MaxInvocationsPerRun 10000",
                    "errorType": "InvalidInputError",
                }
            ),
        ),
        "failedTargets": 0,
        "records": 0,
        "controlPlaneRatio": 0.01,
    }
    goal = sweep.goal(row, "the engine's defaults under the default run budget")
    assert goal.status == NOT_MET
    assert (
        goal.reason == "InvalidInputError: invocations: the run may invoke its targets 30000 times, over "
        "MaxInvocationsPerRun 10000"
    )
    assert goal.value.startswith("FAILED, 0 failed, 0 records")
    # The sweep measures the defaults as well as its 3 fixed sizes at 5 invocations, and says which is which
    assert "memorySizes" not in sweep.DEFAULTS_INPUT and "invocations" not in sweep.DEFAULTS_INPUT
    assert sweep.FIXED_INPUT["memorySizes"] == [256, 512, 1024] and sweep.FIXED_INPUT["invocations"] == 5
    table = sweep.format_table([row | {"input": "defaults", "paced": True, "wallSeconds": 1.0}])
    assert table.splitlines()[-1] == f"1000 targets, defaults: {goal.reason}"


def test_every_docs_table_says_when_it_was_measured_by_which_command_and_from_which_file() -> None:
    blocks = _docs.blocks()
    keys = {block.key for block in blocks}
    assert {"goals", "sweep/sweep", "reliability/plain", "failfast/failfast"} <= keys
    for block in blocks:
        first = block.body.splitlines()[0]
        match = _docs.HEADER.match(first)
        assert match, f"{block.path.name} {block.key}: first line {first!r} is not the generated header"
        if block.key == _docs.GOALS_KEY:
            assert match["source"] == "results/bench/*.json" and "| status | benchmark | goal |" in block.body
            continue
        assert block.benchmark in available(), block.key
        assert match["source"] == f"results/bench/{block.benchmark}.json"
        assert "`python -m benchmarks" in first and block.benchmark in match["command"]
        assert block.body.split("\n", 2)[2].startswith("```\n") and block.body.endswith("```\n"), block.key


def test_the_docs_command_writes_a_block_from_its_results_file_and_keeps_one_without(tmp_path: Path) -> None:
    results = tmp_path / "results"
    started = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
    result = met_benchmark(True)
    result.goals = [replace(goal, benchmark="fast") for goal in result.goals]
    _goals.write(
        "fast", result, command="python -m benchmarks fast", started=started, seconds=1234.4, directory=results
    )
    doc = tmp_path / "doc.md"
    old = "Measured 2026-11-26 by `python -m benchmarks gone`: results/bench/gone.json.\n\n```\nold\n```\n"
    doc.write_text(
        "# Figures\n\n"
        "<!-- bench fast/main: written by python -m benchmarks docs from results/bench/fast.json -->\n"
        "stale\n<!-- end bench fast/main -->\n\n"
        f"<!-- bench gone/main: written by python -m benchmarks docs from results/bench/gone.json -->\n{old}"
        "<!-- end bench gone/main -->\n\n"
        "<!-- bench goals: written by python -m benchmarks docs from results/bench/*.json -->\n"
        "<!-- end bench goals -->\n"
    )
    text, notes = _docs.rewrite(doc, results)
    doc.write_text(text)
    fast, gone, goals = _docs.blocks([doc])
    assert fast.body == (
        "Measured 2026-12-08 by `python -m benchmarks fast` (1,234 s): results/bench/fast.json.\n\n"
        "```\na  b\n-  -\n1  2\n```\n"
    )
    assert gone.body == old and any("gone/main: kept: no gone.json" in note for note in notes)
    assert goals.body.splitlines()[0] == (
        "Measured 2026-12-08 by `python -m benchmarks` (each row: its run's date and command): results/bench/*.json."
    )
    row = "| met | fast | answers in time | 0.2 s | ≤ 1 s | 2026-12-08, `python -m benchmarks fast` | - |"
    assert row in goals.body
    assert text.startswith("# Figures\n\n") and _docs.rewrite(doc, results)[0] == text  # idempotent


def test_without_results_the_docs_command_changes_no_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Only a run writes new figures: with no results files every block keeps its own date
    assert _docs.main(["--results", str(tmp_path), "--check"]) == 0
    notes = capsys.readouterr().out.splitlines()
    assert notes and all(": kept: no " in note for note in notes)
