"""Reports people look at: the text table and the chart PNG (the HTML page: test_html_report.py)."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest

from autotuner import reports

pytest.importorskip("matplotlib")

from report_outcomes import (
    OOM_REASON,
    PNG_MAGIC,
    SUMMARY,
    failed_outcome,
    fixed_size_outcome,
    measured_outcome,
    table_row,
)

# --- text table ----------------------------------------------------------------------------


def test_table_lists_every_size_and_marks_current_chosen_and_excluded():
    # Given a measured target with a current, a chosen and an out-of-memory size
    outcome = measured_outcome()
    # When its table is rendered
    table = reports.render_table(outcome)
    # Then every size has one row, the marks are in the note column and the summary comes last
    for config in outcome["configurations"]:
        table_row(table, config["memorySize"])
    assert table_row(table, 512).endswith("current")
    assert table_row(table, 1769).endswith("chosen")
    assert "excluded: 3/10 failed: Runtime.OutOfMemory" in table_row(table, 128)
    assert OOM_REASON in table
    assert "chosen" not in table_row(table, 3008) and "current" not in table_row(table, 3008)
    assert table.splitlines()[-2] == f"recommendation: {SUMMARY}"
    assert table.splitlines()[-1].startswith("saving: ")
    assert table.splitlines()[0] == "cpu-fn — APPLIED, 512 → 1769 MB — strategy balanced (weight 0.5)"


def test_table_columns_line_up_and_show_units():
    # Given a measured target
    # When its table is rendered
    lines = reports.render_table(measured_outcome()).splitlines()
    header = lines[1]
    # Then the header names the units and each column's numbers end where its header ends
    for heading in (
        "memory MB",
        "trimmed mean ms",
        "p90 ms",
        "cold starts",
        "max used MB",
        "$/invocation",
        "$/million",
    ):
        assert heading in header
    row = table_row("\n".join(lines), 1769)
    assert row[: header.index("$/million") + len("$/million")].endswith("$46.53")
    assert "$0.0000465" in row
    assert "2,011" in row


def test_table_renders_a_stored_run_record():
    # Given a run record (before/after configurations, requested input) rather than a summary outcome
    outcome = measured_outcome()
    record = {
        "target": outcome["target"],
        "outcome": "APPLIED",
        "before": {"MemorySize": 512, "Timeout": 60},
        "after": {"MemorySize": 1769, "Timeout": 60},
        "requested": {"strategy": "balanced", "balancedWeight": 0.5},
        "configurations": outcome["configurations"],
        "recommendation": outcome["recommendation"],
    }
    # When it is rendered
    table = reports.render_table(record)
    # Then it reads like the outcome's table
    assert table == reports.render_table(outcome)


def test_table_of_a_target_without_configurations_says_what_happened():
    # Given a fixed-size outcome and a failed one
    # When they are rendered
    fixed = reports.render_table(fixed_size_outcome())
    failed = reports.render_table(failed_outcome())
    # Then there is no table, only what happened
    assert fixed.splitlines() == [
        "orders-api — APPLIED, 512 → 1024 MB",
        "APPLIED, 512 → 1024 MB: a fixed memory size, nothing measured",
    ]
    assert "FAILED: FunctionNotFoundError: lambda:GetFunction" in failed
    assert "memory MB" not in fixed + failed


# --- chart ---------------------------------------------------------------------------------


def test_chart_is_a_png_of_the_documented_size(tmp_path: Path):
    # Given a measured, simulated target
    outcome = {**measured_outcome(), "simulated": True}
    # When its chart is written
    path = reports.write_chart_png(outcome, tmp_path / "charts" / "cpu-fn.png", subtitle="demo account")
    # Then it is a real PNG that matplotlib reads back at the documented pixel size
    from matplotlib import image

    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 20_000
    assert image.imread(path).shape[:2] == (reports.CHART_HEIGHT_PX, reports.CHART_WIDTH_PX)


def test_chart_leaves_matplotlib_global_state_alone(tmp_path: Path):
    # Given matplotlib's global backend and settings
    import matplotlib

    backend, rc = matplotlib.get_backend(), dict(matplotlib.rcParams)
    # When charts are drawn, for every shape of outcome that has configurations
    unchanged = copy.deepcopy(measured_outcome())
    for config in unchanged["configurations"]:
        config["current"] = config["memorySize"] == 1769
    unchanged["recommendation"]["currentMemorySize"] = 1769
    all_excluded = measured_outcome()
    del all_excluded["recommendation"]
    for config in all_excluded["configurations"]:
        config["excluded"] = OOM_REASON
    for index, outcome in enumerate((measured_outcome(), unchanged, all_excluded)):
        reports.write_chart_png(outcome, tmp_path / f"{index}.png")
    # Then the backend and rcParams are what they were
    assert matplotlib.get_backend() == backend
    assert dict(matplotlib.rcParams) == rc


def test_chart_of_a_target_without_configurations_is_refused(tmp_path: Path):
    # Given a fixed-size outcome
    # When a chart is asked for
    # Then it is refused and no file is written
    with pytest.raises(ValueError, match="no configurations"):
        reports.write_chart_png(fixed_size_outcome(), tmp_path / "orders-api.png")
    assert not (tmp_path / "orders-api.png").exists()


def test_importing_reports_does_not_import_matplotlib():
    # Given a fresh interpreter (the CLI imports this module on every command)
    # When autotuner.reports is imported
    result = subprocess.run(
        [sys.executable, "-c", "import sys, autotuner.reports; print('matplotlib' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    # Then matplotlib is not loaded
    assert result.stdout.strip() == "False"
