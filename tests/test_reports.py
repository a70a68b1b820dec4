"""Reports people look at: the text table, the chart PNG and the self-contained HTML page."""

from __future__ import annotations

import base64
import copy
import html
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from autotuner import reports

pytest.importorskip("matplotlib")

OOM_REASON = "3 of 10 invocations failed: Runtime.OutOfMemory"
# Two dollar signs: a chart that parsed mathtext would garble (or fail on) this text.
SUMMARY = (
    "balanced (weight 0.5): 1769 MB is 71% faster than the current 512 MB at about the same cost; "
    "\u2212$0.12 per million invocations ($46.53 instead of $46.65)"
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def configuration(memory: int, mean: float, cost_per_million: float, **fields: Any) -> dict[str, Any]:
    """One entry of ``configurations`` as the run's JSON output carries it."""
    return {
        "memorySize": memory,
        "current": False,
        "invocations": 10,
        "errors": 0,
        "errorTypes": [],
        "coldStarts": 1,
        "coldStartShare": 0.1,
        "meanMs": mean,
        "p50Ms": mean * 0.99,
        "p90Ms": mean * 1.08,
        "p99Ms": mean * 1.12,
        "billedMeanMs": mean + 0.4,
        "maxMemoryUsedMb": 121,
        "costPerInvocationUsd": cost_per_million / 1_000_000,
        "costPerMillionUsd": cost_per_million,
        **fields,
    }


def measured_outcome(name: str = "cpu-fn") -> dict[str, Any]:
    """A target like ``output.outcomes[]`` of a real run: six sizes, one out of memory, one current."""
    return {
        "target": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        "outcome": "APPLIED",
        "memoryBefore": 512,
        "memoryAfter": 1769,
        "recommendation": {
            "strategy": "balanced",
            "balancedWeight": 0.5,
            "memorySize": 1769,
            "currentMemorySize": 512,
            "meanMs": 2011.1,
            "costPerInvocationUsd": 4.6529e-05,
            "currentMeanMs": 6967.58,
            "currentCostPerInvocationUsd": 4.6654e-05,
            "speedChangePct": -71.1,
            "costChangePct": -0.27,
            "projectedChangePerMillionUsd": -0.12,
            "summary": SUMMARY,
        },
        "configurations": [
            configuration(
                128,
                27562.3,
                46.14,
                errors=3,
                errorTypes=["Runtime.OutOfMemory"],
                maxMemoryUsedMb=128,
                excluded=OOM_REASON,
            ),
            configuration(256, 13711.6, 45.91),
            configuration(512, 6967.58, 46.65, current=True),
            configuration(1024, 3550.0, 47.54),
            configuration(1769, 2011.1, 46.53),
            configuration(3008, 1994.1, 78.34),
        ],
    }


def fixed_size_outcome() -> dict[str, Any]:
    return {
        "target": "arn:aws:lambda:us-east-1:123456789012:function:orders-api",
        "outcome": "APPLIED",
        "memoryBefore": 512,
        "memoryAfter": 1024,
    }


def failed_outcome() -> dict[str, Any]:
    return {
        "target": "arn:aws:lambda:us-east-1:123456789012:function:gone-fn",
        "outcome": "FAILED",
        "errorType": "FunctionNotFoundError",
        "errorMessage": "lambda:GetFunction: ResourceNotFoundException: Function not found",
    }


def run_output(*outcomes: dict[str, Any]) -> dict[str, Any]:
    """The shape ``autotuner local run --json`` prints, reduced to what reports read."""
    execution = {
        "arn": "arn:aws:states:us-east-1:123456789012:execution:TunerStateMachine:run-0123456789ab",
        "startTime": "2026-11-26T18:34:00.188616+00:00",
    }
    return {
        "executionArn": execution["arn"],
        "status": "SUCCEEDED",
        "records": [],
        "output": {"execution": execution, "status": "SUCCEEDED", "counts": {}, "outcomes": list(outcomes)},
    }


def table_row(table: str, memory: int) -> str:
    rows = [line for line in table.splitlines() if re.match(rf"^\s*{memory}\s{{2,}}", line)]
    assert len(rows) == 1, f"expected one row for {memory} MB in:\n{table}"
    return rows[0]


def data_uri_pngs(page: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]


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


# --- HTML ----------------------------------------------------------------------------------


def test_html_report_is_self_contained_with_embedded_charts(tmp_path: Path):
    # Given two measured targets and one fixed-size target
    outcomes = [measured_outcome("cpu-fn"), measured_outcome("io-fn"), fixed_size_outcome()]
    # When the HTML report is written
    path = reports.write_html_report(outcomes, tmp_path / "report.html", title="Tuning run", subtitle="demo")
    page = path.read_text(encoding="utf-8")
    # Then nothing is loaded from elsewhere and each measured target's chart is an embedded PNG
    assert 'src="http' not in page and "src='http" not in page
    assert "<link" not in page.lower()
    assert "<script" not in page.lower()
    assert "@import" not in page and "url(" not in page
    charts = data_uri_pngs(page)
    assert len(charts) == 2
    assert all(chart.startswith(PNG_MAGIC) for chart in charts)
    # And the summary, the table and the fixed-size outcome are there
    assert html.escape(SUMMARY) in page
    assert page.count("<table>") == 3  # the overview and two configuration tables
    assert ">chosen<" in page and ">current<" in page and html.escape(f"excluded: {OOM_REASON}") in page
    assert "orders-api" in page and "a fixed memory size, nothing measured" in page


def test_html_report_escapes_what_the_run_says(tmp_path: Path):
    # Given a target whose name and error carry markup
    malicious = "<script>alert(1)</script>"
    outcome = measured_outcome(malicious)
    failed = {**failed_outcome(), "errorMessage": '<img src="http://evil.example/x.png">'}
    # When the HTML report is written with a title that carries markup too
    path = reports.write_html_report([outcome, failed], tmp_path / "report.html", title="<b>run</b>")
    page = path.read_text(encoding="utf-8")
    # Then all of it is shown as text, never as markup
    assert malicious not in page
    assert html.escape(malicious) in page
    assert "<b>run</b>" not in page and "&lt;b&gt;run&lt;/b&gt;" in page
    assert 'src="http' not in page


# --- a whole run ---------------------------------------------------------------------------


def test_write_reports_writes_a_png_per_measured_function_and_one_html(tmp_path: Path):
    # Given a run with two measured targets, a fixed-size one and a failed one
    output = run_output(measured_outcome("cpu-fn"), measured_outcome("io-fn"), fixed_size_outcome(), failed_outcome())
    # When its reports are written for a simulated account
    paths = reports.write_reports(output, tmp_path / "out", simulated=True)
    # Then there is a PNG per measured function and one HTML page listing every target
    assert [path.name for path in paths] == ["cpu-fn.png", "io-fn.png", "report.html"]
    assert all(path.exists() for path in paths)
    page = paths[-1].read_text(encoding="utf-8")
    assert len(data_uri_pngs(page)) == 2
    for name in ("cpu-fn", "io-fn", "orders-api", "gone-fn"):
        assert f"<h2>{name}</h2>" in page
    assert "FunctionNotFoundError: lambda:GetFunction" in page
    assert "run-0123456789ab" in page and "2026-11-26 18:34:00 UTC" in page
    assert "simulated account" in page


def test_write_reports_of_a_failed_run_lists_its_records(tmp_path: Path):
    # Given a failed run: no summary output, one stored record with the error
    output = {"executionArn": "arn:aws:states:...:run-x", "status": "FAILED", "output": None}
    output["records"] = [{**failed_outcome(), "requested": {"memorySize": 1024, "strategy": "cost"}}]
    # When its reports are written
    paths = reports.write_reports(output, tmp_path)
    # Then only the HTML page is written and it carries the error, without a strategy for a fixed size
    assert paths == [tmp_path / "report.html"]
    page = paths[0].read_text(encoding="utf-8")
    assert "FunctionNotFoundError" in page and "FAILED" in page
    assert "strategy" not in page.split("<main>")[1]


def test_write_reports_names_files_safely_and_uniquely(tmp_path: Path):
    # Given two targets with the same name (different qualifiers) and one with markup in its name
    live, canary = measured_outcome("api"), measured_outcome("api")
    live["target"] += ":live"
    canary["target"] += ":canary"
    # When reports are written
    paths = reports.write_reports(run_output(live, canary, measured_outcome("<b>x</b>")), tmp_path)
    # Then every file stays in the output directory under its own name
    assert [path.name for path in paths] == ["api_live.png", "api_canary.png", "b_x_b.png", "report.html"]
    assert all(path.parent == tmp_path for path in paths)


def test_the_html_report_shows_each_targets_spend_beside_the_run_budgets_bound(tmp_path: Path):
    # Given a measured target whose document says what it spent, and the run budget's estimate for it
    outcome = measured_outcome("cpu-fn")
    for config in outcome["configurations"]:
        config["billedTotalMs"] = 1000.0  # one second at each size, in all
    outcome["spend"] = {"rounds": 3, "tunerInvocations": 14, "tunerGbSeconds": 4.5, "controlPlaneCalls": 71}
    output = run_output(outcome, fixed_size_outcome())
    estimate = {
        "target": outcome["target"],
        "targetInvocations": 90,
        "targetGbSeconds": 1234.5,
        "basis": "timeout",
        "versionsCreated": 8,
        "controlPlaneCalls": 900,
        "stateTransitions": 150,
        "tunerGbSeconds": 600.0,
        "totalUsd": 0.05,
    }
    output["output"]["runCost"] = {"estimated": {"targets": [estimate]}, "counted": {}}
    # When the reports are written
    page = reports.write_reports(output, tmp_path)[-1].read_text(encoding="utf-8")
    # Then the measured target's section says what tuning it spent, each figure beside its bound
    section = page.split('id="target-1"')[1].split("</section>")[0]
    (line,) = re.findall(r'<p class="meta spend">([^<]*)</p>', section)
    sizes_gb = sum(config["memorySize"] for config in outcome["configurations"]) / 1024
    assert line == (
        f"tuning spent 60 target invocations (up to 90), {sizes_gb:.2f} target GB-s (up to 1234.50, bounded by "
        "timeout), 4.50 tuner GB-s (up to 600.0), 71 control-plane calls (up to 900), up to 8 versions"
    )
    # And the fixed-size target, measured by nothing and not in the estimate, has no such line
    assert 'class="meta spend"' not in page.split('id="target-2"')[1]
    # And the caller's document is left as it was
    assert "estimate" not in output["output"]["outcomes"][0]


# --- money and the page's one sentence per function ------------------------------------------


def test_table_says_what_the_decision_saves_a_month_at_the_functions_traffic():
    # Given a measured change saving $0.12 per million, on a function invoked 2,000,000 times a day
    outcome = {**measured_outcome(), "dailyInvocations": 2_000_000}
    # When its table is rendered
    table = reports.render_table(outcome)
    # Then its last line is the saving: 0.12 x 2 x 730 / 24 = $7.30 a month
    assert table.splitlines()[-1] == "saving: saves $7.30 a month at 2,000,000 invocations a day ($0.12 per million)"
    # And without traffic, the saving stays per million and says why
    assert reports.render_table(measured_outcome()).splitlines()[-1] == (
        "saving: saves $0.12 per million invocations (traffic unknown: not priced per month)"
    )


def test_html_report_says_each_recommendation_once_and_leads_with_the_money(tmp_path: Path):
    # Given two measured targets with known traffic
    outcomes = [
        {**measured_outcome("cpu-fn"), "dailyInvocations": 2_000_000},
        {**measured_outcome("io-fn"), "dailyInvocations": 1_000_000},
    ]
    # When their reports are written
    paths = reports.write_reports(run_output(*outcomes), tmp_path / "out")
    page = paths[-1].read_text(encoding="utf-8")
    # Then each recommendation's sentence is on the page once per function: in its card, not in the
    # overview and not in the chart (whose PNG in the page has no subtitle)
    assert page.count(html.escape(SUMMARY)) == 2
    # And the page opens with the month's total and the biggest saving
    assert "Saves $10.95 a month across 2 functions; biggest: cpu-fn $7.30, io-fn $3.65." in page
    # And the overview and each card say each function's saving
    assert page.count("saves $7.30 a month at 2,000,000 invocations a day ($0.12 per million)") == 2
    # And the chart written beside the page keeps its subtitle (it is looked at alone): it differs from the page's
    assert paths[0].read_bytes() not in data_uri_pngs(page)


def test_chart_subtitle_fits_inside_the_image(tmp_path: Path):
    # Given a recommendation whose sentence is longer than a chart line
    outcome = measured_outcome()
    outcome["recommendation"] = {**outcome["recommendation"], "summary": SUMMARY + "; " + SUMMARY}
    # When its chart is drawn
    from io import BytesIO

    from matplotlib.image import imread

    pixels = imread(BytesIO(reports.write_chart_png(outcome, tmp_path / "chart.png").read_bytes()))
    # Then nothing is drawn in the image's last columns at the subtitle's height: no text runs off the right
    top, right_edge = pixels[: reports.CHART_HEIGHT_PX // 8, -6:, :3], 1.0
    assert (top >= right_edge - 1e-6).all(), "the subtitle reaches the image's right edge"
